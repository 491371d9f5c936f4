//! Resumable uploads of vault versions, speaking tus 1.0 (core, creation, termination,
//! expiration): `OPTIONS|POST /api/v1/vault/uploads`, `HEAD|PATCH|DELETE
//! /api/v1/vault/uploads/{id}`. See docs/VAULT.md.
//!
//! The bytes go to a partial file that is only ever appended to, so after a crash its length
//! is exactly what was received: that is the offset a client resumes from. The SHA-256 of the
//! whole file is computed as the bytes arrive (kept between PATCH requests in memory; after a
//! restart the partial file is hashed once more) and must equal the one the client gives:
//! announced in `Upload-Metadata` at creation, or in a `Selah-Upload-Sha256` header on the
//! PATCH that completes the upload (so a client can hash while it sends, in one pass; without
//! either, the last byte leaves the upload waiting for an empty PATCH that carries it). Once the
//! last byte and the hash are in, the file must start with a valid age header; the version is
//! then committed and the file renamed into the blob area (`blobs.rs`).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::StreamExt;
use selah_core::ErrorCode;
use selah_store::vault_versions::VaultUpload;
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::blobs::valid_id;
use crate::audit::AuditEvent;
use crate::authz::{Require, perm};
use crate::error::{ApiError, ErrorBody};
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// The tus version spoken.
const TUS_VERSION: &str = "1.0.0";
/// Bytes gathered before one write to disk (and one hashing step) off the async threads.
const WRITE_BATCH: usize = 1 << 20;
/// An age header is small (about 100 bytes per recipient); a file whose header does not end
/// within this many bytes is refused.
const MAX_HEADER: usize = 256 << 10;

const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
const UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
const UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
const TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
/// The whole file's SHA-256 (hex), when it was not announced at creation.
const UPLOAD_SHA256: HeaderName = HeaderName::from_static("selah-upload-sha256");
/// The id of the version a completed upload became.
const VERSION_ID: HeaderName = HeaderName::from_static("selah-version-id");

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(options_uploads, create_upload))
        .routes(routes!(head_upload, patch_upload, delete_upload))
}

/// The hashing state of uploads, between their PATCH requests; a lock per upload so that two
/// requests never append to one file at once.
#[derive(Default)]
pub struct InFlight(Mutex<HashMap<String, Arc<tokio::sync::Mutex<Hashed>>>>);

/// SHA-256 of an upload's first `len` bytes.
#[derive(Default)]
pub struct Hashed(Option<(u64, Sha256)>);

impl InFlight {
    fn slot(&self, id: &str) -> Arc<tokio::sync::Mutex<Hashed>> {
        let mut map = self.0.lock().expect("in-flight map lock");
        map.entry(id.to_string()).or_default().clone()
    }

    fn forget(&self, id: &str) {
        self.0.lock().expect("in-flight map lock").remove(id);
    }
}

/// An error with the `Tus-Resumable` header every tus response carries.
struct TusError(ApiError);

impl From<ApiError> for TusError {
    fn from(e: ApiError) -> Self {
        TusError(e)
    }
}

impl IntoResponse for TusError {
    fn into_response(self) -> Response {
        let mut res = self.0.into_response();
        res.headers_mut()
            .insert(TUS_RESUMABLE, HeaderValue::from_static(TUS_VERSION));
        res
    }
}

type TusResult = Result<Response, TusError>;

fn tus_response(status: StatusCode, headers: &[(HeaderName, String)]) -> Response {
    let mut res = status.into_response();
    let h = res.headers_mut();
    h.insert(TUS_RESUMABLE, HeaderValue::from_static(TUS_VERSION));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name.clone(), v);
        }
    }
    res
}

fn check_version(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(&TUS_RESUMABLE).map(|v| v.as_bytes()) {
        Some(b"1.0.0") => Ok(()),
        _ => Err(ApiError::new(
            ErrorCode::PreconditionFailed,
            "send Tus-Resumable: 1.0.0 (the only tus version spoken here)",
        )),
    }
}

fn number_header(headers: &HeaderMap, name: &HeaderName) -> Result<u64, ApiError> {
    headers
        .get(name)
        .ok_or_else(|| ApiError::bad_request(format!("the {name} header is missing")))?
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| ApiError::bad_request(format!("{name} must be a whole number of bytes")))
}

/// `item` and, if announced, `sha256` from `Upload-Metadata` (comma-separated
/// `key base64value` pairs).
fn parse_metadata(headers: &HeaderMap) -> Result<(String, Option<String>), ApiError> {
    let raw = headers
        .get(&UPLOAD_METADATA)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::bad_request("Upload-Metadata must name the item"))?;
    let (mut item, mut sha) = (None, None);
    for pair in raw.split(',') {
        let mut parts = pair.trim().splitn(2, ' ');
        let key = parts.next().unwrap_or_default();
        let value = parts
            .next()
            .and_then(|v| BASE64.decode(v.trim()).ok())
            .and_then(|v| String::from_utf8(v).ok())
            .ok_or_else(|| {
                ApiError::bad_request(format!("Upload-Metadata: {key:?} needs a base64 value"))
            })?;
        match key {
            "item" => item = Some(value),
            "sha256" => sha = Some(value.to_ascii_lowercase()),
            // Other keys (tus-js-client sends filename, filetype) are not kept: a file name
            // is exactly what the server must not learn.
            _ => {}
        }
    }
    let item = item
        .filter(|i| valid_id(i))
        .ok_or_else(|| ApiError::bad_request("Upload-Metadata: `item` must be an item id"))?;
    let sha = sha
        .map(|s| {
            is_sha256_hex(&s).then_some(s).ok_or_else(|| {
                ApiError::bad_request("Upload-Metadata: `sha256` must be 64 hex digits")
            })
        })
        .transpose()?;
    Ok((item, sha))
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The SHA-256 the upload must have: the one announced at creation, or the one this PATCH
/// carries (which may not contradict it).
fn expected_sha256(upload: &VaultUpload, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let given = match headers.get(&UPLOAD_SHA256) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| is_sha256_hex(s))
                .ok_or_else(|| {
                    ApiError::bad_request("Selah-Upload-Sha256 must be 64 hex digits")
                })?,
        ),
    };
    match (&upload.sha256, given) {
        (Some(announced), Some(given)) if *announced != given => Err(ApiError::bad_request(
            "Selah-Upload-Sha256 differs from the sha256 announced when the upload was created",
        )),
        (Some(announced), _) => Ok(Some(announced.clone())),
        (None, given) => Ok(given),
    }
}

fn expires_at(state: &AppState) -> i64 {
    selah_store::now_ms() + i64::from(state.config.vault.upload_expiry_hours) * 3_600_000
}

fn http_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

async fn own_upload(state: &AppState, user: &str, id: &str) -> Result<VaultUpload, ApiError> {
    if !valid_id(id) {
        return Err(ApiError::not_found("upload"));
    }
    state
        .store
        .vault_upload(user, id)
        .await?
        .ok_or_else(|| ApiError::not_found("upload"))
}

/// What the server supports.
#[utoipa::path(
    options, path = "/api/v1/vault/uploads", tag = "vault",
    responses((status = 204, description = "Tus-Version, Tus-Extension, Tus-Max-Size"))
)]
async fn options_uploads(State(state): State<AppState>) -> Response {
    tus_response(
        StatusCode::NO_CONTENT,
        &[
            (HeaderName::from_static("tus-version"), TUS_VERSION.into()),
            (
                HeaderName::from_static("tus-extension"),
                "creation,termination,expiration".into(),
            ),
            (
                HeaderName::from_static("tus-max-size"),
                state.config.vault.max_file_bytes.to_string(),
            ),
        ],
    )
}

/// Starts an upload of a new version of an item.
#[utoipa::path(
    post, path = "/api/v1/vault/uploads", tag = "vault",
    params(
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Length" = u64, Header, description = "Bytes of the age file"),
        ("Upload-Metadata" = String, Header, description = "`item <base64 id>` and optionally `,sha256 <base64 of the hex SHA-256>` (else it comes with the completing PATCH)"),
    ),
    responses(
        (status = 201, description = "Created: Location names the upload"),
        (status = 400, description = "Malformed headers", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs vault.use", body = ErrorBody),
        (status = 404, description = "No such file or note the caller may change", body = ErrorBody),
        (status = 412, description = "Unsupported tus version", body = ErrorBody),
        (status = 413, description = "Larger than vault.max_file_bytes", body = ErrorBody),
    )
)]
async fn create_upload(
    State(state): State<AppState>,
    auth: Require<perm::VaultUse>,
    headers: HeaderMap,
) -> TusResult {
    check_version(&headers)?;
    let length = number_header(&headers, &UPLOAD_LENGTH)?;
    if length == 0 {
        return Err(ApiError::validation("an age file is never empty").into());
    }
    if length > state.config.vault.max_file_bytes {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "the file is larger than the vault's limit of {} bytes",
                state.config.vault.max_file_bytes
            ),
        )
        .into());
    }
    let (item, sha256) = parse_metadata(&headers)?;
    let length = i64::try_from(length).map_err(|_| ApiError::bad_request("Upload-Length"))?;
    let upload = state
        .store
        .create_vault_upload(
            &auth.scope,
            &item,
            length,
            sha256.as_deref(),
            expires_at(&state),
        )
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| ApiError::not_found("vault file or note"))?;
    Ok(tus_response(
        StatusCode::CREATED,
        &[
            (
                header::LOCATION,
                format!("{}{}", super::UPLOADS_PATH, upload.id),
            ),
            (UPLOAD_EXPIRES, http_date(upload.expires_at)),
        ],
    ))
}

/// How much of the upload the server holds.
#[utoipa::path(
    head, path = "/api/v1/vault/uploads/{id}", tag = "vault",
    params(("id" = String, Path, description = "The upload")),
    responses(
        (status = 200, description = "Upload-Offset and Upload-Length"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Needs vault.use"),
        (status = 404, description = "No such upload of the caller's (finished, abandoned or expired)"),
    )
)]
async fn head_upload(
    State(state): State<AppState>,
    auth: Require<perm::VaultUse>,
    Path(id): Path<String>,
) -> TusResult {
    let upload = own_upload(&state, auth.user.id(), &id).await?;
    let offset = state
        .vault
        .blobs
        .partial_len(&id)
        .map_err(ApiError::internal)?;
    Ok(tus_response(
        StatusCode::OK,
        &[
            (UPLOAD_OFFSET, offset.to_string()),
            (UPLOAD_LENGTH, upload.length.to_string()),
            (UPLOAD_EXPIRES, http_date(upload.expires_at)),
        ],
    ))
}

/// Abandons an upload.
#[utoipa::path(
    delete, path = "/api/v1/vault/uploads/{id}", tag = "vault",
    params(("id" = String, Path, description = "The upload")),
    responses(
        (status = 204, description = "Gone"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs vault.use", body = ErrorBody),
        (status = 404, description = "No such upload of the caller's", body = ErrorBody),
    )
)]
async fn delete_upload(
    State(state): State<AppState>,
    auth: Require<perm::VaultUse>,
    Path(id): Path<String>,
) -> TusResult {
    let upload = own_upload(&state, auth.user.id(), &id).await?;
    let slot = state.vault.in_flight.slot(&id);
    let _writing = slot.try_lock().map_err(|_| busy())?;
    state
        .store
        .delete_vault_upload(auth.user.id(), &upload.id)
        .await
        .map_err(ApiError::from)?;
    state
        .vault
        .blobs
        .remove(&id)
        .await
        .map_err(ApiError::internal)?;
    state.vault.in_flight.forget(&id);
    Ok(tus_response(StatusCode::NO_CONTENT, &[]))
}

fn busy() -> ApiError {
    ApiError::conflict("another request is writing this upload; retry when it has finished")
}

/// Appends bytes at the offset the server holds; completes the version at the last byte.
#[utoipa::path(
    patch, path = "/api/v1/vault/uploads/{id}", tag = "vault",
    params(
        ("id" = String, Path, description = "The upload"),
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Offset" = u64, Header, description = "Where these bytes go: the server's offset"),
        ("Selah-Upload-Sha256" = Option<String>, Header, description = "The whole file's SHA-256 (hex) when it was not announced at creation; the upload completes with the PATCH that carries it once every byte is in"),
    ),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses(
        (status = 204, description = "Appended: Upload-Offset is the new offset; Selah-Version-Id once complete (every byte in and the SHA-256 known)"),
        (status = 400, description = "Malformed headers, a SHA-256 that contradicts the announced one, or more bytes than announced", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs vault.use", body = ErrorBody),
        (status = 404, description = "No such upload of the caller's", body = ErrorBody),
        (status = 409, description = "Not the server's offset, or another request is writing", body = ErrorBody),
        (status = 412, description = "Unsupported tus version", body = ErrorBody),
        (status = 415, description = "Not application/offset+octet-stream", body = ErrorBody),
        (status = 422, description = "Complete, but not an age file (discarded)", body = ErrorBody),
        (status = 460, description = "Complete, but not the SHA-256 the client gave (discarded)", body = ErrorBody),
    )
)]
async fn patch_upload(
    State(state): State<AppState>,
    client: ClientInfo,
    auth: Require<perm::VaultUse>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> TusResult {
    check_version(&headers)?;
    if headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes())
        != Some(b"application/offset+octet-stream")
    {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the bytes as application/offset+octet-stream",
        )
        .into());
    }
    let claimed = number_header(&headers, &UPLOAD_OFFSET)?;
    let user = auth.user.id();
    let upload = own_upload(&state, user, &id).await?;
    let expected = expected_sha256(&upload, &headers)?;
    let slot = state.vault.in_flight.slot(&id);
    let mut hashed = slot.try_lock().map_err(|_| busy())?;
    let blobs = state.vault.blobs.clone();
    let offset = blobs.partial_len(&id).map_err(ApiError::internal)?;
    if claimed != offset {
        return Err(ApiError::conflict(format!(
            "Upload-Offset is {claimed} but the server holds {offset} bytes: send from {offset}"
        ))
        .into());
    }
    let length = upload.length as u64;
    let hasher = match hashed.0.take() {
        Some((len, h)) if len == offset => h,
        // A restart (or a lost request) forgot the state: hash what the file holds.
        _ => hash_prefix(&blobs, &id, offset).await?,
    };
    let received = append(&blobs, &id, offset, length, hasher, body).await?;
    let (now, hasher, body_error) = received;
    state
        .store
        .touch_vault_upload(&id, expires_at(&state))
        .await
        .map_err(ApiError::from)?;
    if let Some(e) = body_error {
        hashed.0 = Some((now, hasher));
        return Err(e.into());
    }
    let Some(expected) = expected.filter(|_| now == length) else {
        // More to come, or every byte is in and the SHA-256 is still to come.
        hashed.0 = Some((now, hasher));
        return Ok(tus_response(
            StatusCode::NO_CONTENT,
            &[(UPLOAD_OFFSET, now.to_string())],
        ));
    };
    let finished = complete(&state, &upload, hasher, &expected).await;
    state.vault.in_flight.forget(&id);
    let version = match finished {
        Ok(v) => v,
        Err(e) => {
            // A complete upload that is not what was announced is discarded: resuming it
            // cannot make it right.
            let _ = state.store.delete_vault_upload(user, &id).await;
            let _ = blobs.remove(&id).await;
            return Err(e.into());
        }
    };
    state
        .audit
        .record(
            AuditEvent::new("vault.version_uploaded", "create")
                .user(user)
                .resource("vault_item", &upload.item_id)
                .details(json!({"version_id": version.id, "size": version.size}))
                .client(&client),
        )
        .await;
    Ok(tus_response(
        StatusCode::NO_CONTENT,
        &[(UPLOAD_OFFSET, now.to_string()), (VERSION_ID, version.id)],
    ))
}

/// Hashes the first `len` bytes of an upload's partial file.
async fn hash_prefix(blobs: &super::blobs::Blobs, id: &str, len: u64) -> Result<Sha256, ApiError> {
    let path = blobs.partial(id);
    tokio::task::spawn_blocking(move || -> std::io::Result<Sha256> {
        let mut hasher = Sha256::new();
        if len == 0 {
            return Ok(hasher);
        }
        let file = std::fs::File::open(path)?;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file.take(len));
        std::io::copy(&mut reader, &mut hasher)?;
        Ok(hasher)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

/// Appends the request body to the partial file, hashing it, in batches written off the async
/// threads (one batch being written while the next is gathered). Stops at `length`: a body
/// with more bytes is an error after the bytes that fit are kept. The bytes received before a
/// broken connection are kept too (the client resumes after them). Returns the new offset, the
/// hash state and the error that ended the body early, if any.
async fn append(
    blobs: &super::blobs::Blobs,
    id: &str,
    offset: u64,
    length: u64,
    hasher: Sha256,
    body: Body,
) -> Result<(u64, Sha256, Option<ApiError>), ApiError> {
    blobs.ensure_dirs().map_err(ApiError::internal)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(blobs.partial(id))
        .map_err(ApiError::internal)?;
    // The file, the hash, and the spare buffer: two buffers in all, reused, so memory stays
    // flat however long the upload.
    type Writer = (std::fs::File, Sha256, Vec<u8>);
    let write = |(mut file, mut hasher, _): Writer, mut batch: Vec<u8>| {
        tokio::task::spawn_blocking(move || -> std::io::Result<Writer> {
            file.write_all(&batch)?;
            hasher.update(&batch);
            batch.clear();
            Ok((file, hasher, batch))
        })
    };
    let mut in_flight: Option<tokio::task::JoinHandle<std::io::Result<Writer>>> = None;
    let mut idle: Option<Writer> = Some((file, hasher, Vec::with_capacity(WRITE_BATCH)));
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    let mut now = offset;
    let mut stream = body.into_data_stream();
    let mut ended_early = None;
    loop {
        let chunk = match stream.next().await {
            None => None,
            Some(Ok(chunk)) => Some(chunk),
            Some(Err(e)) => {
                ended_early = Some(ApiError::bad_request(format!(
                    "the upload's body broke off: {e}"
                )));
                None
            }
        };
        let done = chunk.is_none();
        if let Some(chunk) = chunk {
            let room = (length - now) as usize;
            let take = chunk.len().min(room);
            batch.extend_from_slice(&chunk[..take]);
            now += take as u64;
            if take < chunk.len() {
                ended_early = Some(ApiError::bad_request(format!(
                    "the body goes past the upload's length of {length} bytes"
                )));
            }
        }
        let stop = done || ended_early.is_some();
        if batch.len() >= WRITE_BATCH || (stop && !batch.is_empty()) {
            let (file, hasher, spare) = match in_flight.take() {
                Some(h) => h
                    .await
                    .map_err(ApiError::internal)?
                    .map_err(ApiError::internal)?,
                None => idle
                    .take()
                    .expect("a writer is idle when none is in flight"),
            };
            let full = std::mem::replace(&mut batch, spare);
            in_flight = Some(write((file, hasher, Vec::new()), full));
        }
        if stop {
            break;
        }
    }
    let (file, hasher, _) = match in_flight {
        Some(h) => h
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?,
        None => idle.expect("a writer is idle when none is in flight"),
    };
    // The offset a client is told must survive a crash.
    tokio::task::spawn_blocking(move || file.sync_data())
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok((now, hasher, ended_early))
}

/// Checks a complete upload (SHA-256, age header), commits the version and publishes the blob.
async fn complete(
    state: &AppState,
    upload: &VaultUpload,
    hasher: Sha256,
    expected: &str,
) -> Result<selah_store::vault_versions::VaultVersion, ApiError> {
    let got = hex::encode(hasher.finalize());
    if got != expected {
        return Err(ApiError::new(
            ErrorCode::ChecksumMismatch,
            format!(
                "the bytes received have SHA-256 {got}, not the {expected} the client gave; the upload was discarded"
            ),
        ));
    }
    let blobs = state.vault.blobs.clone();
    let id = upload.id.clone();
    let header = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ApiError> {
        let mut head = Vec::new();
        std::fs::File::open(blobs.partial(&id))
            .and_then(|f| f.take(MAX_HEADER as u64).read_to_end(&mut head))
            .map_err(ApiError::internal)?;
        let header = selah_vault::Header::parse(&head).map_err(|e| {
            ApiError::validation(format!(
                "the upload is not an age file ({e}); it was discarded"
            ))
        })?;
        Ok(header.as_bytes().to_vec())
    })
    .await
    .map_err(ApiError::internal)??;
    let version = state
        .store
        .complete_vault_upload(upload, &header, expected)
        .await?
        .ok_or_else(|| ApiError::not_found("upload"))?;
    // Committed: a failure from here on leaves the file under uploads/, where reads find it
    // and the next start publishes it.
    if let Err(e) = state.vault.blobs.publish(&upload.id).await {
        tracing::warn!(version = %upload.id, error = %e, "vault: could not publish a blob yet");
    }
    Ok(version)
}
