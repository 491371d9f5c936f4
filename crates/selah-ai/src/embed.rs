//! Sentence embeddings, in-process: a sentence-transformers BERT-family model (all-MiniLM-L6-v2 by
//! default) run by candle on the CPU, with the model's own `tokenizer.json`, mean pooling over the
//! attention mask and L2 normalisation, as sentence-transformers does for these models.
//!
//! A model is a directory holding `config.json`, `tokenizer.json` and `model.safetensors`, and
//! optionally `sentence_bert_config.json` (the input length) and `1_Pooling/config.json` (CLS or
//! mean pooling). Every vector records the [`Embedder::model_id`] that made it, so a changed model
//! is noticed and its vectors are rebuilt.
//!
//! Calls are CPU-bound and blocking: run them off the async executor.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// Inputs embedded in one forward pass; sorted by length first so padding stays small.
const BATCH: usize = 16;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A file of the model directory is missing or unreadable.
    #[error("embedding model {path}: {reason}")]
    Files {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The tokenizer failed.
    #[error("embedding tokenizer: {0}")]
    Tokenizer(String),
    /// The model failed to load or run.
    #[error("embedding model: {0}")]
    Model(String),
}

impl From<candle_core::Error> for EmbedError {
    fn from(e: candle_core::Error) -> Self {
        Self::Model(e.to_string())
    }
}

/// Makes glibc keep freed tensor-sized blocks for reuse. A forward pass allocates and frees
/// tensors of a few MiB to a few tens of MiB; by default glibc hands blocks that size straight
/// back to the kernel (mmap threshold, heap trimming), so every pass pays page faults to get
/// them again. Profiling the embedder showed a fifth of its time in the kernel for this;
/// keeping up to 256 MiB of free heap made it 20–40% faster (docs/BENCHMARKS.md). Process-wide,
/// set once, on the first model load; other allocators and platforms are left alone. The
/// workspace's only `unsafe`: glibc has no safe interface for this.
#[allow(unsafe_code)]
fn keep_tensor_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: mallopt only changes allocator parameters; it is thread-safe in glibc.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
                libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
            }
        });
    }
}

/// `sentence_bert_config.json`.
#[derive(Deserialize)]
struct SentenceConfig {
    max_seq_length: usize,
}

/// `1_Pooling/config.json` (only what changes the computation).
#[derive(Deserialize, Default)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_cls_token: bool,
}

/// A loaded embedding model.
pub struct Embedder {
    model: BertModel,
    /// Truncates to `max_tokens` and pads batches.
    tokenizer: Tokenizer,
    /// The same vocabulary without truncation or padding, for counting.
    counter: Tokenizer,
    id: String,
    dim: usize,
    max_tokens: usize,
    cls_pooling: bool,
}

fn read(path: &Path) -> Result<Vec<u8>, EmbedError> {
    std::fs::read(path).map_err(|e| EmbedError::Files {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn parse<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, EmbedError> {
    serde_json::from_slice(&read(path)?).map_err(|e| EmbedError::Files {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// `<directory name>@<first 12 hex digits of the weights' SHA-256>`: the same weights under another
/// directory name count as another model only by name, and changed weights are always noticed.
fn model_id(dir: &Path, weights: &Path) -> Result<String, EmbedError> {
    let mut file = std::fs::File::open(weights).map_err(|e| EmbedError::Files {
        path: weights.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| EmbedError::Files {
            path: weights.to_path_buf(),
            reason: e.to_string(),
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let name = dir
        .file_name()
        .map_or_else(|| "embedder".into(), |n| n.to_string_lossy().into_owned());
    Ok(format!("{name}@{}", &hex::encode(hasher.finalize())[..12]))
}

impl Embedder {
    /// Loads the model in `dir`.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        keep_tensor_memory();
        let config: BertConfig = parse(&dir.join("config.json"))?;
        let max_tokens = match dir.join("sentence_bert_config.json") {
            p if p.exists() => parse::<SentenceConfig>(&p)?.max_seq_length,
            _ => 512,
        }
        .min(config.max_position_embeddings);
        let pooling = match dir.join("1_Pooling").join("config.json") {
            p if p.exists() => parse::<PoolingConfig>(&p)?,
            _ => PoolingConfig::default(),
        };

        let tok_path = dir.join("tokenizer.json");
        let mut counter =
            Tokenizer::from_bytes(read(&tok_path)?).map_err(|e| EmbedError::Files {
                path: tok_path.clone(),
                reason: e.to_string(),
            })?;
        let mut tokenizer = counter.clone();
        counter
            .with_truncation(None)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?
            .with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                ..Default::default()
            }))
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..Default::default()
        }));

        let weights = dir.join("model.safetensors");
        let tensors: HashMap<String, Tensor> =
            candle_core::safetensors::load(&weights, &Device::Cpu).map_err(|e| {
                EmbedError::Files {
                    path: weights.clone(),
                    reason: e.to_string(),
                }
            })?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
        let model = BertModel::load(vb, &config)?;
        Ok(Self {
            model,
            tokenizer,
            counter,
            id: model_id(dir, &weights)?,
            dim: config.hidden_size,
            max_tokens,
            cls_pooling: pooling.pooling_mode_cls_token,
        })
    }

    /// Names the model and its exact weights; stored with every vector.
    pub fn model_id(&self) -> &str {
        &self.id
    }

    /// Length of each vector.
    pub fn dimensions(&self) -> usize {
        self.dim
    }

    /// Word pieces the model reads per input, including its two special tokens; the rest of a
    /// longer input is ignored.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// Word pieces in `text`, without the special tokens (what chunking budgets with).
    pub fn count_tokens(&self, text: &str) -> Result<usize, EmbedError> {
        self.counter
            .encode_fast(text, false)
            .map(|e| e.len())
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))
    }

    /// One unit-length vector per text, in order.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for group in order.chunks(BATCH) {
            let batch: Vec<&str> = group.iter().map(|&i| texts[i]).collect();
            for (&i, v) in group.iter().zip(self.embed_batch(&batch)?) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch_fast(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        let rows = encodings.len();
        let len = encodings.first().map_or(0, |e| e.len());
        let mut ids = Vec::with_capacity(rows * len);
        let mut mask = Vec::with_capacity(rows * len);
        for e in &encodings {
            ids.extend_from_slice(e.get_ids());
            mask.extend_from_slice(e.get_attention_mask());
        }
        let ids = Tensor::from_vec(ids, (rows, len), &Device::Cpu)?;
        let mask = Tensor::from_vec(mask, (rows, len), &Device::Cpu)?;
        let types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &types, Some(&mask))?;
        let pooled = if self.cls_pooling {
            hidden.narrow(1, 0, 1)?.squeeze(1)?
        } else {
            // Mean over the real tokens only: padding is masked out of the sum and the count.
            let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let sum = hidden.broadcast_mul(&m)?.sum(1)?;
            let count = m.sum(1)?.clamp(1e-9, f64::MAX)?;
            sum.broadcast_div(&count)?
        };
        let norm = pooled
            .sqr()?
            .sum_keepdim(1)?
            .sqrt()?
            .clamp(1e-12, f64::MAX)?;
        Ok(pooled.broadcast_div(&norm)?.to_vec2::<f32>()?)
    }
}
