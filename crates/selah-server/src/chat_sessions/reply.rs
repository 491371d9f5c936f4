//! Writing a streamed reply: the task between the model's events, the SSE response and the
//! database, and the registry of replies being written (one per session at a time).
//!
//! The assistant row is created as `streaming` before the first token; its text is flushed at
//! most every [`FLUSH_EVERY`] or [`FLUSH_TOKENS`] tokens, so a crash loses at most that much of
//! what the user saw. A client that goes away closes the SSE channel: the task notices at
//! once, drops the model's receiver (which cancels the generation and frees its sequence) and
//! keeps the text as `incomplete`. `POST .../stop` ends it the same way, through the registry.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use selah_ai::context::ContextUsage;
use selah_ai::{FinishReason, GenEvent, TokenUsage};
use selah_store::Store;
use selah_store::chat_messages::MessageStatus;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

/// Longest time between two flushes of a growing reply.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);
/// Most tokens between two flushes.
pub const FLUSH_TOKENS: usize = 32;

/// The replies being written, by session id, each with its stop signal (taken once asked).
/// Cheap to clone.
#[derive(Clone, Default)]
pub struct Replies(Arc<Mutex<HashMap<String, Option<oneshot::Sender<()>>>>>);

impl Replies {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Option<oneshot::Sender<()>>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reserves the session for one reply; None when a reply is already being written there
    /// (or is still finishing after a stop). The reservation ends when the claim is dropped.
    pub fn claim(&self, session_id: &str) -> Option<ReplyClaim> {
        let mut map = self.map();
        if map.contains_key(session_id) {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        map.insert(session_id.to_string(), Some(tx));
        Some(ReplyClaim {
            replies: self.clone(),
            session_id: session_id.to_string(),
            stop: Some(rx),
        })
    }

    /// Asks the session's running reply to stop. False when none is running.
    pub fn stop(&self, session_id: &str) -> bool {
        match self.map().get_mut(session_id) {
            Some(entry) => {
                if let Some(tx) = entry.take() {
                    let _ = tx.send(());
                }
                true
            }
            None => false,
        }
    }
}

/// A session reserved for one reply; dropping it frees the session.
pub struct ReplyClaim {
    replies: Replies,
    session_id: String,
    stop: Option<oneshot::Receiver<()>>,
}

impl Drop for ReplyClaim {
    fn drop(&mut self) {
        // While this claim lives no other can exist for the session, so the entry is ours.
        self.replies.map().remove(&self.session_id);
    }
}

/// What the writer needs to know about the turn.
pub struct ReplyJob {
    /// The database.
    pub store: Store,
    /// The assistant row (created as `streaming`).
    pub message_id: String,
    /// The user row this answers.
    pub user_message_id: String,
    /// What the prompt contained.
    pub context: ContextUsage,
    /// The prompt's token count (the usage's figure when the model reports none).
    pub prompt_tokens: usize,
    /// The passages the prompt included, for the reply's citations.
    pub citations: Vec<selah_ai::context::Citation>,
    /// The session's reservation.
    pub claim: ReplyClaim,
    /// The document library, woken once the reply is saved so that it becomes searchable.
    pub library: std::sync::Arc<crate::docs::Library>,
}

/// Starts the writer task and returns the SSE response that streams its events.
pub fn stream(job: ReplyJob, events: mpsc::Receiver<GenEvent>) -> Response {
    let (tx, rx) = mpsc::channel::<Event>(64);
    tokio::spawn(write_reply(job, events, tx));
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    Sse::new(body)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
        .into_response()
}

fn event(name: &str, data: serde_json::Value) -> Event {
    Event::default().event(name).data(data.to_string())
}

/// How the loop ended.
enum End {
    Finished(TokenUsage, FinishReason),
    Failed(String),
    Stopped,
    ClientGone,
    EngineGone,
}

async fn write_reply(
    mut job: ReplyJob,
    mut events: mpsc::Receiver<GenEvent>,
    tx: mpsc::Sender<Event>,
) {
    let mut text = String::new();
    let mut pieces = 0usize;
    let mut unflushed = 0usize;
    let mut last_flush = Instant::now();
    if !job.citations.is_empty() {
        let cited = json!(job.citations);
        if let Err(e) = job.store.set_reply_citations(&job.message_id, &cited).await {
            tracing::warn!(error = %e, "could not save a reply's citations");
        }
    }
    let mut stop = job
        .claim
        .stop
        .take()
        .expect("a fresh claim has its stop receiver");
    let end = loop {
        let ev = tokio::select! {
            ev = events.recv() => ev,
            _ = &mut stop => break End::Stopped,
            _ = tx.closed() => break End::ClientGone,
        };
        match ev {
            Some(GenEvent::Token(t)) => {
                text.push_str(&t);
                pieces += 1;
                unflushed += 1;
                if tx.send(event("token", json!({ "text": t }))).await.is_err() {
                    break End::ClientGone;
                }
                if unflushed >= FLUSH_TOKENS || last_flush.elapsed() >= FLUSH_EVERY {
                    if let Err(e) = job.store.flush_chat_reply(&job.message_id, &text).await {
                        tracing::warn!(error = %e, "could not save a reply's progress");
                    }
                    unflushed = 0;
                    last_flush = Instant::now();
                }
            }
            Some(GenEvent::Done { usage, finish }) => break End::Finished(usage, finish),
            Some(GenEvent::Error(e)) => break End::Failed(e),
            None => break End::EngineGone,
        }
    };
    // Cancel the generation (if still running) before the final write.
    drop(events);
    let (status, usage, finish) = match &end {
        End::Finished(u, FinishReason::Cancelled) => {
            (MessageStatus::Incomplete, *u, FinishReason::Cancelled)
        }
        End::Finished(u, f) => (MessageStatus::Complete, *u, *f),
        End::Failed(_) => (
            MessageStatus::Error,
            fallback(&job, pieces),
            FinishReason::Cancelled,
        ),
        End::Stopped | End::ClientGone | End::EngineGone => (
            MessageStatus::Incomplete,
            fallback(&job, pieces),
            FinishReason::Cancelled,
        ),
    };
    if let Err(e) = job
        .store
        .finish_chat_reply(
            &job.message_id,
            &text,
            status,
            Some(i64::from(usage.prompt_tokens)),
            Some(i64::from(usage.completion_tokens)),
        )
        .await
    {
        tracing::error!(error = %e, message = %job.message_id, "could not save a finished reply");
    }
    job.library.wake();
    let last = match end {
        End::Failed(e) => {
            tracing::warn!(error = %e, "generation failed");
            event(
                "error",
                json!({"code": "generation_failed", "message": "the model failed while writing the reply; what it wrote so far is kept"}),
            )
        }
        End::EngineGone => event(
            "error",
            json!({"code": "generation_failed", "message": "the reply ended unexpectedly; what was written so far is kept"}),
        ),
        _ => done_event(&job, usage, finish),
    };
    let _ = tx.send(last).await;
    drop(job.claim);
}

/// Usage when the model reported none: the prompt as counted, one token per piece received.
fn fallback(job: &ReplyJob, pieces: usize) -> TokenUsage {
    TokenUsage {
        prompt_tokens: u32::try_from(job.prompt_tokens).unwrap_or(u32::MAX),
        completion_tokens: u32::try_from(pieces).unwrap_or(u32::MAX),
        cached_prompt_tokens: 0,
    }
}

fn done_event(job: &ReplyJob, usage: TokenUsage, finish: FinishReason) -> Event {
    let c = &job.context;
    event(
        "done",
        json!({
            "message_id": job.message_id,
            "user_message_id": job.user_message_id,
            "usage": {
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.prompt_tokens + usage.completion_tokens,
                "cached_prompt_tokens": usage.cached_prompt_tokens,
            },
            "context": {
                "included_messages": c.included_messages,
                "omitted_messages": c.omitted_messages,
                "summarised": c.summarised,
                "passages": c.passages,
                "truncated": c.truncated,
                "tokens": c.tokens,
            },
            "citations": job.citations,
            "finish": finish,
        }),
    )
}
