//! OpenAI-compatible endpoints, so existing tools can use Selah's models with Selah's accounts
//! and permissions: `POST /v1/chat/completions` (streaming and not) and `GET /v1/models`.
//! Bearer-token authentication (a Selah session token as the API key) and `chat.use` apply;
//! errors, on these two routes only, take OpenAI's shape
//! `{"error":{"message","type","param","code"}}`. Unknown request fields are ignored, as
//! OpenAI's clients send many; the conversation is used as sent (no stored session).

use std::convert::Infallible;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use selah_ai::{ChatMessage, ChatRole, FinishReason, GenEvent, ModelId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params::ChatParams;
use super::prompt::{self, api_error};
use crate::authz::{Require, perm};
use crate::error::ApiError;
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(chat_completions))
        .routes(routes!(list_models))
}

/// An error in OpenAI's shape.
pub struct OpenAiError(pub ApiError);

impl From<ApiError> for OpenAiError {
    fn from(e: ApiError) -> Self {
        OpenAiError(e)
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        let status = ApiError::status(self.0.code);
        let kind = match status {
            StatusCode::UNAUTHORIZED => "authentication_error",
            StatusCode::FORBIDDEN => "permission_error",
            StatusCode::TOO_MANY_REQUESTS => "rate_limit_error",
            s if s.is_server_error() => "server_error",
            _ => "invalid_request_error",
        };
        let body = json!({"error": {
            "message": self.0.message,
            "type": kind,
            "param": null,
            "code": self.0.code.as_str(),
        }});
        let mut res = (status, axum::Json(body)).into_response();
        if let Some(secs) = self.0.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

/// A message's content: a string, or a list of parts of which the text ones are used.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Parts (`{"type":"text","text":…}`).
    #[schema(value_type = Vec<Object>)]
    Parts(Vec<Value>),
}

/// A message.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CompatMessage {
    /// `system`, `developer`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: Option<Content>,
}

/// `stop`: one string or several.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Stop {
    /// One.
    One(String),
    /// Several.
    Many(Vec<String>),
}

/// Streaming options.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct StreamOptions {
    /// Send a last chunk with the usage.
    #[serde(default)]
    pub include_usage: bool,
}

/// Body of `POST /v1/chat/completions` (the fields Selah uses; others are ignored).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CompletionRequest {
    /// A Selah model id; absent: the caller's default model.
    pub model: Option<String>,
    /// The conversation.
    pub messages: Vec<CompatMessage>,
    /// Stream chunks as server-sent events.
    #[serde(default)]
    pub stream: bool,
    /// Streaming options.
    pub stream_options: Option<StreamOptions>,
    /// 0–2.
    pub temperature: Option<f32>,
    /// 0–1.
    pub top_p: Option<f32>,
    /// Most tokens to generate.
    pub max_tokens: Option<u32>,
    /// Newer name of `max_tokens`.
    pub max_completion_tokens: Option<u32>,
    /// Seed (0 to 4294967295).
    pub seed: Option<i64>,
    /// Stop strings.
    pub stop: Option<Stop>,
    /// Choices; only 1 is supported.
    pub n: Option<u32>,
}

fn bad(msg: impl Into<String>) -> OpenAiError {
    OpenAiError(ApiError::bad_request(msg))
}

fn text_of(content: Option<Content>) -> String {
    match content {
        None => String::new(),
        Some(Content::Text(t)) => t,
        Some(Content::Parts(parts)) => parts
            .iter()
            .filter(|p| p["type"] == "text")
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// Create a chat completion (OpenAI's API).
#[utoipa::path(
    post, path = "/v1/chat/completions", tag = "openai",
    request_body = CompletionRequest,
    responses(
        (status = 200, description = "A `chat.completion`, or with `stream` server-sent `chat.completion.chunk`s ending with `[DONE]`"),
        (status = 400, description = "Malformed request, or the conversation exceeds the window"),
        (status = 401, description = "No or invalid bearer token"),
        (status = 403, description = "Needs chat.use"),
        (status = 404, description = "No such model"),
        (status = 503, description = "The model's queue is full (see Retry-After), or no model"),
    )
)]
async fn chat_completions(
    State(state): State<AppState>,
    auth: Result<Require<perm::ChatUse>, ApiError>,
    body: Bytes,
) -> Result<Response, OpenAiError> {
    let auth = auth?;
    let req: CompletionRequest = serde_json::from_slice(&body).map_err(|e| {
        bad(format!(
            "the request body is not a valid chat completion request: {e}"
        ))
    })?;
    if req.n.is_some_and(|n| n != 1) {
        return Err(bad("only n = 1 is supported"));
    }
    if req.messages.is_empty() {
        return Err(bad("messages must not be empty"));
    }
    let mut messages = Vec::with_capacity(req.messages.len());
    for m in req.messages {
        let role = match m.role.as_str() {
            "system" | "developer" => ChatRole::System,
            "user" => ChatRole::User,
            "assistant" => ChatRole::Assistant,
            other => {
                return Err(bad(format!(
                    "messages with role {other:?} are not supported"
                )));
            }
        };
        messages.push(ChatMessage {
            role,
            content: text_of(m.content),
        });
    }
    let seed = req
        .seed
        .map(|s| u32::try_from(s).map_err(|_| bad("seed must be between 0 and 4294967295")))
        .transpose()?;
    let stop = match req.stop {
        None => None,
        Some(Stop::One(s)) => Some(vec![s]),
        Some(Stop::Many(v)) => Some(v),
    };
    let params = ChatParams {
        temperature: req.temperature,
        top_p: req.top_p,
        seed,
        max_tokens: req.max_completion_tokens.or(req.max_tokens),
        stop,
        ..ChatParams::default()
    }
    .validate()
    .map_err(bad)?;

    let model = match req.model.filter(|m| !m.is_empty()) {
        Some(m) => {
            if !state.ai.models().await.iter().any(|x| x.id == m) {
                return Err(OpenAiError(ApiError::not_found(&format!("model {m}"))));
            }
            ModelId(m)
        }
        None => prompt::session_model(&state, None, auth.user.id()).await?,
    };
    let window = state.ai.context_window(&model).await.map_err(api_error)? as usize;
    let rendered = state
        .ai
        .render_chat(&model, &messages)
        .await
        .map_err(api_error)?;
    let prompt_tokens = state
        .ai
        .count_tokens(&model, &rendered)
        .await
        .map_err(api_error)?;
    if prompt_tokens >= window {
        return Err(OpenAiError(ApiError::bad_request(format!(
            "the messages take {prompt_tokens} tokens; this model's context window is {window}"
        ))));
    }
    let events = state
        .ai
        .chat(auth.user.id(), &model, messages, params)
        .await
        .map_err(api_error)?;
    let id = format!("chatcmpl-{}", uuid::Uuid::new_v4().simple());
    let created = selah_store::now_ms() / 1000;
    if req.stream {
        let usage = req.stream_options.is_some_and(|o| o.include_usage);
        Ok(stream(id, created, model.0, usage, events))
    } else {
        whole(id, created, model.0, events).await
    }
}

fn finish_name(f: FinishReason) -> &'static str {
    match f {
        FinishReason::Length => "length",
        FinishReason::Stop | FinishReason::Cancelled => "stop",
    }
}

fn usage_json(u: selah_ai::TokenUsage) -> Value {
    json!({
        "prompt_tokens": u.prompt_tokens,
        "completion_tokens": u.completion_tokens,
        "total_tokens": u.prompt_tokens + u.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": u.cached_prompt_tokens},
    })
}

async fn whole(
    id: String,
    created: i64,
    model: String,
    mut events: mpsc::Receiver<GenEvent>,
) -> Result<Response, OpenAiError> {
    let mut text = String::new();
    loop {
        match events.recv().await {
            Some(GenEvent::Token(t)) => text.push_str(&t),
            Some(GenEvent::Done { usage, finish }) => {
                let body = json!({
                    "id": id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [{
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": finish_name(finish),
                    }],
                    "usage": usage_json(usage),
                });
                return Ok(axum::Json(body).into_response());
            }
            Some(GenEvent::Error(e)) => return Err(OpenAiError(ApiError::internal(e))),
            None => {
                return Err(OpenAiError(ApiError::internal(
                    "the generation ended early",
                )));
            }
        }
    }
}

/// Where the chunk stream is.
enum Phase {
    Start,
    Tokens,
    Usage(Value),
    Done,
    Over,
}

struct Chunks {
    id: String,
    created: i64,
    model: String,
    include_usage: bool,
    events: mpsc::Receiver<GenEvent>,
    phase: Phase,
}

impl Chunks {
    fn chunk(&self, delta: Value, finish: Option<&str>) -> Event {
        Event::default().data(
            json!({
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            })
            .to_string(),
        )
    }

    async fn next(&mut self) -> Option<Event> {
        match std::mem::replace(&mut self.phase, Phase::Tokens) {
            Phase::Start => Some(self.chunk(json!({"role": "assistant", "content": ""}), None)),
            Phase::Tokens => match self.events.recv().await {
                Some(GenEvent::Token(t)) => Some(self.chunk(json!({"content": t}), None)),
                Some(GenEvent::Done { usage, finish }) => {
                    self.phase = if self.include_usage {
                        Phase::Usage(usage_json(usage))
                    } else {
                        Phase::Done
                    };
                    Some(self.chunk(json!({}), Some(finish_name(finish))))
                }
                Some(GenEvent::Error(e)) => {
                    tracing::warn!(error = %e, "generation failed");
                    self.phase = Phase::Done;
                    let err = json!({"error": {"message": "the model failed while writing the reply",
                        "type": "server_error", "param": null, "code": "internal"}});
                    Some(Event::default().data(err.to_string()))
                }
                None => {
                    self.phase = Phase::Done;
                    Some(self.chunk(json!({}), Some("stop")))
                }
            },
            Phase::Usage(u) => {
                self.phase = Phase::Done;
                let body = json!({
                    "id": self.id, "object": "chat.completion.chunk", "created": self.created,
                    "model": self.model, "choices": [], "usage": u,
                });
                Some(Event::default().data(body.to_string()))
            }
            Phase::Done => {
                self.phase = Phase::Over;
                Some(Event::default().data("[DONE]"))
            }
            Phase::Over => {
                self.phase = Phase::Over;
                None
            }
        }
    }
}

/// The chunk stream. When the client goes away the stream, and with it the model's receiver,
/// is dropped: the generation is cancelled.
fn stream(
    id: String,
    created: i64,
    model: String,
    include_usage: bool,
    events: mpsc::Receiver<GenEvent>,
) -> Response {
    let chunks = Chunks {
        id,
        created,
        model,
        include_usage,
        events,
        phase: Phase::Start,
    };
    let body = futures_util::stream::unfold(chunks, |mut c| async move {
        c.next().await.map(|e| (Ok::<_, Infallible>(e), c))
    });
    Sse::new(body).into_response()
}

/// A model in OpenAI's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompatModel {
    /// The Selah model id.
    pub id: String,
    /// Always `model`.
    pub object: &'static str,
    /// Always 0 (unknown).
    pub created: i64,
    /// The provider (`local`, `ollama`, …).
    pub owned_by: String,
}

/// The models (OpenAI's API).
#[utoipa::path(
    get, path = "/v1/models", tag = "openai",
    responses(
        (status = 200, description = "`{object: list, data: [model]}`"),
        (status = 401, description = "No or invalid bearer token"),
        (status = 403, description = "Needs chat.use"),
    )
)]
async fn list_models(
    State(state): State<AppState>,
    auth: Result<Require<perm::ChatUse>, ApiError>,
) -> Result<axum::Json<Value>, OpenAiError> {
    auth?;
    let data: Vec<CompatModel> = state
        .ai
        .models()
        .await
        .into_iter()
        .map(|m| CompatModel {
            id: m.id,
            object: "model",
            created: 0,
            owned_by: m.provider,
        })
        .collect();
    Ok(axum::Json(json!({"object": "list", "data": data})))
}
