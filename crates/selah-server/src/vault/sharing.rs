//! Sharing: `GET /api/v1/vault/items/{id}/headers` hands the client what it must rewrap (the
//! metadata and every version's header), and `PUT /api/v1/vault/items/{id}/recipients` stores
//! the rewrapped set for the new recipient list, all versions at once. The payloads are never
//! touched: a share costs a few hundred bytes per version. Unsharing is the same PUT with fewer
//! recipients; the client then uploads the content re-encrypted under a new file key.

use std::collections::HashSet;

use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use selah_store::Scope;
use selah_store::vault_versions::Share;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::blobs::valid_id;
use super::items::{Item, decode_meta, written};
use crate::audit::AuditEvent;
use crate::authz::{Require, perm};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// Most recipients an item may have.
pub const MAX_RECIPIENTS: usize = 64;
/// Largest header accepted, decoded.
const MAX_HEADER: usize = 64 * 1024;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_headers))
        .routes(routes!(put_recipients))
}

/// What a client rewraps to share an item.
#[derive(Debug, Serialize, ToSchema)]
pub struct Headers {
    /// Encrypted metadata, base64.
    pub meta: String,
    /// Current recipients.
    pub recipients: Vec<String>,
    /// Send it back with the change.
    pub row_version: i64,
    /// Each version's current age header, base64, by version id.
    pub headers: BTreeMap<String, String>,
}

/// The rewrapped item for a new recipient list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutRecipientsBody {
    /// The new recipients (the caller stays one in any case).
    pub recipients: Vec<String>,
    /// The metadata encrypted to them, base64.
    pub meta: String,
    /// Every version's header rewrapped for them, base64, by version id.
    pub headers: BTreeMap<String, String>,
    /// The `row_version` the headers were read at.
    pub row_version: i64,
}

/// Checks a recipient list: not too long, ids well formed, and every one a user with a vault
/// identity whom the caller may share with (in a team context: a member of that team; else
/// the caller or someone who shares a team with them).
pub(crate) async fn check_recipients(
    state: &AppState,
    scope: &Scope,
    recipients: &[String],
) -> ApiResult<()> {
    if recipients.len() > MAX_RECIPIENTS {
        return Err(ApiError::validation(format!(
            "an item has at most {MAX_RECIPIENTS} recipients"
        )));
    }
    for r in recipients {
        if !valid_id(r) {
            return Err(ApiError::validation("recipients must be user ids"));
        }
        let key = state.store.vault_public_key(scope.user_id(), r).await?;
        let in_team = match scope.team_id() {
            Some(team) => state.store.team_role(team, r).await?.is_some(),
            None => true,
        };
        if key.is_none() || !in_team {
            return Err(ApiError::validation(format!(
                "recipient {r} is not someone this item can be shared with here \
                 (a user with a vault who shares a team with you, and a member of this \
                 item's team for a team item)"
            )));
        }
    }
    Ok(())
}

/// The metadata, recipients and every version's header, for the caller to rewrap.
#[utoipa::path(
    get, path = "/api/v1/vault/items/{id}/headers", tag = "vault",
    params(("id" = String, Path, description = "The item")),
    responses(
        (status = 200, description = "What to rewrap", body = Headers),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs vault.use", body = ErrorBody),
        (status = 404, description = "No such item in the caller's scope", body = ErrorBody),
    )
)]
async fn get_headers(
    State(state): State<AppState>,
    auth: Require<perm::VaultUse>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Headers>> {
    if !valid_id(&id) {
        return Err(ApiError::not_found("vault item"));
    }
    // Read the item before the headers: a share PUT in between makes row_version stale, so
    // a mixed read can never be written back.
    let item = state
        .store
        .vault_item(&auth.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("vault item"))?;
    let headers = state.store.vault_headers(&auth.scope, &id).await?;
    Ok(axum::Json(Headers {
        meta: BASE64.encode(&item.meta),
        recipients: item.recipients,
        row_version: item.row_version,
        headers: headers
            .into_iter()
            .map(|(v, h)| (v, BASE64.encode(h)))
            .collect(),
    }))
}

/// Shares or unshares: stores the metadata and every version's header rewrapped by the
/// client for the new recipients.
#[utoipa::path(
    put, path = "/api/v1/vault/items/{id}/recipients", tag = "vault",
    request_body = PutRecipientsBody,
    params(("id" = String, Path, description = "The item")),
    responses(
        (status = 200, description = "Shared", body = Item),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs vault.use", body = ErrorBody),
        (status = 404, description = "No such live item the caller may change", body = ErrorBody),
        (status = 409, description = "Stale row_version, or not one header per version", body = ErrorBody),
        (status = 422, description = "Bad recipients, meta or header", body = ErrorBody),
    )
)]
async fn put_recipients(
    State(state): State<AppState>,
    client: ClientInfo,
    auth: Require<perm::VaultUse>,
    Path(id): Path<String>,
    Json(body): Json<PutRecipientsBody>,
) -> ApiResult<axum::Json<Item>> {
    if !valid_id(&id) {
        return Err(ApiError::not_found("vault item"));
    }
    let me = auth.user.id();
    let mut recipients: Vec<String> = body.recipients.clone();
    recipients.push(me.to_string());
    let unique: HashSet<&String> = recipients.iter().collect();
    check_recipients(&state, &auth.scope, &body.recipients).await?;
    let meta = decode_meta(&body.meta)?;
    let stanzas_expected = unique.len();
    let mut headers = Vec::with_capacity(body.headers.len());
    for (version, b64) in &body.headers {
        if b64.len() > MAX_HEADER / 3 * 4 + 8 {
            return Err(ApiError::validation("a header is at most 64 KiB"));
        }
        let bytes = BASE64
            .decode(b64.trim())
            .map_err(|_| ApiError::validation("headers must be base64"))?;
        let header = selah_vault::Header::parse(&bytes).map_err(|e| {
            ApiError::validation(format!(
                "the header of version {version} is not an age header ({e})"
            ))
        })?;
        // Anything after the header would be stored as part of it and break the file.
        if header.len() != bytes.len() || header.stanzas().len() != stanzas_expected {
            return Err(ApiError::validation(format!(
                "the header of version {version} must be an age header alone, with one \
                 stanza per recipient ({stanzas_expected})"
            )));
        }
        headers.push((version.clone(), bytes));
    }
    let before = state.store.vault_item(&auth.scope, &id).await?;
    let share = state
        .store
        .share_vault_item(
            &auth.scope,
            &id,
            &body.recipients,
            &meta,
            &headers,
            body.row_version,
        )
        .await?;
    let item = match share {
        Share::Write(w) => written(w, me)?,
        Share::VersionsDiffer => {
            return Err(ApiError::conflict(
                "send exactly one header per version of the item (a version was added or \
                 removed since the headers were read)",
            ));
        }
    };
    let old: HashSet<String> = before
        .map(|b| b.recipients.into_iter().collect())
        .unwrap_or_default();
    let new: HashSet<String> = item.recipients.iter().cloned().collect();
    state
        .audit
        .record(
            AuditEvent::new("vault.item_shared", "update")
                .user(me)
                .resource("vault_item", &id)
                .details(json!({
                    "added": new.difference(&old).collect::<Vec<_>>(),
                    "removed": old.difference(&new).collect::<Vec<_>>(),
                    "versions": headers.len(),
                }))
                .client(&client),
        )
        .await;
    Ok(axum::Json(item))
}
