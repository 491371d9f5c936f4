//! The token meter (`GET .../token-count`) and the session's model switch
//! (`PATCH .../model`). Both need `chat.use` in the session's context.
//!
//! Counts use the session model's own tokenizer (the GGUF vocabulary) on every stored message.
//! Remote backends have no tokenizer Selah can run, so for them the meter shows what the
//! backend itself reported for the last reply, as stored on that reply's row.

use axum::extract::State;
use selah_ai::ModelId;
use selah_store::chat_messages::StoredMessage;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::SessionView;
use super::prompt::{self, api_error};
use crate::authz::{Require, perm};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(token_count))
        .routes(routes!(set_model))
}

/// From this share of the window on, the meter warns.
pub const WARN_PERCENT: f64 = 90.0;

/// The session's token use.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenCount {
    /// The model counted with (the one the next message uses).
    pub model: String,
    /// Tokens of the stored user and system messages.
    pub prompt_tokens: u64,
    /// Tokens of the stored replies.
    pub completion_tokens: u64,
    /// The sum.
    pub total_tokens: u64,
    /// The model's context window.
    pub context_window: u32,
    /// total / window, in percent (one decimal).
    pub used_percent: f64,
    /// True from 90 %.
    pub warning: bool,
}

/// Whether the embedded engine runs the model (so its tokenizer is at hand).
fn runs_locally(model: &ModelId) -> bool {
    matches!(model.provider(), "local" | "ollama")
}

/// Count a session's tokens with its model's tokenizer.
#[utoipa::path(
    get, path = "/api/v1/chat/sessions/{id}/token-count", tag = "chat",
    params(
        ("id" = String, Path, description = "Session id"),
        ("X-Selah-Team" = Option<String>, Header, description = "Act in this team"),
    ),
    responses(
        (status = 200, description = "Counts", body = TokenCount),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs chat.use", body = ErrorBody),
        (status = 404, description = "Not in this context", body = ErrorBody),
        (status = 409, description = "The session's model is not available", body = ErrorBody),
        (status = 503, description = "No model is available", body = ErrorBody),
    )
)]
async fn token_count(
    State(state): State<AppState>,
    auth: Require<perm::ChatUse>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<TokenCount>> {
    let not_found = || ApiError::not_found("chat session");
    let session = state
        .store
        .chat_session(&auth.scope, &id)
        .await?
        .ok_or_else(not_found)?;
    let model =
        prompt::session_model(&state, session.active_model.as_deref(), auth.user.id()).await?;
    let window = state.ai.context_window(&model).await.map_err(api_error)?;
    let messages = state
        .store
        .all_chat_messages(&auth.scope, &id)
        .await?
        .ok_or_else(not_found)?;
    let (prompt_tokens, completion_tokens) = if runs_locally(&model) {
        count_locally(&state, &model, &messages).await?
    } else {
        reported(&messages)
    };
    let total_tokens = prompt_tokens + completion_tokens;
    let used_percent = if window == 0 {
        100.0
    } else {
        (total_tokens as f64 * 1000.0 / f64::from(window)).round() / 10.0
    };
    Ok(axum::Json(TokenCount {
        model: model.0,
        prompt_tokens,
        completion_tokens,
        total_tokens,
        context_window: window,
        used_percent,
        warning: used_percent >= WARN_PERCENT,
    }))
}

async fn count_locally(
    state: &AppState,
    model: &ModelId,
    messages: &[StoredMessage],
) -> ApiResult<(u64, u64)> {
    let (mut prompt, mut completion) = (0u64, 0u64);
    for m in messages {
        let n = state
            .ai
            .count_tokens(model, &m.content)
            .await
            .map_err(api_error)? as u64;
        if m.role == "assistant" {
            completion += n;
        } else {
            prompt += n;
        }
    }
    Ok((prompt, completion))
}

/// A remote backend's own figures for the latest reply: the prompt it saw (the conversation so
/// far) and what it generated.
fn reported(messages: &[StoredMessage]) -> (u64, u64) {
    messages
        .iter()
        .rev()
        .find(|m| m.role == "assistant" && m.completion_tokens.is_some())
        .map_or((0, 0), |m| {
            let n = |v: Option<i64>| v.unwrap_or(0).max(0) as u64;
            (n(m.prompt_tokens), n(m.completion_tokens))
        })
}

/// Body of `PATCH .../model`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetModel {
    /// A model id from `GET /api/v1/chat/models`, or null to use the default again.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, required = true)]
    pub model: Option<Option<String>>,
}

/// Marks a field as present (even when null), so a missing `model` can be told from `null`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Choose the model the session's next messages use (null: back to the default).
#[utoipa::path(
    patch, path = "/api/v1/chat/sessions/{id}/model", tag = "chat",
    request_body = SetModel,
    params(
        ("id" = String, Path, description = "Session id"),
        ("X-Selah-Team" = Option<String>, Header, description = "Act in this team"),
    ),
    responses(
        (status = 200, description = "Changed", body = SessionView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs chat.use", body = ErrorBody),
        (status = 404, description = "Not in this context", body = ErrorBody),
        (status = 422, description = "No such model, or model missing", body = ErrorBody),
    )
)]
async fn set_model(
    State(state): State<AppState>,
    auth: Require<perm::ChatUse>,
    Path(id): Path<String>,
    Json(body): Json<SetModel>,
) -> ApiResult<axum::Json<SessionView>> {
    let Some(model) = body.model else {
        return Err(ApiError::validation(
            "send a model id, or null for the default",
        ));
    };
    if let Some(m) = &model {
        ensure_model_exists(&state, m).await?;
    }
    let s = state
        .store
        .set_chat_session_model(&auth.scope, &id, model.as_deref())
        .await?
        .ok_or_else(|| ApiError::not_found("chat session"))?;
    Ok(axum::Json(s.into()))
}

/// 422 unless the id names a model Selah lists.
pub async fn ensure_model_exists(state: &AppState, id: &str) -> ApiResult<()> {
    if id.is_empty() || id.len() > 512 {
        return Err(ApiError::validation("model must be a model id"));
    }
    if !state.ai.models().await.iter().any(|m| m.id == id) {
        return Err(ApiError::validation(format!(
            "there is no model {id}; GET /api/v1/chat/models lists them"
        )));
    }
    Ok(())
}
