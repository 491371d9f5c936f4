//! The caller's chat preferences (`GET|PUT /api/v1/chat/preferences`): a system prompt, free
//! preferences the context builder puts in every prompt, and a default model. Personal in every
//! context; `chat.use` is needed.

use axum::extract::State;
use selah_store::chat_preferences::ChatPreferences;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::tokens::ensure_model_exists;
use crate::authz::{Require, perm};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_preferences, put_preferences))
}

/// Longest system prompt, in characters.
pub const MAX_SYSTEM_PROMPT_CHARS: usize = 8_000;
/// Largest preferences object, in bytes of JSON.
pub const MAX_PREFERENCES_BYTES: usize = 8_192;

/// The preferences.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    /// Put first in every prompt (up to 8 000 characters).
    #[serde(default)]
    pub system_prompt: Option<String>,
    /// A JSON object of preferences (up to 8 KiB), e.g. `{"tone": "brief"}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub preferences: serde_json::Map<String, serde_json::Value>,
    /// The model new messages use when the session names none.
    #[serde(default)]
    pub default_model: Option<String>,
}

impl From<ChatPreferences> for Preferences {
    fn from(p: ChatPreferences) -> Self {
        Preferences {
            system_prompt: p.system_prompt,
            preferences: p.preferences,
            default_model: p.default_model,
        }
    }
}

/// The caller's chat preferences.
#[utoipa::path(
    get, path = "/api/v1/chat/preferences", tag = "chat",
    responses(
        (status = 200, description = "Preferences", body = Preferences),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs chat.use", body = ErrorBody),
    )
)]
async fn get_preferences(
    State(state): State<AppState>,
    auth: Require<perm::ChatUse>,
) -> ApiResult<axum::Json<Preferences>> {
    let p = state.store.chat_preferences(auth.user.id()).await?;
    Ok(axum::Json(p.into()))
}

/// Replace the caller's chat preferences.
#[utoipa::path(
    put, path = "/api/v1/chat/preferences", tag = "chat",
    request_body = Preferences,
    responses(
        (status = 200, description = "Saved", body = Preferences),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs chat.use", body = ErrorBody),
        (status = 422, description = "Too long, or no such model", body = ErrorBody),
    )
)]
async fn put_preferences(
    State(state): State<AppState>,
    auth: Require<perm::ChatUse>,
    Json(body): Json<Preferences>,
) -> ApiResult<axum::Json<Preferences>> {
    let system_prompt = body
        .system_prompt
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if system_prompt
        .as_ref()
        .is_some_and(|s| s.chars().count() > MAX_SYSTEM_PROMPT_CHARS)
    {
        return Err(ApiError::validation(format!(
            "system_prompt must be at most {MAX_SYSTEM_PROMPT_CHARS} characters"
        )));
    }
    let size = serde_json::Value::Object(body.preferences.clone())
        .to_string()
        .len();
    if size > MAX_PREFERENCES_BYTES {
        return Err(ApiError::validation(format!(
            "preferences must be at most {MAX_PREFERENCES_BYTES} bytes of JSON"
        )));
    }
    let default_model = body.default_model.filter(|m| !m.trim().is_empty());
    if let Some(m) = &default_model {
        ensure_model_exists(&state, m).await?;
    }
    let p = ChatPreferences {
        system_prompt,
        preferences: body.preferences,
        default_model,
    };
    state.store.put_chat_preferences(auth.user.id(), &p).await?;
    Ok(axum::Json(p.into()))
}
