//! The vocabulary every part of the AI crate speaks: model ids, chat messages, sampling
//! parameters, generation events and errors.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A namespaced model id: `local:NAME` (a GGUF in the models directory), `ollama:NAME:TAG` (a
/// model an Ollama install holds, run by the embedded engine from Ollama's blob), `remote-ollama:NAME`
/// (served by a configured Ollama server) or `openai/BACKEND:NAME` (an OpenAI-compatible server).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ModelId(pub String);

impl ModelId {
    /// The provider part before the first `:`.
    pub fn provider(&self) -> &str {
        self.0.split_once(':').map(|(p, _)| p).unwrap_or("")
    }

    /// The part after the first `:`.
    pub fn name(&self) -> &str {
        self.0.split_once(':').map(|(_, n)| n).unwrap_or(&self.0)
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// Instructions to the model.
    System,
    /// The person.
    User,
    /// The model.
    Assistant,
}

impl ChatRole {
    /// The name chat templates use.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatRole::System => "system",
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Speaker.
    pub role: ChatRole,
    /// Text.
    pub content: String,
}

/// How to pick tokens. Defaults suit chat; `temperature = 0` with a `seed` is deterministic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SamplingParams {
    /// 0 means greedy.
    pub temperature: f32,
    /// Nucleus sampling mass.
    pub top_p: f32,
    /// Candidates kept (0: all).
    pub top_k: i32,
    /// Penalty for repeating recent tokens (1.0: none).
    pub repeat_penalty: f32,
    /// Random seed; None picks one.
    pub seed: Option<u32>,
    /// Most tokens to generate.
    pub max_tokens: u32,
    /// Strings that end the reply (not included in it).
    pub stop: Vec<String>,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self {
            temperature: 0.7,
            top_p: 0.95,
            top_k: 40,
            repeat_penalty: 1.1,
            seed: None,
            max_tokens: 512,
            stop: Vec::new(),
        }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// End-of-sequence token or a stop string.
    Stop,
    /// `max_tokens` or the context window reached.
    Length,
    /// The client went away or asked to stop.
    Cancelled,
}

/// Token counts of one generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Tokens in the prompt as the model saw it.
    pub prompt_tokens: u32,
    /// Tokens generated.
    pub completion_tokens: u32,
    /// Of the prompt's tokens, those the engine did not compute again because a previous
    /// generation had (a shared prefix: the conversation so far, a system prompt).
    #[serde(default)]
    pub cached_prompt_tokens: u32,
}

/// What a generation stream yields. Dropping the receiver cancels the generation and frees
/// its slot.
#[derive(Debug, Clone, PartialEq)]
pub enum GenEvent {
    /// A piece of text (one or more tokens, always valid UTF-8).
    Token(String),
    /// Finished.
    Done {
        /// Counts.
        usage: TokenUsage,
        /// Why it ended.
        finish: FinishReason,
    },
    /// Failed; no more events follow.
    Error(String),
}

/// AI errors, each with a message fit for the user.
#[derive(Debug, thiserror::Error)]
pub enum AiError {
    /// No such model.
    #[error("model {0} not found")]
    ModelNotFound(String),
    /// The file is not a readable GGUF.
    #[error("not a usable GGUF model: {0}")]
    BadModel(String),
    /// Loading would exceed the memory budget.
    #[error("{0}")]
    WouldNotFit(String),
    /// The queue for this model is full.
    #[error("the model is busy; try again in {retry_after_secs} s")]
    QueueFull {
        /// Suggested wait.
        retry_after_secs: u64,
    },
    /// A remote backend failed or its circuit is open.
    #[error("backend {backend} unavailable: {reason}")]
    BackendUnavailable {
        /// Backend name.
        backend: String,
        /// What happened.
        reason: String,
    },
    /// The prompt does not fit the context window even after trimming.
    #[error("the prompt needs {needed} tokens but the model's window is {window}")]
    ContextOverflow {
        /// Tokens needed.
        needed: usize,
        /// Window size.
        window: usize,
    },
    /// Anything else from the engine.
    #[error("engine error: {0}")]
    Engine(String),
}
