//! Selah's local AI: reading GGUF models, the embedded llama.cpp engine, the model registry
//! (local files, Ollama's store, remote Ollama and OpenAI-compatible servers), hot slots and the
//! memory-fit guard, the per-model queue, the context builder, and sentence embeddings.

pub mod context;
pub mod embed;
pub mod engine;
pub mod gguf;
pub mod gguf_writer;
pub mod hot;
pub mod memory;
pub mod ollama_store;
pub mod queue;
pub mod registry;
pub mod remote;
pub mod runtime;
pub mod slots;
pub mod status;
pub mod types;

pub use embed::{EmbedError, Embedder};
pub use engine::{EngineOptions, LocalModel};
pub use gguf::{GgufInfo, read_gguf_info};
pub use registry::ModelInfo;
pub use runtime::Runtime;
pub use status::EngineStatus;

pub use types::*;
