//! PROVISIONAL placeholder with the agreed interface so the runtime compiles before the engine
//! branch lands; replaced wholesale by the engine branch's module at merge. Not used as done.

use std::path::Path;

use crate::gguf::GgufInfo;
use crate::{AiError, ChatMessage, GenEvent, SamplingParams};

/// How a model is run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// CPU threads.
    pub threads: u32,
    /// Context window.
    pub context_size: u32,
    /// Sequences decoded together.
    pub max_sequences: u32,
}

impl EngineOptions {
    /// From the configuration.
    pub fn from_config(ai: &selah_core::config::AiConfig) -> Self {
        Self { threads: ai.threads, context_size: ai.context_size, max_sequences: ai.max_sequences }
    }
}

/// A loaded model.
#[derive(Debug)]
pub struct LocalModel {
    info: GgufInfo,
}

impl LocalModel {
    /// Loads.
    pub fn load(path: &Path, _opts: &EngineOptions) -> Result<Self, AiError> {
        let _ = crate::gguf::read_gguf_info(path)?;
        Err(AiError::Engine("the embedded engine is not merged yet".into()))
    }
    /// Window.
    pub fn context_window(&self) -> u32 {
        0
    }
    /// Header.
    pub fn info(&self) -> &GgufInfo {
        &self.info
    }
    /// Tokens.
    pub fn count_tokens(&self, _text: &str) -> Result<usize, AiError> {
        Err(AiError::Engine("not merged".into()))
    }
    /// Template.
    pub fn render_chat(&self, _messages: &[ChatMessage]) -> Result<String, AiError> {
        Err(AiError::Engine("not merged".into()))
    }
    /// Generate.
    pub fn generate(&self, _prompt: String, _params: SamplingParams) -> tokio::sync::mpsc::Receiver<GenEvent> {
        tokio::sync::mpsc::channel(1).1
    }
    /// Active.
    pub fn active_sequences(&self) -> usize {
        0
    }
    /// Memory.
    pub fn memory_bytes(&self) -> u64 {
        0
    }
}
