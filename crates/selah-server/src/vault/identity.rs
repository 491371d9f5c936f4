//! `GET|PUT /api/v1/vault/identity` (the caller's own vault identity) and
//! `GET /api/v1/vault/public-keys/{user_id}` (someone's public key, to share items with them).
//! Needs `vault.use`. Personal in every context.
//!
//! A PUT creates the identity (`version` 0) or re-wraps it after a passphrase change
//! (`version` = the stored one, same public key): a stale version is refused with 409 so that
//! two devices changing the passphrase at once cannot lose one of the changes, and a different
//! public key is refused because every item is encrypted to the stored one. The server checks
//! only the format (`selah_vault::check_wrapped_identity`); it never sees the passphrase.

use axum::extract::{Path, State};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use selah_store::vault_identities::{PutIdentity, VaultIdentity};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit::AuditEvent;
use crate::authz::{Require, perm};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_identity, put_identity))
        .routes(routes!(get_public_key))
}

/// A vault identity as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Identity {
    /// The X25519 public key (`age1…`).
    pub public_key: String,
    /// The private key as a binary age file encrypted to the vault passphrase, base64.
    pub wrapped_identity: String,
    /// 1 when made, one more at each re-wrap; send it back with the next re-wrap.
    pub version: i64,
    /// When it was made (ms since the epoch).
    pub created_at: i64,
    /// When it was last re-wrapped.
    pub updated_at: i64,
}

impl From<VaultIdentity> for Identity {
    fn from(v: VaultIdentity) -> Self {
        Identity {
            public_key: v.public_key,
            wrapped_identity: BASE64.encode(&v.wrapped_identity),
            version: v.version,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// A new identity, or a re-wrap of the stored one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutIdentityBody {
    /// The X25519 public key (`age1…`); a re-wrap keeps the stored one.
    pub public_key: String,
    /// The private key as a binary age file encrypted to the vault passphrase alone, base64
    /// (at most 4 KiB decoded).
    pub wrapped_identity: String,
    /// The stored version this replaces: 0 to create.
    pub version: i64,
}

/// Someone's public key.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicKey {
    /// The user.
    pub user_id: String,
    /// Their X25519 public key (`age1…`).
    pub public_key: String,
}

/// The caller's vault identity.
#[utoipa::path(
    get, path = "/api/v1/vault/identity", tag = "vault",
    responses(
        (status = 200, description = "The identity", body = Identity),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs vault.use", body = ErrorBody),
        (status = 404, description = "No vault identity yet", body = ErrorBody),
    )
)]
async fn get_identity(
    State(state): State<AppState>,
    auth: Require<perm::VaultUse>,
) -> ApiResult<axum::Json<Identity>> {
    let found = state.store.vault_identity(auth.user.id()).await?;
    let found = found.ok_or_else(|| ApiError::not_found("vault identity"))?;
    Ok(axum::Json(found.into()))
}

/// Create the caller's vault identity, or re-wrap it under a new passphrase.
#[utoipa::path(
    put, path = "/api/v1/vault/identity", tag = "vault",
    request_body = PutIdentityBody,
    responses(
        (status = 200, description = "Stored", body = Identity),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs vault.use", body = ErrorBody),
        (status = 409, description = "Stale version, or a different public key", body = ErrorBody),
        (status = 422, description = "Not a public key, or not a passphrase-wrapped age file", body = ErrorBody),
    )
)]
async fn put_identity(
    State(state): State<AppState>,
    client: ClientInfo,
    auth: Require<perm::VaultUse>,
    Json(body): Json<PutIdentityBody>,
) -> ApiResult<axum::Json<Identity>> {
    selah_vault::check_public_key(&body.public_key)
        .map_err(|e| ApiError::validation(format!("public_key: {e}")))?;
    // Base64 of 4 KiB is under 5.5 KiB: anything longer is refused before decoding.
    if body.wrapped_identity.len() > selah_vault::MAX_WRAPPED_IDENTITY / 3 * 4 + 8 {
        return Err(ApiError::validation(format!(
            "wrapped_identity must be at most {} bytes",
            selah_vault::MAX_WRAPPED_IDENTITY
        )));
    }
    let wrapped = BASE64
        .decode(body.wrapped_identity.trim())
        .map_err(|_| ApiError::validation("wrapped_identity must be base64"))?;
    selah_vault::check_wrapped_identity(&wrapped)
        .map_err(|e| ApiError::validation(format!("wrapped_identity: {e}")))?;
    if body.version < 0 {
        return Err(ApiError::validation("version must be 0 or more"));
    }
    let user = auth.user.id();
    let put = state
        .store
        .put_vault_identity(user, &body.public_key, &wrapped, body.version)
        .await?;
    let stored = match put {
        PutIdentity::Stored(s) => s,
        PutIdentity::VersionMismatch { current: 0 } => {
            return Err(ApiError::conflict(
                "there is no vault identity to re-wrap: create one with version 0",
            ));
        }
        PutIdentity::VersionMismatch { current } => {
            return Err(ApiError::conflict(format!(
                "the vault identity is at version {current}: it was changed elsewhere; \
                 fetch it and re-wrap that one"
            )));
        }
        PutIdentity::PublicKeyChanged => {
            return Err(ApiError::conflict(
                "a re-wrap must keep the public key: the vault's items are encrypted to it",
            ));
        }
    };
    let (kind, action) = if stored.version == 1 {
        ("vault.identity_created", "create")
    } else {
        ("vault.identity_rewrapped", "update")
    };
    state
        .audit
        .record(
            AuditEvent::new(kind, action)
                .user(user)
                .resource("vault_identity", user)
                .details(json!({"version": stored.version}))
                .client(&client),
        )
        .await;
    Ok(axum::Json(stored.into()))
}

/// A user's public key: the caller's own, or that of someone they share a team with.
#[utoipa::path(
    get, path = "/api/v1/vault/public-keys/{user_id}", tag = "vault",
    params(("user_id" = String, Path, description = "The user")),
    responses(
        (status = 200, description = "The public key", body = PublicKey),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs vault.use", body = ErrorBody),
        (status = 404, description = "No such user in the caller's teams, or no vault identity", body = ErrorBody),
    )
)]
async fn get_public_key(
    State(state): State<AppState>,
    auth: Require<perm::VaultUse>,
    Path(user_id): Path<String>,
) -> ApiResult<axum::Json<PublicKey>> {
    let key = state
        .store
        .vault_public_key(auth.user.id(), &user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("vault public key"))?;
    Ok(axum::Json(PublicKey {
        user_id,
        public_key: key,
    }))
}
