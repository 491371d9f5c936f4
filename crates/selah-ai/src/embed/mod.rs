//! Sentence embeddings, in-process: a sentence-transformers BERT-family model (all-MiniLM-L6-v2 by
//! default) run on the CPU by our own encoder ([`bert`], products by OpenBLAS), with the model's own
//! `tokenizer.json`, mean pooling over the tokens and L2 normalisation, as sentence-transformers
//! does for these models.
//!
//! A model is a directory holding `config.json`, `tokenizer.json` and `model.safetensors`, and
//! optionally `sentence_bert_config.json` (the input length) and `1_Pooling/config.json` (CLS or
//! mean pooling). Every vector records the [`Embedder::model_id`] that made it, so a changed model
//! is noticed and its vectors are rebuilt.
//!
//! Calls are CPU-bound and blocking: run them off the async executor. A call with several texts
//! spreads them over the machine's cores, one text per core at a time.

mod bert;
mod blas;
mod few_rows;
mod kernels;

use std::io::Read;
use std::path::{Path, PathBuf};

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokenizers::{Tokenizer, TruncationParams};

use bert::{Bert, BertConfig, Scratch};

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
    model: Bert,
    /// Truncates to `max_tokens`.
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
        blas::single_threaded();
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
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?
            .with_padding(None);

        let weights = dir.join("model.safetensors");
        let model = Bert::load(&config, &weights)?;
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
        let encodings = self
            .tokenizer
            .encode_batch_fast(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        // Longest first, so the last texts a core picks up are short and the cores finish together.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(encodings[i].len()));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = cores.min(texts.len());
        // One text (a search question) has the cores to itself: its products are split between
        // two threads, which nearly halves the latency every search pays.
        let split = workers == 1 && cores > 1;
        let next = AtomicUsize::new(0);
        let out = Mutex::new(vec![Vec::new(); texts.len()]);
        let work = || -> Result<(), EmbedError> {
            let mut scratch = Scratch::default();
            while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                let v = self.vector(encodings[i].get_ids(), &mut scratch, split)?;
                out.lock().unwrap_or_else(|p| p.into_inner())[i] = v;
            }
            Ok(())
        };
        if split {
            // Inside rayon's pool, each product's halves are a cheap join between its threads.
            rayon::scope(|_| work())?;
        } else if workers <= 1 {
            work()?;
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..workers).map(|_| s.spawn(work)).collect();
                handles
                    .into_iter()
                    .try_for_each(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            })?;
        }
        Ok(out.into_inner().unwrap_or_else(|p| p.into_inner()))
    }

    /// The pooled, unit-length vector of one tokenised text.
    fn vector(
        &self,
        ids: &[u32],
        scratch: &mut Scratch,
        split: bool,
    ) -> Result<Vec<f32>, EmbedError> {
        if ids.is_empty() {
            return Err(EmbedError::Tokenizer("the text gave no tokens".into()));
        }
        let tokens = self.model.encode(ids, scratch, split)?;
        let mut pooled = vec![0.0f32; self.dim];
        if self.cls_pooling {
            pooled.copy_from_slice(&tokens[..self.dim]);
        } else {
            for row in tokens.chunks_exact(self.dim) {
                for (p, v) in pooled.iter_mut().zip(row) {
                    *p += v;
                }
            }
            let n = ids.len() as f32;
            pooled.iter_mut().for_each(|p| *p /= n);
        }
        let norm = pooled.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        pooled.iter_mut().for_each(|p| *p /= norm);
        Ok(pooled)
    }
}
