//! Models: `GET /api/v1/chat/models` (every provider's models), hot slots (seed 3.1), the fit
//! check (seed 2.3) and imports. Reading needs `chat.use`; changing hot slots and importing
//! change what the whole machine keeps in memory and on disk, so they need
//! `admin.manage_settings`, and are audited.

use axum::extract::State;
use axum::http::StatusCode;
use selah_ai::hot::HotSlotsView;
use selah_ai::memory::FitReport;
use selah_ai::{ModelId, ModelInfo};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit::AuditEvent;
use crate::authz::{Require, perm};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_models))
        .routes(routes!(hot_slots))
        .routes(routes!(assign_slot, eject_slot))
        .routes(routes!(check_fit))
        .routes(routes!(import_model))
}

/// `GET /api/v1/chat/models`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    /// Every model: local files, Ollama's store, remote backends.
    pub models: Vec<ModelInfo>,
    /// The model a new chat would use for this user (null: no model at all).
    pub default_model: Option<String>,
}

/// A body naming a model.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelRef {
    /// Model id, e.g. `local:SmolLM2-135M-Instruct.Q4_1`.
    pub model: String,
}

/// Body of `POST /api/v1/chat/models/import`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// Absolute path of a `.gguf` file on the server.
    pub path: String,
}

fn model_id(raw: &str) -> ApiResult<ModelId> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 300 || !raw.contains(':') {
        return Err(ApiError::validation(
            "model must be a model id such as local:NAME (see GET /api/v1/chat/models)",
        ));
    }
    Ok(ModelId(raw.to_string()))
}

/// Every model Selah can run, with GGUF metadata, whether it is loaded and its hot slot.
#[utoipa::path(
    get, path = "/api/v1/chat/models", tag = "models",
    responses(
        (status = 200, description = "Models", body = ModelList),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs chat.use", body = ErrorBody),
    )
)]
async fn list_models(
    state: State<AppState>,
    _auth: Require<perm::ChatUse>,
) -> ApiResult<axum::Json<ModelList>> {
    let models = state.ai.models().await;
    let default_model = state.ai.default_model(None).await.map(|m| m.0);
    Ok(axum::Json(ModelList {
        models,
        default_model,
    }))
}

/// The hot slots: each slot's model and estimated memory, their total and the 75% limit.
#[utoipa::path(
    get, path = "/api/v1/chat/models/hot-slots", tag = "models",
    responses(
        (status = 200, description = "Slots", body = HotSlotsView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs chat.use", body = ErrorBody),
    )
)]
async fn hot_slots(
    state: State<AppState>,
    _auth: Require<perm::ChatUse>,
) -> ApiResult<axum::Json<HotSlotsView>> {
    Ok(axum::Json(state.ai.hot_slots().await))
}

/// Puts a model in a hot slot (kept loaded, never evicted). Refused with 400 when the slots
/// would use more than 75% of RAM.
#[utoipa::path(
    post, path = "/api/v1/chat/models/hot-slots/{slot_num}", tag = "models",
    params(("slot_num" = u32, Path, description = "Slot, from 1")),
    request_body = ModelRef,
    responses(
        (status = 200, description = "Assigned; the slots now", body = HotSlotsView),
        (status = 400, description = "Malformed body, remote model, or over 75% of RAM", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs admin.manage_settings", body = ErrorBody),
        (status = 404, description = "No such slot or model", body = ErrorBody),
        (status = 409, description = "The model is in another slot", body = ErrorBody),
        (status = 422, description = "Invalid model id", body = ErrorBody),
    )
)]
async fn assign_slot(
    state: State<AppState>,
    auth: Require<perm::AdminManageSettings>,
    client: ClientInfo,
    Path(slot_num): Path<u32>,
    Json(body): Json<ModelRef>,
) -> ApiResult<axum::Json<HotSlotsView>> {
    let model = model_id(&body.model)?;
    let user = &auth.user.user.id;
    let previous = state
        .ai
        .assign_hot_slot(slot_num, &model, Some(user))
        .await?;
    state
        .audit
        .record(
            AuditEvent::new("model.hot_slot_assigned", "update")
                .user(user)
                .resource("model", &model.0)
                .details(
                    json!({"slot": slot_num, "model": model.0, "replaced": previous.map(|p| p.0)}),
                )
                .client(&client),
        )
        .await;
    Ok(axum::Json(state.ai.hot_slots().await))
}

/// Empties a hot slot; its model becomes an ordinary one (unloaded after the keep-alive).
#[utoipa::path(
    delete, path = "/api/v1/chat/models/hot-slots/{slot_num}", tag = "models",
    params(("slot_num" = u32, Path, description = "Slot, from 1")),
    responses(
        (status = 200, description = "Ejected; the slots now", body = HotSlotsView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs admin.manage_settings", body = ErrorBody),
        (status = 404, description = "No such slot, or it is empty", body = ErrorBody),
    )
)]
async fn eject_slot(
    state: State<AppState>,
    auth: Require<perm::AdminManageSettings>,
    client: ClientInfo,
    Path(slot_num): Path<u32>,
) -> ApiResult<axum::Json<HotSlotsView>> {
    let model = state.ai.eject_hot_slot(slot_num).await?;
    state
        .audit
        .record(
            AuditEvent::new("model.hot_slot_ejected", "update")
                .user(&auth.user.user.id)
                .resource("model", &model.0)
                .details(json!({"slot": slot_num, "model": model.0}))
                .client(&client),
        )
        .await;
    Ok(axum::Json(state.ai.hot_slots().await))
}

/// Whether a model fits: its estimated runtime memory (weights plus KV cache for the
/// configured context) against 50% of the memory available now.
#[utoipa::path(
    post, path = "/api/v1/chat/models/check-fit", tag = "models",
    request_body = ModelRef,
    responses(
        (status = 200, description = "The verdict", body = FitReport),
        (status = 400, description = "Malformed body or a remote model", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs chat.use", body = ErrorBody),
        (status = 404, description = "No such model", body = ErrorBody),
        (status = 422, description = "Invalid model id", body = ErrorBody),
    )
)]
async fn check_fit(
    state: State<AppState>,
    _auth: Require<perm::ChatUse>,
    Json(body): Json<ModelRef>,
) -> ApiResult<axum::Json<FitReport>> {
    let model = model_id(&body.model)?;
    match state.ai.check_fit(&model).await {
        Ok(r) => Ok(axum::Json(r)),
        Err(selah_ai::AiError::BadModel(m)) => Err(ApiError::bad_request(m)),
        Err(e) => Err(e.into()),
    }
}

/// Copies a GGUF file on the server into the models directory, after checking that it is a
/// GGUF and that it fits the memory available. Never overwrites a model.
#[utoipa::path(
    post, path = "/api/v1/chat/models/import", tag = "models",
    request_body = ImportRequest,
    responses(
        (status = 201, description = "Imported", body = ModelInfo),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs admin.manage_settings", body = ErrorBody),
        (status = 409, description = "A model of that name exists", body = ErrorBody),
        (status = 422, description = "Not a usable GGUF, or it does not fit", body = ErrorBody),
    )
)]
async fn import_model(
    state: State<AppState>,
    auth: Require<perm::AdminManageSettings>,
    client: ClientInfo,
    Json(body): Json<ImportRequest>,
) -> ApiResult<(StatusCode, axum::Json<ModelInfo>)> {
    let path = std::path::PathBuf::from(body.path.trim());
    if !path.is_absolute() {
        return Err(ApiError::validation(
            "path must be an absolute path on the server",
        ));
    }
    let info = state.ai.import(&path).await?;
    state
        .audit
        .record(
            AuditEvent::new("model.imported", "create")
                .user(&auth.user.user.id)
                .resource("model", &info.id)
                .details(json!({"model": info.id, "file_size": info.file_size}))
                .client(&client),
        )
        .await;
    Ok((StatusCode::CREATED, axum::Json(info)))
}
