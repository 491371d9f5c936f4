//! The embedded engine: a GGUF model run in-process by llama.cpp (through `llama-cpp-2`).
//!
//! A [`LocalModel`] owns the loaded weights and one worker thread. The worker owns the llama.cpp
//! context (with one KV-cache stream per sequence) and does continuous batching: each step decodes
//! one token for every generating sequence together with a chunk of any newly arrived prompt, in a
//! single batch. Results flow to the async world through tokio channels, so no call here ever
//! blocks the executor except [`LocalModel::load`] (run it with `spawn_blocking`).

mod text;
mod worker;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;

use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::{LogOptions, send_logs_to_tracing};

use crate::gguf::{GgufInfo, read_gguf_info};
use crate::{AiError, ChatMessage, GenEvent, SamplingParams};

/// How a model is run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// CPU threads for one-token steps (a single conversation generating); 0 picks
    /// [`default_threads`].
    pub threads: u32,
    /// CPU threads for steps of several tokens (prompts, several conversations at once); 0 picks
    /// [`default_batch_threads`].
    pub batch_threads: u32,
    /// Context window of each sequence in tokens, capped by the model's own; 0 uses the model's.
    pub context_size: u32,
    /// Sequences decoded together (at least 1).
    pub max_sequences: u32,
    /// Keep finished sequences' KV cells for prompts that start the same way.
    pub prompt_cache: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            threads: 0,
            batch_threads: 0,
            context_size: 4096,
            max_sequences: 4,
            prompt_cache: true,
        }
    }
}

impl EngineOptions {
    /// The engine options the `[ai]` configuration asks for.
    pub fn from_config(ai: &selah_core::config::AiConfig) -> Self {
        Self {
            threads: ai.threads,
            batch_threads: ai.batch_threads,
            context_size: ai.context_size,
            max_sequences: ai.max_sequences,
            prompt_cache: ai.prompt_cache,
        }
    }
}

fn cores() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

/// One-token-step threads when none are configured: one less than the cores, 1 to 8.
/// llama.cpp's threads spin at their barriers, and a one-token step of a small model is only a
/// few milliseconds of work split into hundreds of barriers, so one preempted thread stalls the
/// rest: on a 2-core machine shared with the server, 2 threads measured 1.5 tokens/s against 100+
/// for 1 thread (see docs/BENCHMARKS.md, "LLM"). Beyond 8, such a step is bound by memory.
pub fn default_threads() -> u32 {
    cores().saturating_sub(1).clamp(1, 8)
}

/// Batch threads when none are configured: every core, 1 to 16. A step of several tokens has
/// enough work between barriers that a preempted thread costs little, and it is where the extra
/// core turns batching into throughput (4 conversations at once on 2 cores).
pub fn default_batch_threads() -> u32 {
    cores().clamp(1, 16)
}

/// llama.cpp's backend may be initialised once per process; every model shares it.
fn backend() -> Result<&'static LlamaBackend, AiError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            // llama.cpp's own chatter goes to `tracing` (at its levels) instead of stderr.
            send_logs_to_tracing(LogOptions::default());
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| AiError::Engine(format!("llama.cpp backend: {e}")))
}

/// A loaded model and its batching worker. `Send + Sync`: share it in an `Arc`.
pub struct LocalModel {
    model: Arc<LlamaModel>,
    template: LlamaChatTemplate,
    info: GgufInfo,
    n_ctx: u32,
    memory: u64,
    requests: Option<std::sync::mpsc::Sender<worker::Request>>,
    active: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("architecture", &self.info.architecture)
            .field("n_ctx", &self.n_ctx)
            .field("active", &self.active_sequences())
            .finish_non_exhaustive()
    }
}

impl LocalModel {
    /// Loads the GGUF at `path` and starts its worker. Blocking (reads the weights): call it
    /// from `spawn_blocking`. Files that are not usable GGUF models give [`AiError::BadModel`].
    pub fn load(path: &Path, opts: &EngineOptions) -> Result<Self, AiError> {
        // Our own header reader first: it gives a precise reason for files that are not GGUF.
        let info = read_gguf_info(path)?;
        let backend = backend()?;
        let params = LlamaModelParams::default();
        let model = LlamaModel::load_from_file(backend, path, &params).map_err(|e| {
            AiError::BadModel(format!(
                "llama.cpp could not load {} ({e}): the file is truncated, corrupt or of an \
                 unsupported architecture ({})",
                path.file_name().unwrap_or_default().to_string_lossy(),
                info.architecture
            ))
        })?;
        let model = Arc::new(model);
        // The GGUF's own template (llama.cpp recognises the common families from its text);
        // ChatML for models that ship none.
        let template = model
            .chat_template(None)
            .or_else(|_| LlamaChatTemplate::new("chatml"))
            .map_err(|e| AiError::BadModel(format!("chat template: {e}")))?;

        let trained = model.n_ctx_train().max(1);
        let n_ctx = match opts.context_size {
            0 => trained,
            n => n.min(trained),
        };
        let n_seq = opts.max_sequences.max(1);
        let threads = match opts.threads {
            0 => default_threads(),
            n => n,
        };
        let batch_threads = match opts.batch_threads {
            0 => default_batch_threads(),
            n => n,
        };
        // Every sequence gets its own full window, so the KV cache holds n_ctx × n_seq cells.
        let memory = info.estimated_runtime_bytes(n_ctx.saturating_mul(n_seq));

        let active = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = std::sync::mpsc::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let cfg = worker::Config {
            n_ctx,
            n_seq,
            threads,
            batch_threads,
            prompt_cache: opts.prompt_cache,
        };
        let (m, a) = (model.clone(), active.clone());
        let thread = std::thread::Builder::new()
            .name("selah-llm".into())
            .spawn(move || worker::run(backend, m, cfg, rx, a, ready_tx))
            .map_err(|e| AiError::Engine(format!("cannot start the engine thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(AiError::Engine(
                    "the engine thread stopped while starting".into(),
                ));
            }
        }
        Ok(Self {
            model,
            template,
            info,
            n_ctx,
            memory,
            requests: Some(tx),
            active,
            thread: Some(thread),
        })
    }

    /// Tokens each sequence may hold (prompt + reply).
    pub fn context_window(&self) -> u32 {
        self.n_ctx
    }

    /// What the file's header says.
    pub fn info(&self) -> &GgufInfo {
        &self.info
    }

    /// Tokens `text` takes with the model's vocabulary, exactly as [`Self::generate`] tokenizes
    /// a prompt (special tokens such as `<|im_start|>` count as one; a BOS is added when the
    /// model wants one).
    pub fn count_tokens(&self, text: &str) -> Result<usize, AiError> {
        Ok(worker::tokenize(&self.model, text).len())
    }

    /// Renders `messages` with the model's chat template, ending with an open assistant turn.
    pub fn render_chat(&self, messages: &[ChatMessage]) -> Result<String, AiError> {
        let chat = messages
            .iter()
            .map(|m| {
                // A NUL cannot cross into C; it carries no meaning in chat text anyway.
                LlamaChatMessage::new(m.role.as_str().into(), m.content.replace('\0', ""))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AiError::Engine(format!("chat message: {e}")))?;
        self.model
            .apply_chat_template(&self.template, &chat, true)
            .map_err(|e| AiError::Engine(format!("chat template failed: {e}")))
    }

    /// Starts generating from an already-rendered prompt on the model's batching worker; events
    /// arrive on the receiver; dropping it cancels and frees the sequence.
    pub fn generate(
        &self,
        prompt: String,
        params: SamplingParams,
    ) -> tokio::sync::mpsc::Receiver<GenEvent> {
        // Generous buffering: the worker never waits on a slow reader (a full buffer only
        // coalesces text, see the worker), and 256 events is a few KiB.
        let (tx, rx) = tokio::sync::mpsc::channel(256);
        self.active.fetch_add(1, Ordering::SeqCst);
        let request = worker::Request {
            prompt,
            params,
            events: tx,
        };
        let refused = match &self.requests {
            Some(r) => r.send(request).err().map(|e| e.0),
            None => Some(request),
        };
        if let Some(req) = refused {
            self.active.fetch_sub(1, Ordering::SeqCst);
            let _ = req
                .events
                .try_send(GenEvent::Error("the engine has stopped".into()));
        }
        rx
    }

    /// Generations accepted and not yet finished (running or waiting for a free sequence).
    pub fn active_sequences(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// Estimated memory in use: weights, the KV cache for every sequence, compute buffers.
    pub fn memory_bytes(&self) -> u64 {
        self.memory
    }
}

impl Drop for LocalModel {
    fn drop(&mut self) {
        // Closing the request channel stops the worker after its current step; joining it
        // frees the context (and its KV cache) before the weights go.
        drop(self.requests.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
