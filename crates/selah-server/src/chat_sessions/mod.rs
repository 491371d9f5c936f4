//! Chat sessions (`/api/v1/chat/sessions`), the first scoped resource. Each request acts in
//! its context (personal, or the team named by `X-Selah-Team`), and the store never returns a
//! session of another scope: such a session answers 404, never 403, so its existence does not
//! leak. Creating, listing and reading need `chat.use`; renaming, archiving and deleting need
//! `chat.manage_sessions`. Deletions are audited.
//!
//! Submodules: [`messages`] (send with a streamed reply, list, stop, regenerate), [`tokens`]
//! (token meter, model switch), [`preferences`], [`compat`] (OpenAI-compatible endpoints),
//! and their parts: [`params`], [`prompt`] (context building and rolling summaries),
//! [`reply`] (the reply writer).

pub mod compat;
pub mod messages;
pub mod params;
pub mod preferences;
pub mod prompt;
pub mod reply;
pub mod tokens;

use axum::extract::State;
use axum::http::StatusCode;
use selah_store::chat_sessions::{ChatSession, ChatSessionPatch};
use selah_store::passage_texts::PassageSet;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit::AuditEvent;
use crate::authz::{Require, perm};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session, list_sessions))
        .routes(routes!(get_session, update_session, delete_session))
        .merge(messages::router())
        .merge(tokens::router())
        .merge(preferences::router())
        .merge(compat::router())
}

/// Title given when none is sent.
pub const DEFAULT_TITLE: &str = "New chat";
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

/// A chat session.
#[derive(Debug, Serialize, ToSchema)]
// Named apart from the login sessions' `SessionView` (auth/account.rs), which the document would
// otherwise merge with this one.
#[schema(as = ChatSessionView)]
pub struct SessionView {
    /// Id.
    pub id: String,
    /// Creator.
    pub owner_id: String,
    /// Team, or null for a personal session.
    pub team_id: Option<String>,
    /// Title.
    pub title: String,
    /// Hidden from the default list.
    pub archived: bool,
    /// Model last used.
    pub active_model: Option<String>,
    /// Created, ms since the epoch.
    pub created_at: i64,
    /// Last changed, ms since the epoch.
    pub updated_at: i64,
}

impl From<ChatSession> for SessionView {
    fn from(s: ChatSession) -> Self {
        SessionView {
            id: s.id,
            owner_id: s.owner_id,
            team_id: s.team_id,
            title: s.title,
            archived: s.archived,
            active_model: s.active_model,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// Body of `POST /api/v1/chat/sessions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    /// 1–200 characters; "New chat" when absent.
    pub title: Option<String>,
}

/// Body of `PATCH /api/v1/chat/sessions/{id}`: at least one field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSession {
    /// New title, 1–200 characters.
    pub title: Option<String>,
    /// Archive (true) or bring back (false).
    pub archived: Option<bool>,
}

/// Filter for the list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListFilter {
    /// true: only archived sessions; false: only active ones; absent: all.
    pub archived: Option<bool>,
}

fn valid_title(title: &str) -> ApiResult<String> {
    let t = title.trim();
    if t.is_empty() || t.chars().count() > MAX_TITLE_CHARS {
        return Err(ApiError::validation(format!(
            "title must be 1 to {MAX_TITLE_CHARS} characters"
        )));
    }
    Ok(t.to_string())
}

/// Start a chat session in the request's context.
#[utoipa::path(
    post, path = "/api/v1/chat/sessions", tag = "chat",
    request_body = CreateSession,
    params(("X-Selah-Team" = Option<String>, Header, description = "Act in this team")),
    responses(
        (status = 201, description = "Created", body = SessionView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs chat.use", body = ErrorBody),
        (status = 404, description = "Not a member of the team", body = ErrorBody),
        (status = 422, description = "Invalid title", body = ErrorBody),
    )
)]
async fn create_session(
    state: State<AppState>,
    auth: Require<perm::ChatUse>,
    Json(body): Json<CreateSession>,
) -> ApiResult<(StatusCode, axum::Json<SessionView>)> {
    let title = match body.title {
        Some(t) => valid_title(&t)?,
        None => DEFAULT_TITLE.to_string(),
    };
    let session = state
        .store
        .create_chat_session(&auth.scope, &title)
        .await?
        // Membership was verified when the context was resolved; it can only be gone if the
        // member was removed in between.
        .ok_or_else(|| ApiError::not_found("team"))?;
    Ok((StatusCode::CREATED, axum::Json(session.into())))
}

/// The context's chat sessions, most recently changed first.
#[utoipa::path(
    get, path = "/api/v1/chat/sessions", tag = "chat",
    params(
        ListFilter,
        ("X-Selah-Team" = Option<String>, Header, description = "Act in this team"),
    ),
    responses(
        (status = 200, description = "Sessions", body = [SessionView]),
        (status = 400, description = "Malformed filter", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs chat.use", body = ErrorBody),
        (status = 404, description = "Not a member of the team", body = ErrorBody),
    )
)]
async fn list_sessions(
    state: State<AppState>,
    auth: Require<perm::ChatUse>,
    Query(filter): Query<ListFilter>,
) -> ApiResult<axum::Json<Vec<SessionView>>> {
    let list = state
        .store
        .list_chat_sessions(&auth.scope, filter.archived)
        .await?;
    Ok(axum::Json(list.into_iter().map(Into::into).collect()))
}

/// One chat session in the request's context.
#[utoipa::path(
    get, path = "/api/v1/chat/sessions/{id}", tag = "chat",
    params(
        ("id" = String, Path, description = "Session id"),
        ("X-Selah-Team" = Option<String>, Header, description = "Act in this team"),
    ),
    responses(
        (status = 200, description = "The session", body = SessionView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs chat.use", body = ErrorBody),
        (status = 404, description = "Not in this context", body = ErrorBody),
    )
)]
async fn get_session(
    state: State<AppState>,
    auth: Require<perm::ChatUse>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<SessionView>> {
    let s = state
        .store
        .chat_session(&auth.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("chat session"))?;
    Ok(axum::Json(s.into()))
}

/// Rename, archive or unarchive a chat session.
#[utoipa::path(
    patch, path = "/api/v1/chat/sessions/{id}", tag = "chat",
    request_body = UpdateSession,
    params(
        ("id" = String, Path, description = "Session id"),
        ("X-Selah-Team" = Option<String>, Header, description = "Act in this team"),
    ),
    responses(
        (status = 200, description = "Changed", body = SessionView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs chat.manage_sessions", body = ErrorBody),
        (status = 404, description = "Not in this context", body = ErrorBody),
        (status = 422, description = "Invalid title, or nothing to change", body = ErrorBody),
    )
)]
async fn update_session(
    state: State<AppState>,
    auth: Require<perm::ChatManageSessions>,
    Path(id): Path<String>,
    Json(body): Json<UpdateSession>,
) -> ApiResult<axum::Json<SessionView>> {
    if body.title.is_none() && body.archived.is_none() {
        return Err(ApiError::validation("send a title or archived to change"));
    }
    let patch = ChatSessionPatch {
        title: body.title.as_deref().map(valid_title).transpose()?,
        archived: body.archived,
    };
    let s = state
        .store
        .update_chat_session(&auth.scope, &id, &patch)
        .await?
        .ok_or_else(|| ApiError::not_found("chat session"))?;
    if patch.title.is_some()
        && let Err(e) = state.docs.text_refresh(PassageSet::Session(&id)).await
    {
        tracing::warn!(session = %id, error = %e, "could not re-index a renamed session's messages");
    }
    Ok(axum::Json(s.into()))
}

/// Delete a chat session.
#[utoipa::path(
    delete, path = "/api/v1/chat/sessions/{id}", tag = "chat",
    params(
        ("id" = String, Path, description = "Session id"),
        ("X-Selah-Team" = Option<String>, Header, description = "Act in this team"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs chat.manage_sessions", body = ErrorBody),
        (status = 404, description = "Not in this context", body = ErrorBody),
    )
)]
async fn delete_session(
    state: State<AppState>,
    client: ClientInfo,
    auth: Require<perm::ChatManageSessions>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    // The passages go with the session (a cascade); their ids are read first for the indexes.
    let passages = state.docs.passage_ids(PassageSet::Session(&id)).await?;
    if !state.store.delete_chat_session(&auth.scope, &id).await? {
        return Err(ApiError::not_found("chat session"));
    }
    if let Err(e) = state.docs.index_remove(&passages).await {
        tracing::warn!(session = %id, error = %e, "could not drop a deleted session's passages from the indexes");
    }
    state
        .audit
        .record(
            AuditEvent::new("chat.session_deleted", "delete")
                .user(auth.user.id())
                .resource("chat_session", &id)
                .details(json!({"team": auth.scope.team_id()}))
                .client(&client),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}
