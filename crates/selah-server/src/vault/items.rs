//! `/api/v1/vault/items`: create, list, read, rename/move, trash, restore and purge vault
//! items (see docs/VAULT.md). Names, tags and note bodies arrive encrypted (`meta`, an age file
//! made by the client); the server checks that it is one and stores it untouched. An item of
//! another scope, or one the caller is not a recipient of, answers 404.

use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use selah_store::vault_items::{ItemFilter, ItemWrite, NewItem, VaultItem};
use selah_store::vault_versions::VaultVersion;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::blobs::valid_id;
use super::sharing::check_recipients;
use crate::audit::AuditEvent;
use crate::authz::{Require, perm};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// Largest encrypted metadata, decoded.
pub const MAX_META: usize = 64 * 1024;
/// Most items one list request returns.
const MAX_LIMIT: i64 = 5000;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_items, create_item))
        .routes(routes!(get_item, patch_item, delete_item))
        .routes(routes!(restore_item))
}

/// A vault item as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Item {
    /// Opaque id.
    pub id: String,
    /// `file`, `note` or `folder`.
    pub kind: String,
    /// Who made it.
    pub owner_id: String,
    /// Its team; null for a personal item.
    pub team_id: Option<String>,
    /// The folder it is in; null at the root.
    pub parent_id: Option<String>,
    /// Encrypted metadata (`{"name","tags"}` as an age file), base64.
    pub meta: String,
    /// Users its keys are wrapped to.
    pub recipients: Vec<String>,
    /// Shared with the caller by someone else.
    pub shared: bool,
    /// Bytes of the current version's age file; null before the first upload completes.
    pub size: Option<i64>,
    /// The current version.
    pub current_version_id: Option<String>,
    /// Made (ms since the epoch).
    pub created_at: i64,
    /// Last changed.
    pub updated_at: i64,
    /// In the trash since; null when live.
    pub trashed_at: Option<i64>,
    /// Send it back with a change; a stale one gets 409.
    pub row_version: i64,
}

impl Item {
    pub(crate) fn of(v: VaultItem, viewer: &str) -> Self {
        Item {
            shared: v.owner_id != viewer && v.team_id.is_none(),
            meta: BASE64.encode(&v.meta),
            id: v.id,
            kind: v.kind,
            owner_id: v.owner_id,
            team_id: v.team_id,
            parent_id: v.parent_id,
            recipients: v.recipients,
            size: v.size,
            current_version_id: v.current_version_id,
            created_at: v.created_at,
            updated_at: v.updated_at,
            trashed_at: v.trashed_at,
            row_version: v.row_version,
        }
    }
}

/// A version of an item.
#[derive(Debug, Serialize, ToSchema)]
pub struct Version {
    /// Opaque id.
    pub id: String,
    /// Bytes of its age file.
    pub size: i64,
    /// SHA-256 of the file as uploaded, hex.
    pub sha256: String,
    /// Uploaded (ms since the epoch).
    pub created_at: i64,
    /// Who uploaded it.
    pub created_by: Option<String>,
}

impl From<VaultVersion> for Version {
    fn from(v: VaultVersion) -> Self {
        Version {
            id: v.id,
            size: v.size,
            sha256: v.sha256,
            created_at: v.created_at,
            created_by: v.created_by,
        }
    }
}

/// An item with its versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemDetail {
    /// The item.
    #[serde(flatten)]
    pub item: Item,
    /// Its versions, oldest first.
    pub versions: Vec<Version>,
}

/// A new item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateItemBody {
    /// `file`, `note` or `folder`.
    pub kind: String,
    /// The folder to put it in.
    pub parent_id: Option<String>,
    /// Encrypted metadata, base64 (at most 64 KiB decoded).
    pub meta: String,
    /// Other users its keys are wrapped to (the caller always is one).
    #[serde(default)]
    pub recipients: Vec<String>,
}

/// A change: new metadata (rename, retag) and/or a move.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchItemBody {
    /// New encrypted metadata, base64.
    pub meta: Option<String>,
    /// The folder to move it to; null moves it to the root; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<Option<String>>,
    /// The `row_version` the change was made against.
    pub row_version: i64,
}

/// A field that may be present as null (`Some(None)`) or absent (`None`, by default).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// List filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// The trash instead of live items.
    #[serde(default)]
    pub trashed: bool,
    /// Only this folder's children (`root` for the top level).
    pub parent_id: Option<String>,
    /// The page after this item id (the previous page's last).
    pub after: Option<String>,
    /// At most this many (default 1000, at most 5000).
    pub limit: Option<i64>,
}

/// Purge instead of trashing.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// Delete for good now (blobs and keys), not to the trash.
    #[serde(default)]
    pub purge: bool,
}

/// Decodes and checks encrypted metadata: base64 of an age file, at most [`MAX_META`].
pub(crate) fn decode_meta(meta: &str) -> ApiResult<Vec<u8>> {
    if meta.len() > MAX_META / 3 * 4 + 8 {
        return Err(ApiError::validation(format!(
            "meta must be at most {MAX_META} bytes"
        )));
    }
    let bytes = BASE64
        .decode(meta.trim())
        .map_err(|_| ApiError::validation("meta must be base64"))?;
    selah_vault::Header::parse(&bytes).map_err(|e| {
        ApiError::validation(format!(
            "meta must be an age file encrypted by the client ({e})"
        ))
    })?;
    Ok(bytes)
}

fn not_found() -> ApiError {
    ApiError::not_found("vault item")
}

/// Maps a store outcome to the API's.
pub(crate) fn written(w: ItemWrite, viewer: &str) -> ApiResult<Item> {
    match w {
        ItemWrite::Done(item) => Ok(Item::of(*item, viewer)),
        ItemWrite::NotFound => Err(not_found()),
        ItemWrite::Stale { current } => Err(ApiError::conflict(format!(
            "the item changed (row_version is now {current}); fetch it and try again"
        ))),
        ItemWrite::BadParent => Err(bad_parent()),
    }
}

fn bad_parent() -> ApiError {
    ApiError::validation(
        "parent_id must be a folder of the same vault that is not in the trash, \
         and not the item itself or inside it",
    )
}

fn checked_id(id: &str) -> ApiResult<()> {
    if valid_id(id) {
        Ok(())
    } else {
        Err(not_found())
    }
}

/// The caller's items in the request's context (personal, or the team of `X-Selah-Team`).
#[utoipa::path(
    get, path = "/api/v1/vault/items", tag = "vault", params(ListQuery),
    responses(
        (status = 200, description = "Items, newest first", body = Vec<Item>),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs vault.use", body = ErrorBody),
    )
)]
async fn list_items(
    State(state): State<AppState>,
    auth: Require<perm::VaultUse>,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Vec<Item>>> {
    let limit = q.limit.unwrap_or(1000);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::validation(format!(
            "limit must be 1 to {MAX_LIMIT}"
        )));
    }
    let parent_id = match q.parent_id.as_deref() {
        None => None,
        Some("root") => Some(None),
        Some(p) if valid_id(p) => Some(Some(p)),
        Some(_) => {
            return Err(ApiError::validation(
                "parent_id must be an item id or `root`",
            ));
        }
    };
    if q.after.as_deref().is_some_and(|a| !valid_id(a)) {
        return Err(ApiError::validation("after must be an item id"));
    }
    let filter = ItemFilter {
        trashed: q.trashed,
        parent_id,
        before: q.after.as_deref(),
        limit,
    };
    let items = state.store.vault_items(&auth.scope, &filter).await?;
    let me = auth.user.id();
    Ok(axum::Json(
        items.into_iter().map(|i| Item::of(i, me)).collect(),
    ))
}

/// Creates an item; a file or note gets content with an upload (`/api/v1/vault/uploads`).
#[utoipa::path(
    post, path = "/api/v1/vault/items", tag = "vault", request_body = CreateItemBody,
    responses(
        (status = 201, description = "Created", body = Item),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs vault.use", body = ErrorBody),
        (status = 422, description = "Bad kind, meta, parent or recipients", body = ErrorBody),
    )
)]
async fn create_item(
    State(state): State<AppState>,
    client: ClientInfo,
    auth: Require<perm::VaultUse>,
    Json(body): Json<CreateItemBody>,
) -> ApiResult<(StatusCode, axum::Json<Item>)> {
    if !matches!(body.kind.as_str(), "file" | "note" | "folder") {
        return Err(ApiError::validation("kind must be file, note or folder"));
    }
    let meta = decode_meta(&body.meta)?;
    if body.parent_id.as_deref().is_some_and(|p| !valid_id(p)) {
        return Err(bad_parent());
    }
    check_recipients(&state, &auth.scope, &body.recipients).await?;
    let new = NewItem {
        kind: &body.kind,
        parent_id: body.parent_id.as_deref(),
        meta: &meta,
        recipients: &body.recipients,
    };
    let me = auth.user.id();
    let item = written(state.store.create_vault_item(&auth.scope, &new).await?, me)?;
    state
        .audit
        .record(
            AuditEvent::new("vault.item_created", "create")
                .user(me)
                .resource("vault_item", &item.id)
                .details(json!({"team": item.team_id, "kind": item.kind,
                                "recipients": item.recipients.len()}))
                .client(&client),
        )
        .await;
    Ok((StatusCode::CREATED, axum::Json(item)))
}

/// One item with its versions (also one in the trash).
#[utoipa::path(
    get, path = "/api/v1/vault/items/{id}", tag = "vault",
    params(("id" = String, Path, description = "The item")),
    responses(
        (status = 200, description = "The item", body = ItemDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs vault.use", body = ErrorBody),
        (status = 404, description = "No such item in the caller's scope", body = ErrorBody),
    )
)]
async fn get_item(
    State(state): State<AppState>,
    auth: Require<perm::VaultUse>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ItemDetail>> {
    checked_id(&id)?;
    let item = state
        .store
        .vault_item(&auth.scope, &id)
        .await?
        .ok_or_else(not_found)?;
    let versions = state.store.vault_versions(&auth.scope, &id).await?;
    Ok(axum::Json(ItemDetail {
        item: Item::of(item, auth.user.id()),
        versions: versions.into_iter().map(Version::from).collect(),
    }))
}

/// Renames or retags (new `meta`) and/or moves an item.
#[utoipa::path(
    patch, path = "/api/v1/vault/items/{id}", tag = "vault", request_body = PatchItemBody,
    params(("id" = String, Path, description = "The item")),
    responses(
        (status = 200, description = "Changed", body = Item),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs vault.use", body = ErrorBody),
        (status = 404, description = "No such live item the caller may change", body = ErrorBody),
        (status = 409, description = "Stale row_version", body = ErrorBody),
        (status = 422, description = "Bad meta or parent", body = ErrorBody),
    )
)]
async fn patch_item(
    State(state): State<AppState>,
    client: ClientInfo,
    auth: Require<perm::VaultUse>,
    Path(id): Path<String>,
    Json(body): Json<PatchItemBody>,
) -> ApiResult<axum::Json<Item>> {
    checked_id(&id)?;
    let meta = body.meta.as_deref().map(decode_meta).transpose()?;
    let parent = body.parent_id.as_ref().map(|p| p.as_deref());
    if parent.flatten().is_some_and(|p| !valid_id(p)) {
        return Err(bad_parent());
    }
    let me = auth.user.id();
    let w = state
        .store
        .update_vault_item(&auth.scope, &id, meta.as_deref(), parent, body.row_version)
        .await?;
    let item = written(w, me)?;
    state
        .audit
        .record(
            AuditEvent::new("vault.item_updated", "update")
                .user(me)
                .resource("vault_item", &id)
                .details(json!({"meta": meta.is_some(), "moved": parent.is_some()}))
                .client(&client),
        )
        .await;
    Ok(axum::Json(item))
}

/// Moves an item (a folder with everything in it) to the trash, or with `purge=true` deletes
/// it for good: versions, headers, keys and blobs.
#[utoipa::path(
    delete, path = "/api/v1/vault/items/{id}", tag = "vault",
    params(("id" = String, Path, description = "The item"), DeleteQuery),
    responses(
        (status = 204, description = "Trashed or purged"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs vault.use", body = ErrorBody),
        (status = 404, description = "No such item the caller may change", body = ErrorBody),
    )
)]
async fn delete_item(
    State(state): State<AppState>,
    client: ClientInfo,
    auth: Require<perm::VaultUse>,
    Path(id): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> ApiResult<StatusCode> {
    checked_id(&id)?;
    let me = auth.user.id();
    let event = if q.purge {
        let purged = state
            .store
            .purge_vault_item(&auth.scope, &id)
            .await?
            .ok_or_else(not_found)?;
        let removed = state.vault.blobs.remove_purged(&purged).await;
        AuditEvent::new("vault.item_purged", "delete").details(json!({
            "items": purged.items, "versions": purged.versions.len(), "files_removed": removed
        }))
    } else {
        if !state.store.trash_vault_item(&auth.scope, &id).await? {
            return Err(not_found());
        }
        AuditEvent::new("vault.item_trashed", "delete")
    };
    state
        .audit
        .record(event.user(me).resource("vault_item", &id).client(&client))
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Restores what trashing this item moved to the trash.
#[utoipa::path(
    post, path = "/api/v1/vault/items/{id}/restore", tag = "vault",
    params(("id" = String, Path, description = "The item")),
    responses(
        (status = 200, description = "Restored", body = Item),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs vault.use", body = ErrorBody),
        (status = 404, description = "No such trashed item the caller may restore", body = ErrorBody),
    )
)]
async fn restore_item(
    State(state): State<AppState>,
    client: ClientInfo,
    auth: Require<perm::VaultUse>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Item>> {
    checked_id(&id)?;
    if !state.store.restore_vault_item(&auth.scope, &id).await? {
        return Err(not_found());
    }
    let me = auth.user.id();
    state
        .audit
        .record(
            AuditEvent::new("vault.item_restored", "update")
                .user(me)
                .resource("vault_item", &id)
                .client(&client),
        )
        .await;
    let item = state
        .store
        .vault_item(&auth.scope, &id)
        .await?
        .ok_or_else(not_found)?;
    Ok(axum::Json(Item::of(item, me)))
}
