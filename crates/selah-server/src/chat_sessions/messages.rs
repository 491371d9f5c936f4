//! A session's messages: send one and stream the reply (server-sent events `token`, `done`,
//! `error`), list them, stop the running reply, regenerate the last one. All need `chat.use`
//! and act only on sessions in the request's context (others answer 404).
//!
//! Before the stream starts the request can still fail as a whole (queue full: 503 with
//! `Retry-After`; model gone: 409); then the user message it stored is removed again, so a
//! retry does not duplicate it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use selah_store::chat_messages::{MessageStatus, NewMessage, StoredMessage};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params::ChatParams;
use super::prompt::{self, api_error};
use super::reply::{self, ReplyJob};
use crate::authz::{Require, perm};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_message, list_messages))
        .routes(routes!(stop_reply))
        .routes(routes!(regenerate))
}

/// Longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 100_000;
/// Default and largest page of the message list.
pub const PAGE: u32 = 50;
/// Largest page.
pub const MAX_PAGE: u32 = 500;

/// Body of `POST .../messages`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// The text, 1–100 000 characters.
    pub content: String,
    /// Sampling parameters.
    pub params: Option<ChatParams>,
}

/// Body of `POST .../regenerate`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Regenerate {
    /// Sampling parameters.
    pub params: Option<ChatParams>,
}

/// A stored message.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    /// Id.
    pub id: String,
    /// `user`, `assistant` or `system`.
    pub role: String,
    /// Text (for a reply being written: what has been flushed so far).
    pub content: String,
    /// The model that wrote it, or was asked.
    pub model: Option<String>,
    /// User messages: their own token count; replies: the whole prompt's.
    pub prompt_tokens: Option<i64>,
    /// Replies: tokens generated.
    pub completion_tokens: Option<i64>,
    /// `complete`, `streaming`, `incomplete` (cut off) or `error`.
    #[schema(value_type = String)]
    pub status: MessageStatus,
    /// Created, ms since the epoch.
    pub created_at: i64,
    /// Last changed, ms since the epoch.
    pub updated_at: i64,
    /// Replies: the passages of the user's documents the reply was given, as the `done`
    /// event listed them; absent when there were none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<selah_ai::context::Citation>>)]
    pub citations: Option<serde_json::Value>,
}

impl From<StoredMessage> for MessageView {
    fn from(m: StoredMessage) -> Self {
        MessageView {
            id: m.id,
            role: m.role,
            content: m.content,
            model: m.model,
            prompt_tokens: m.prompt_tokens,
            completion_tokens: m.completion_tokens,
            status: m.status,
            created_at: m.created_at,
            updated_at: m.updated_at,
            citations: m.citations,
        }
    }
}

/// A page of messages.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    /// Oldest first.
    pub messages: Vec<MessageView>,
    /// Pass as `after` for the next page; null on the last page.
    pub next: Option<String>,
}

/// Paging.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// Start after this message id.
    pub after: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u32>,
}

/// The answer to `POST .../stop`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stopped {
    /// Always true: a running reply was asked to stop.
    pub stopped: bool,
}

const SSE_DOC: &str = "Server-sent events: `token` {text}, then `done` {message_id, user_message_id, \
    usage {prompt_tokens, completion_tokens, total_tokens, cached_prompt_tokens}, context {included_messages, \
    omitted_messages, summarised, passages, truncated, tokens}, citations [{document_id, title, passage_id, \
    char_start, char_end}], finish} or `error` {code, message}";

/// Send a message and stream the reply.
#[utoipa::path(
    post, path = "/api/v1/chat/sessions/{id}/messages", tag = "chat",
    request_body = SendMessage,
    params(
        ("id" = String, Path, description = "Session id"),
        ("X-Selah-Team" = Option<String>, Header, description = "Act in this team"),
    ),
    responses(
        (status = 200, description = SSE_DOC, content_type = "text/event-stream", body = String),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs chat.use", body = ErrorBody),
        (status = 404, description = "Not in this context", body = ErrorBody),
        (status = 409, description = "A reply is already being written, or the model is gone", body = ErrorBody),
        (status = 422, description = "Empty or oversized message, or parameters out of range", body = ErrorBody),
        (status = 503, description = "The model's queue is full (see Retry-After), or no model", body = ErrorBody),
    )
)]
async fn send_message(
    State(state): State<AppState>,
    auth: Require<perm::ChatUse>,
    Path(id): Path<String>,
    Json(body): Json<SendMessage>,
) -> ApiResult<Response> {
    let content = body.content.trim();
    if content.is_empty() || content.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ApiError::validation(format!(
            "content must be 1 to {MAX_MESSAGE_CHARS} characters"
        )));
    }
    let params = body
        .params
        .unwrap_or_default()
        .validate()
        .map_err(ApiError::validation)?;
    run_turn(state, &auth, &id, Turn::New(content.to_string()), params).await
}

/// Write the last reply again (the previous one is replaced once the new one starts).
#[utoipa::path(
    post, path = "/api/v1/chat/sessions/{id}/regenerate", tag = "chat",
    request_body = Regenerate,
    params(
        ("id" = String, Path, description = "Session id"),
        ("X-Selah-Team" = Option<String>, Header, description = "Act in this team"),
    ),
    responses(
        (status = 200, description = SSE_DOC, content_type = "text/event-stream", body = String),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs chat.use", body = ErrorBody),
        (status = 404, description = "Not in this context", body = ErrorBody),
        (status = 409, description = "Nothing to regenerate, or a reply is being written", body = ErrorBody),
        (status = 422, description = "Parameters out of range", body = ErrorBody),
        (status = 503, description = "The model's queue is full (see Retry-After)", body = ErrorBody),
    )
)]
async fn regenerate(
    State(state): State<AppState>,
    auth: Require<perm::ChatUse>,
    Path(id): Path<String>,
    Json(body): Json<Regenerate>,
) -> ApiResult<Response> {
    let params = body
        .params
        .unwrap_or_default()
        .validate()
        .map_err(ApiError::validation)?;
    run_turn(state, &auth, &id, Turn::Regenerate, params).await
}

enum Turn {
    New(String),
    Regenerate,
}

async fn run_turn(
    state: AppState,
    auth: &Require<perm::ChatUse>,
    id: &str,
    turn: Turn,
    params: selah_ai::SamplingParams,
) -> ApiResult<Response> {
    let not_found = || ApiError::not_found("chat session");
    let scope = &auth.scope;
    let session = state
        .store
        .chat_session(scope, id)
        .await?
        .ok_or_else(not_found)?;
    let model =
        prompt::session_model(&state, session.active_model.as_deref(), auth.user.id()).await?;
    let claim = state.replies.claim(&session.id).ok_or_else(|| {
        ApiError::conflict("a reply is already being written in this session; stop it or wait")
    })?;
    let mut history = state
        .store
        .all_chat_messages(scope, &session.id)
        .await?
        .ok_or_else(not_found)?;
    let (question, replaced, inserted) = match turn {
        Turn::New(content) => {
            let tokens = state
                .ai
                .count_tokens(&model, &content)
                .await
                .map_err(api_error)?;
            let msg = NewMessage {
                role: "user",
                content: &content,
                model: Some(&model.0),
                prompt_tokens: Some(tokens as i64),
                completion_tokens: None,
                status: MessageStatus::Complete,
            };
            let row = state
                .store
                .insert_chat_message(scope, &session.id, &msg)
                .await?
                .ok_or_else(not_found)?;
            history.push(row.clone());
            (row, None, true)
        }
        Turn::Regenerate => {
            let replaced = history.pop_if(|m| m.role == "assistant");
            let question = history
                .last()
                .filter(|m| m.role == "user")
                .cloned()
                .ok_or_else(|| ApiError::conflict("there is no reply to regenerate"))?;
            (question, replaced, false)
        }
    };
    let started = async {
        let built = prompt::prepare(&state, scope, &session.id, &model, &history).await?;
        let rx = state
            .ai
            .chat(auth.user.id(), &model, built.messages.clone(), params)
            .await
            .map_err(api_error)?;
        Ok::<_, ApiError>((built, rx))
    }
    .await;
    let (built, events) = match started {
        Ok(v) => v,
        Err(e) => {
            if inserted {
                state
                    .store
                    .delete_chat_message(scope, &session.id, &question.id)
                    .await?;
            }
            return Err(e);
        }
    };
    if let Some(old) = replaced {
        state
            .store
            .delete_chat_message(scope, &session.id, &old.id)
            .await?;
    }
    let msg = NewMessage {
        role: "assistant",
        content: "",
        model: Some(&model.0),
        prompt_tokens: Some(built.prompt_tokens as i64),
        completion_tokens: None,
        status: MessageStatus::Streaming,
    };
    let row = state
        .store
        .insert_chat_message(scope, &session.id, &msg)
        .await?
        .ok_or_else(not_found)?;
    let job = ReplyJob {
        store: state.store.clone(),
        message_id: row.id,
        user_message_id: question.id,
        context: built.usage,
        prompt_tokens: built.prompt_tokens,
        citations: built.citations,
        claim,
        library: state.docs.clone(),
    };
    Ok(reply::stream(job, events))
}

/// The session's messages, oldest first, a page at a time.
#[utoipa::path(
    get, path = "/api/v1/chat/sessions/{id}/messages", tag = "chat",
    params(
        ("id" = String, Path, description = "Session id"),
        PageQuery,
        ("X-Selah-Team" = Option<String>, Header, description = "Act in this team"),
    ),
    responses(
        (status = 200, description = "A page of messages", body = MessagePage),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs chat.use", body = ErrorBody),
        (status = 404, description = "Not in this context", body = ErrorBody),
        (status = 422, description = "Page size out of range", body = ErrorBody),
    )
)]
async fn list_messages(
    State(state): State<AppState>,
    auth: Require<perm::ChatUse>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<MessagePage>> {
    let limit = q.limit.unwrap_or(PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::validation(format!(
            "limit must be 1 to {MAX_PAGE}"
        )));
    }
    // One more than asked tells whether another page follows.
    let mut rows = state
        .store
        .list_chat_messages(&auth.scope, &id, q.after.as_deref(), limit + 1)
        .await?
        .ok_or_else(|| ApiError::not_found("chat session"))?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = more.then(|| rows.last().map(|m| m.id.clone())).flatten();
    Ok(axum::Json(MessagePage {
        messages: rows.into_iter().map(Into::into).collect(),
        next,
    }))
}

/// Stop the reply being written in the session; what it wrote is kept, marked incomplete.
#[utoipa::path(
    post, path = "/api/v1/chat/sessions/{id}/stop", tag = "chat",
    params(
        ("id" = String, Path, description = "Session id"),
        ("X-Selah-Team" = Option<String>, Header, description = "Act in this team"),
    ),
    responses(
        (status = 200, description = "Asked to stop", body = Stopped),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs chat.use", body = ErrorBody),
        (status = 404, description = "Not in this context", body = ErrorBody),
        (status = 409, description = "No reply is being written", body = ErrorBody),
    )
)]
async fn stop_reply(
    State(state): State<AppState>,
    auth: Require<perm::ChatUse>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<Stopped>)> {
    let session = state
        .store
        .chat_session(&auth.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("chat session"))?;
    if !state.replies.stop(&session.id) {
        return Err(ApiError::conflict(
            "no reply is being written in this session",
        ));
    }
    Ok((StatusCode::OK, axum::Json(Stopped { stopped: true })))
}
