//! Remote backends: an Ollama server (native API) and any number of OpenAI-compatible servers.
//!
//! Each backend has its own circuit breaker ([`breaker`]) and its own queues (held by the
//! runtime per model id), and every call is bounded by timeouts, so a dead backend never slows
//! the embedded engine. A chat is retried before its first token only (after that the user has
//! seen text, and a retry would repeat it): up to 3 retries after 2 s, 4 s and 8 s, each ±20%
//! jitter. Model lists are fetched with a short timeout and cached; when a backend cannot be
//! reached its last list is shown as unavailable.

pub mod breaker;
mod config;
pub mod ollama;
pub mod openai;
mod stream;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::{AiError, ChatMessage, FinishReason, GenEvent, SamplingParams, TokenUsage};
use breaker::CircuitBreaker;
pub use config::from_config;
use stream::LineStream;

/// Retries after the first attempt.
pub const RETRIES: u32 = 3;
/// The first retry's delay; each next one doubles.
pub const RETRY_BASE: Duration = Duration::from_secs(2);
/// How long a model list stays fresh.
pub const LIST_TTL: Duration = Duration::from_secs(30);
/// Timeout for listing and metadata calls.
pub const LIST_TIMEOUT: Duration = Duration::from_secs(2);
/// Timeout for connecting, and for the first byte of a chat answer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for the first token of a chat (a cold model may need to load).
pub const FIRST_TOKEN_TIMEOUT: Duration = Duration::from_secs(120);

/// One event parsed from a backend's stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// Text.
    Token(String),
    /// The end, possibly with a last piece of text.
    Done {
        /// Text on the final line.
        text: Option<String>,
        /// Counts as the backend reports them.
        usage: TokenUsage,
        /// Why it ended.
        finish: FinishReason,
    },
    /// The backend reported an error.
    Error(String),
    /// Nothing to report.
    Skip,
}

/// A model a backend offers.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteModel {
    /// Its name on the backend.
    pub name: String,
    /// Bytes, where reported.
    pub size: Option<u64>,
    /// Architecture family.
    pub family: Option<String>,
    /// Quantisation.
    pub quantization: Option<String>,
    /// e.g. `8B`.
    pub parameter_size: Option<String>,
    /// Context window, where reported.
    pub context_length: Option<u32>,
}

/// Which API a backend speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Ollama's native API.
    Ollama,
    /// OpenAI-compatible.
    OpenAi,
}

/// Timing knobs shared by the backends (tests shorten them).
#[derive(Debug)]
pub struct RemoteTiming {
    retry_base_ms: AtomicU64,
}

impl Default for RemoteTiming {
    fn default() -> Self {
        Self {
            retry_base_ms: AtomicU64::new(RETRY_BASE.as_millis() as u64),
        }
    }
}

impl RemoteTiming {
    /// Sets the first retry delay.
    pub fn set_retry_base(&self, d: Duration) {
        self.retry_base_ms
            .store(d.as_millis() as u64, Ordering::Relaxed);
    }

    /// The delay before retry `n` (0-based): base × 2ⁿ, ±20% jitter.
    pub fn backoff(&self, n: u32) -> Duration {
        let base = self.retry_base_ms.load(Ordering::Relaxed) as f64 * f64::from(1u32 << n.min(16));
        let jitter = rand::rng().random_range(0.8..=1.2);
        Duration::from_millis((base * jitter) as u64)
    }
}

struct ListCache {
    fetched: Instant,
    models: Vec<RemoteModel>,
    ok: bool,
}

/// One configured backend.
pub struct Backend {
    /// `ollama` or the configured OpenAI-compatible name.
    pub name: String,
    /// Its API.
    pub protocol: Protocol,
    base: String,
    api_key: Option<String>,
    client: reqwest::Client,
    /// Its circuit breaker.
    pub breaker: CircuitBreaker,
    timing: Arc<RemoteTiming>,
    list: Mutex<Option<ListCache>>,
}

impl Backend {
    /// A backend at `base` (for OpenAI-compatible servers, the URL including `/v1`).
    pub fn new(
        name: &str,
        protocol: Protocol,
        base: &str,
        api_key: Option<String>,
        timing: Arc<RemoteTiming>,
    ) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .unwrap_or_default();
        Self {
            name: name.to_string(),
            protocol,
            base: base.trim_end_matches('/').to_string(),
            api_key: api_key.filter(|k| !k.is_empty()),
            client,
            breaker: CircuitBreaker::default(),
            timing,
            list: Mutex::new(None),
        }
    }

    /// The id prefix of its models: `remote-ollama:` or `openai/<name>:`.
    pub fn id_prefix(&self) -> String {
        match self.protocol {
            Protocol::Ollama => "remote-ollama:".to_string(),
            Protocol::OpenAi => format!("openai/{}:", self.name),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.client.request(method, format!("{}{path}", self.base));
        if let Some(k) = &self.api_key {
            r = r.bearer_auth(k);
        }
        r
    }

    async fn get_json(&self, path: &str) -> Result<Value, String> {
        let resp = self
            .request(reqwest::Method::GET, path)
            .timeout(LIST_TIMEOUT)
            .send()
            .await
            .map_err(|e| format!("cannot reach it ({})", short(&e)))?;
        if !resp.status().is_success() {
            return Err(format!("it answered {}", resp.status().as_u16()));
        }
        resp.json()
            .await
            .map_err(|_| "it sent invalid JSON".to_string())
    }

    /// Its models and whether they are available: fresh from the backend when the cached list
    /// is older than [`LIST_TTL`] (bounded by [`LIST_TIMEOUT`]), else the cache; the last list
    /// seen, marked unavailable, when it cannot be reached or its circuit is open.
    pub async fn models(&self) -> (Vec<RemoteModel>, bool) {
        if let Some(c) = self.list.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
            && c.ok
            && c.fetched.elapsed() < LIST_TTL
        {
            return (c.models.clone(), true);
        }
        let fetched = if self.breaker.try_acquire() {
            let path = match self.protocol {
                Protocol::Ollama => "/api/tags",
                Protocol::OpenAi => "/models",
            };
            match self.get_json(path).await {
                Ok(v) => {
                    self.breaker.on_success();
                    Some(match self.protocol {
                        Protocol::Ollama => ollama::parse_tags(&v),
                        Protocol::OpenAi => openai::parse_models(&v),
                    })
                }
                Err(e) => {
                    tracing::warn!(backend = %self.name, error = %e, "cannot list the backend's models");
                    self.breaker.on_failure();
                    None
                }
            }
        } else {
            None
        };
        let mut cache = self.list.lock().unwrap_or_else(|p| p.into_inner());
        match fetched {
            Some(models) => {
                *cache = Some(ListCache {
                    fetched: Instant::now(),
                    models: models.clone(),
                    ok: true,
                });
                (models, true)
            }
            None => {
                let last = cache.as_ref().map(|c| c.models.clone()).unwrap_or_default();
                *cache = Some(ListCache {
                    fetched: Instant::now(),
                    models: last.clone(),
                    ok: false,
                });
                (last, false)
            }
        }
    }

    /// Forgets the freshness of the cached model list (the next listing asks the backend).
    pub fn expire_model_list(&self) {
        if let Some(c) = self.list.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            c.ok = false;
        }
    }

    /// The context window Ollama reports for a model (`/api/show`), or the one the model list
    /// gave for OpenAI-compatible servers.
    pub async fn context_length(&self, model: &str) -> Option<u32> {
        match self.protocol {
            Protocol::Ollama => {
                let resp = self
                    .request(reqwest::Method::POST, "/api/show")
                    .timeout(LIST_TIMEOUT)
                    .json(&serde_json::json!({"model": model}))
                    .send()
                    .await
                    .ok()?;
                let v: Value = resp.error_for_status().ok()?.json().await.ok()?;
                ollama::parse_show_context(&v)
            }
            Protocol::OpenAi => self
                .models()
                .await
                .0
                .into_iter()
                .find(|m| m.name == model)
                .and_then(|m| m.context_length),
        }
    }

    /// Models Ollama has loaded now (`/api/ps`); empty for other servers or on failure.
    pub async fn loaded(&self) -> Vec<String> {
        if self.protocol != Protocol::Ollama || self.breaker.state() == breaker::BreakerState::Open
        {
            return Vec::new();
        }
        match self.get_json("/api/ps").await {
            Ok(v) => ollama::parse_ps(&v),
            Err(_) => Vec::new(),
        }
    }

    fn unavailable(&self, reason: impl Into<String>) -> AiError {
        AiError::BackendUnavailable {
            backend: self.name.clone(),
            reason: reason.into(),
        }
    }

    /// Streams a chat. Retries (with backoff) until the first token arrives; after that the
    /// stream is the caller's and errors arrive as [`GenEvent::Error`]. Dropping the receiver
    /// closes the connection.
    pub async fn chat(
        self: &Arc<Self>,
        model: &str,
        messages: &[ChatMessage],
        params: &SamplingParams,
    ) -> Result<mpsc::Receiver<GenEvent>, AiError> {
        let (path, body) = match self.protocol {
            Protocol::Ollama => ("/api/chat", ollama::chat_body(model, messages, params)),
            Protocol::OpenAi => (
                "/chat/completions",
                openai::chat_body(model, messages, params),
            ),
        };
        let mut last_error = String::new();
        for attempt in 0..=RETRIES {
            if attempt > 0 {
                tokio::time::sleep(self.timing.backoff(attempt - 1)).await;
            }
            if !self.breaker.try_acquire() {
                return Err(self.unavailable("its circuit is open after repeated failures"));
            }
            match self.start_stream(path, &body).await {
                Ok(rx) => {
                    self.breaker.on_success();
                    return Ok(rx);
                }
                Err(e) => {
                    tracing::warn!(backend = %self.name, attempt, error = %e, "backend chat attempt failed");
                    self.breaker.on_failure();
                    last_error = e;
                }
            }
        }
        Err(self.unavailable(last_error))
    }

    /// Sends the request and reads until the first event; then forwards the rest from a task.
    async fn start_stream(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<mpsc::Receiver<GenEvent>, String> {
        let resp = tokio::time::timeout(
            FIRST_TOKEN_TIMEOUT,
            self.request(reqwest::Method::POST, path).json(body).send(),
        )
        .await
        .map_err(|_| "no answer in time".to_string())?
        .map_err(|e| format!("cannot reach it ({})", short(&e)))?;
        if !resp.status().is_success() {
            return Err(format!("it answered {}", resp.status().as_u16()));
        }
        let mut stream = LineStream::new(resp, self.protocol);
        // Wait for the first event: failures before it are retried.
        let first = tokio::time::timeout(FIRST_TOKEN_TIMEOUT, stream.next_event())
            .await
            .map_err(|_| "no first token in time".to_string())??;
        let (tx, rx) = mpsc::channel(64);
        let _ = tx.try_send(first.clone());
        if !matches!(first, GenEvent::Done { .. }) {
            let backend = self.name.clone();
            tokio::spawn(async move {
                loop {
                    let ev = tokio::select! {
                        ev = stream.next_event() => ev,
                        _ = tx.closed() => return, // the client went away: drop the connection
                    };
                    let ev = ev.unwrap_or_else(|e| {
                        tracing::warn!(backend = %backend, error = %e, "backend stream broke");
                        GenEvent::Error(format!("the backend stopped answering: {e}"))
                    });
                    let end = !matches!(ev, GenEvent::Token(_));
                    if tx.send(ev).await.is_err() || end {
                        return;
                    }
                }
            });
        }
        Ok(rx)
    }
}

/// A reqwest error without the URL (which may carry credentials).
pub(crate) fn short(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection refused or unreachable".into()
    } else {
        "connection failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_twenty_percent_jitter() {
        let t = RemoteTiming::default();
        for (n, secs) in [(0, 2.0), (1, 4.0), (2, 8.0)] {
            for _ in 0..50 {
                let d = t.backoff(n).as_secs_f64();
                assert!(
                    d >= secs * 0.8 - 0.001 && d <= secs * 1.2 + 0.001,
                    "{n}: {d}"
                );
            }
        }
        t.set_retry_base(Duration::from_millis(10));
        assert!(t.backoff(0) <= Duration::from_millis(12));
    }
}
