//! `GET /api/v1/vault/items/{id}/content`: an item version's age file, streamed. The body is
//! the version's current header (from the database) followed by the payload (from the blob
//! file, after its original header). The whole blob is hashed as it is read; if it no longer
//! has the SHA-256 stored at upload, the body is cut off before its end, so the client sees a
//! failed transfer (and age's STREAM a truncated file) rather than corrupt bytes presented as
//! good, and the corruption is logged.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::blobs::valid_id;
use crate::audit::AuditEvent;
use crate::authz::{Require, perm};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Query;
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(download))
}

/// Which version.
#[derive(Debug, Deserialize, IntoParams)]
pub struct VersionQuery {
    /// A version id; the current version if absent.
    pub version: Option<String>,
}

/// The item's age file (current version unless `version` is given).
#[utoipa::path(
    get, path = "/api/v1/vault/items/{id}/content", tag = "vault",
    params(("id" = String, Path, description = "The item"), VersionQuery),
    responses(
        (status = 200, description = "The age file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs vault.use", body = ErrorBody),
        (status = 404, description = "No such item, version or content in the caller's scope", body = ErrorBody),
    )
)]
async fn download(
    State(state): State<AppState>,
    client: ClientInfo,
    auth: Require<perm::VaultUse>,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<Response> {
    let version = q.version.as_deref();
    if !valid_id(&id) || version.is_some_and(|v| !valid_id(v)) {
        return Err(ApiError::not_found("vault item content"));
    }
    let blob = state
        .store
        .vault_version_blob(&auth.scope, &id, version)
        .await?
        .ok_or_else(|| ApiError::not_found("vault item content"))?;
    let source = state
        .vault
        .blobs
        .open(&blob.id)
        .await
        .map_err(|e| ApiError::internal(format!("vault blob {}: {e}", blob.id)))?;
    let size = blob.header.len() as u64 + (blob.blob_size - blob.payload_offset) as u64;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let _ = tx.send(Ok(Bytes::from(blob.header.clone()))).await;
    tokio::spawn(forward_checked(source, blob.clone(), tx));
    let body = Body::from_stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    state
        .audit
        .record(
            AuditEvent::new("vault.item_downloaded", "read")
                .user(auth.user.id())
                .resource("vault_item", &id)
                .details(json!({"version_id": blob.id, "size": size}))
                .client(&client),
        )
        .await;
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Forwards the blob's payload, hashing all of it; ends with an error instead of the last
/// bytes if the blob is not what was stored.
async fn forward_checked(
    mut source: super::blobs::BlobStream,
    blob: selah_store::vault_versions::VersionBlob,
    tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
) {
    let mut hasher = Sha256::new();
    let mut pos = 0u64;
    let total = blob.blob_size as u64;
    let skip = blob.payload_offset as u64;
    // The last piece is held back until the hash is known.
    let mut held: Option<Bytes> = None;
    let failure = loop {
        let chunk = match source.next().await {
            None => break (pos != total).then(|| format!("blob is {pos} bytes, not {total}")),
            Some(Ok(c)) => c,
            Some(Err(e)) => break Some(format!("reading the blob: {e}")),
        };
        hasher.update(&chunk);
        let n = chunk.len();
        let start = skip.saturating_sub(pos).min(n as u64) as usize;
        pos += n as u64;
        if pos > total {
            break Some(format!("blob is longer than {total} bytes"));
        }
        if let Some(prev) = held.take()
            && tx.send(Ok(prev)).await.is_err()
        {
            return; // the client went away
        }
        if start < n {
            held = Some(chunk.slice(start..));
        }
    };
    let failure = failure.or_else(|| {
        let got = hex::encode(hasher.finalize());
        (got != blob.sha256).then(|| format!("SHA-256 is {got}, stored {}", blob.sha256))
    });
    match failure {
        None => {
            if let Some(last) = held {
                let _ = tx.send(Ok(last)).await;
            }
        }
        Some(why) => {
            tracing::error!(version = %blob.id, %why, "vault blob is corrupt: download cut off");
            let _ = tx
                .send(Err(std::io::Error::other("vault blob is corrupt")))
                .await;
        }
    }
}
