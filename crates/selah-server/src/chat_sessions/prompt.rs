//! Building a session's prompt for a turn: the stored preferences, summary and messages go
//! through the context builder with the session model's own tokenizer; when older messages no
//! longer fit and are not summarised yet, the model writes the rolling summary (a short,
//! separate generation), which is stored and reused.

use std::future::Future;

use selah_ai::context::{
    self, BuiltContext, ContextRequest, HistoryMessage, RetrievalScope, Retriever, Summary,
    Tokenizer,
};
use selah_ai::{AiError, ChatMessage, ChatRole, GenEvent, ModelId, Runtime, SamplingParams};
use selah_core::ErrorCode;
use selah_store::Scope;
use selah_store::chat_messages::{SessionSummary, StoredMessage};
use selah_store::chat_preferences::ChatPreferences;

use crate::error::ApiError;
use crate::state::AppState;

/// Most tokens a rolling summary may take (its generation's `max_tokens`).
pub const SUMMARY_TOKENS: u32 = 160;
/// Passages asked of the retriever per turn.
pub const PASSAGES_PER_TURN: usize = 4;

/// A model's tokenizer and template, through the runtime.
pub struct RuntimeTokenizer<'a> {
    /// The runtime.
    pub rt: &'a Runtime,
    /// The model.
    pub model: &'a ModelId,
}

impl Tokenizer for RuntimeTokenizer<'_> {
    fn count_tokens(&self, text: &str) -> impl Future<Output = Result<usize, AiError>> + Send {
        self.rt.count_tokens(self.model, text)
    }
    fn render_chat(
        &self,
        messages: &[ChatMessage],
    ) -> impl Future<Output = Result<String, AiError>> + Send {
        self.rt.render_chat(self.model, messages)
    }
}

/// Maps an AI error to the API's error (never leaking engine internals).
pub fn api_error(e: AiError) -> ApiError {
    match e {
        AiError::QueueFull { retry_after_secs } => {
            ApiError::new(ErrorCode::Unavailable, e.to_string()).with_retry_after(retry_after_secs)
        }
        AiError::ModelNotFound(m) => ApiError::new(
            ErrorCode::Conflict,
            format!("the model {m} is not available; choose another one"),
        ),
        AiError::WouldNotFit(_) | AiError::BackendUnavailable { .. } => {
            ApiError::new(ErrorCode::Unavailable, e.to_string()).with_retry_after(30)
        }
        AiError::ContextOverflow { .. } => ApiError::validation(e.to_string()),
        AiError::BadModel(_) | AiError::Engine(_) => ApiError::internal(e),
    }
}

/// The role of a stored message.
pub fn role_of(m: &StoredMessage) -> ChatRole {
    match m.role.as_str() {
        "system" => ChatRole::System,
        "assistant" => ChatRole::Assistant,
        _ => ChatRole::User,
    }
}

/// The user's preferences as prompt text (one `key: value` line each), None when empty.
pub fn render_preferences(p: &ChatPreferences) -> Option<String> {
    let lines: Vec<String> = p
        .preferences
        .iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => format!("- {k}: {s}"),
            other => format!("- {k}: {other}"),
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// The model a session's next message uses: its own choice, else the user's default, else
/// the server's.
pub async fn session_model(
    state: &AppState,
    active_model: Option<&str>,
    user_id: &str,
) -> Result<ModelId, ApiError> {
    if let Some(m) = active_model {
        return Ok(ModelId(m.to_string()));
    }
    let prefs = state.store.chat_preferences(user_id).await?;
    state
        .ai
        .default_model(prefs.default_model.as_deref())
        .await
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unavailable,
                "no model is available yet; import one (selah models import) or configure a backend",
            )
        })
}

/// Builds the turn's prompt for the reply to the last of `history`, writing and storing a new
/// rolling summary when needed.
pub async fn prepare(
    state: &AppState,
    scope: &Scope,
    session_id: &str,
    model: &ModelId,
    history: &[StoredMessage],
) -> Result<BuiltContext, ApiError> {
    let rt = state.ai.as_ref();
    let tok = RuntimeTokenizer { rt, model };
    let window = rt.context_window(model).await.map_err(api_error)? as usize;
    // Never let the reserve take more than half the window, whatever the configuration says.
    let reserve = (state.config.ai.reply_reserve_tokens as usize).min(window / 2);
    let prefs = state.store.chat_preferences(scope.user_id()).await?;
    let pref_text = render_preferences(&prefs);
    let history: Vec<HistoryMessage> = history
        .iter()
        .filter(|m| !m.content.is_empty())
        .map(|m| HistoryMessage {
            id: m.id.clone(),
            role: role_of(m),
            content: m.content.clone(),
        })
        .collect();
    let query = history.last().map(|m| m.content.as_str()).unwrap_or("");
    let who = RetrievalScope {
        user_id: scope.user_id().to_string(),
        team_id: scope.team_id().map(str::to_string),
    };
    // A failed search leaves the turn without passages rather than failing it.
    let passages = match crate::docs::retriever::LibraryRetriever(state.docs.clone())
        .retrieve(&who, query, PASSAGES_PER_TURN)
        .await
    {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "document retrieval failed; answering without passages");
            Vec::new()
        }
    };
    let stored = state.store.chat_summary(scope, session_id).await?;
    let mut summary = stored.map(|s| Summary {
        text: s.text,
        through: s.through,
    });
    let mut rebuilt = false;
    loop {
        let req = ContextRequest {
            system_prompt: prefs.system_prompt.as_deref(),
            preferences: pref_text.as_deref(),
            passages: &passages,
            summary: summary.as_ref(),
            history: &history,
            window,
            reply_reserve: reserve,
            summary_reserve: SUMMARY_TOKENS as usize,
        };
        let built = context::build_context(&tok, &req)
            .await
            .map_err(api_error)?;
        // One summary per turn: messages dropped by the second build wait for the next turn.
        let Some(need) = built.summary_needed.clone().filter(|_| !rebuilt) else {
            return Ok(built);
        };
        let previous = summary.as_ref().map(|s| s.text.as_str());
        match summarise(
            state,
            scope,
            model,
            previous,
            &history[need.from..need.to],
            window,
        )
        .await
        {
            Ok(text) if !text.trim().is_empty() => {
                let s = SessionSummary {
                    text: text.trim().to_string(),
                    through: need.through.clone(),
                };
                state
                    .store
                    .set_chat_summary(scope, session_id, Some(&s))
                    .await?;
                summary = Some(Summary {
                    text: s.text,
                    through: s.through,
                });
                rebuilt = true;
            }
            Ok(_) => return Ok(built),
            Err(e) => {
                // The turn goes on without the new summary; the next turn tries again.
                tracing::warn!(error = %e, "could not write the rolling summary");
                return Ok(built);
            }
        }
    }
}

/// Has the model fold `messages` into the previous summary. The request is kept inside the
/// window by cutting the transcript's start until it fits.
async fn summarise(
    state: &AppState,
    scope: &Scope,
    model: &ModelId,
    previous: Option<&str>,
    messages: &[HistoryMessage],
    window: usize,
) -> Result<String, AiError> {
    let rt = &state.ai;
    let limit = window.saturating_sub(SUMMARY_TOKENS as usize);
    let mut max_chars = window.saturating_mul(3);
    let prompt = loop {
        let prompt = context::summary_prompt(previous, messages, max_chars);
        let n = rt
            .count_tokens(model, &rt.render_chat(model, &prompt).await?)
            .await?;
        if n <= limit {
            break prompt;
        }
        if max_chars < 16 {
            return Err(AiError::ContextOverflow { needed: n, window });
        }
        max_chars /= 2;
    };
    let params = SamplingParams {
        temperature: 0.0,
        seed: Some(0),
        max_tokens: SUMMARY_TOKENS,
        ..SamplingParams::default()
    };
    let mut rx = rt.chat(scope.user_id(), model, prompt, params).await?;
    let mut text = String::new();
    while let Some(ev) = rx.recv().await {
        match ev {
            GenEvent::Token(t) => text.push_str(&t),
            GenEvent::Done { .. } => break,
            GenEvent::Error(e) => return Err(AiError::Engine(e)),
        }
    }
    Ok(text)
}
