//! A BERT encoder (all-MiniLM-L6-v2 and the other BERT-architecture sentence-transformers models)
//! read from `model.safetensors` and run one input at a time, so there is never any padding to compute and
//! mask, with buffers reused from input to input.
//!
//! Weights are held as `f32`, the projection matrices transposed once at load (and the query, key
//! and value projections joined into one) so every product reads its weights row-major.

use std::path::Path;

use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;

use super::EmbedError;
use super::few_rows::{FEW_ROWS, Packed};
use super::kernels::{
    Activation, Mat, View, add_rows, fill_rows, layer_norm, matmul, softmax_rows,
};

/// `config.json`, the fields the forward pass needs.
#[derive(Deserialize, Debug, Clone)]
pub struct BertConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Width of every token's vector.
    pub hidden_size: usize,
    /// Encoder layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer.
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// The feed-forward activation's Hugging Face name.
    pub hidden_act: String,
    /// Positions the model has embeddings for.
    pub max_position_embeddings: usize,
    /// Layer normalisation epsilon.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    /// Only `absolute` is supported.
    #[serde(default = "absolute")]
    pub position_embedding_type: String,
}

fn default_eps() -> f64 {
    1e-12
}

fn absolute() -> String {
    "absolute".into()
}

/// Fewer output columns than this per thread are not worth a second thread.
const MIN_SPLIT_COLUMNS: usize = 64;

/// `y = x · w + b` with `w` stored as `inputs × outputs`, and packed for short inputs.
struct Linear {
    w: Vec<f32>,
    /// `w` in the few-rows kernel's order (None where the CPU cannot run it).
    packed: Option<Packed>,
    b: Vec<f32>,
    inputs: usize,
}

impl Linear {
    fn new(w: Vec<f32>, b: Vec<f32>, inputs: usize) -> Linear {
        let packed = Packed::new(&w, inputs, b.len());
        Linear {
            w,
            packed,
            b,
            inputs,
        }
    }

    fn outputs(&self) -> usize {
        self.b.len()
    }

    /// `out = residual + x · w + b` for `rows` rows (`residual` absent: `x · w + b`). With
    /// `split`, half of the output columns are computed on a second thread.
    fn forward(
        &self,
        x: &[f32],
        rows: usize,
        residual: Option<&[f32]>,
        out: &mut [f32],
        split: bool,
    ) {
        let n = self.outputs();
        let out = &mut out[..rows * n];
        match residual {
            Some(r) => {
                out.copy_from_slice(&r[..rows * n]);
                add_rows(out, &self.b);
            }
            None => fill_rows(out, &self.b),
        }
        let x = Mat(x, View::dense(rows, self.inputs));
        // Columns `from..to` of `out += x · w`, written into `dst` laid out as `view`.
        let product = |dst: &mut [f32], view: View, from: usize, to: usize| match &self.packed {
            Some(p) if rows <= FEW_ROWS => {
                p.add_product(dst, view.row_stride, x.0, rows, (from, to))
            }
            _ => {
                let w = Mat(&self.w[from..], View::rows_of(self.inputs, to - from, n));
                matmul(dst, view, x, w, 1.0, true)
            }
        };
        if !split || n < 2 * MIN_SPLIT_COLUMNS {
            return product(out, View::dense(rows, n), 0, n);
        }
        // Each thread reads half of the weights (a short text's products are bound by reading
        // them): the right half of the columns goes through a buffer, the left is written in place.
        let half = n / 2;
        let mut right: Vec<f32> = out
            .chunks_exact(n)
            .flat_map(|row| row[half..].iter().copied())
            .collect();
        // rayon's threads wait for work between products; spawning a thread per product cost
        // this machine's kernel more time than the products' own arithmetic.
        rayon::join(
            || product(&mut right, View::dense(rows, n - half), half, n),
            || product(out, View::rows_of(rows, half, n), 0, half),
        );
        for (row, r) in out.chunks_exact_mut(n).zip(right.chunks_exact(n - half)) {
            row[half..].copy_from_slice(r);
        }
    }
}

struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

struct Layer {
    qkv: Linear,
    attn_out: Linear,
    attn_norm: Norm,
    up: Linear,
    down: Linear,
    out_norm: Norm,
}

/// A loaded encoder.
pub struct Bert {
    words: Vec<f32>,
    /// Position embeddings with token type 0's embedding already added.
    positions: Vec<f32>,
    embed_norm: Norm,
    layers: Vec<Layer>,
    heads: usize,
    hidden: usize,
    vocab: usize,
    max_positions: usize,
    eps: f32,
    act: Activation,
}

/// Buffers for one pass, grown to the longest input seen and reused.
#[derive(Default)]
pub struct Scratch {
    x: Vec<f32>,
    qkv: Vec<f32>,
    scores: Vec<f32>,
    ctx: Vec<f32>,
    ffn: Vec<f32>,
}

fn grow(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    &mut buf[..len]
}

/// Reads tensors by name, with or without the `bert.` prefix some checkpoints carry.
struct Tensors<'a> {
    st: SafeTensors<'a>,
    path: &'a Path,
}

impl Tensors<'_> {
    fn bad(&self, reason: String) -> EmbedError {
        EmbedError::Files {
            path: self.path.to_path_buf(),
            reason,
        }
    }

    fn find(&self, name: &str) -> Result<safetensors::tensor::TensorView<'_>, EmbedError> {
        self.st
            .tensor(name)
            .or_else(|_| self.st.tensor(&format!("bert.{name}")))
            .map_err(|_| self.bad(format!("no tensor {name}")))
    }

    /// The tensor's values as `f32`, checked against the expected shape.
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, EmbedError> {
        let view = self.find(name)?;
        if view.shape() != shape {
            return Err(self.bad(format!(
                "tensor {name} has shape {:?}, expected {shape:?}",
                view.shape()
            )));
        }
        let bytes = view.data();
        Ok(match view.dtype() {
            Dtype::F32 => bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Dtype::F16 => bytes
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Dtype::BF16 => bytes
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            other => return Err(self.bad(format!("tensor {name} is {other:?}, not a float"))),
        })
    }

    /// A PyTorch `Linear` (`weight` stored `outputs × inputs`), transposed for row-major reads.
    fn linear(&self, prefix: &str, inputs: usize, outputs: usize) -> Result<Linear, EmbedError> {
        let w = self.get(&format!("{prefix}.weight"), &[outputs, inputs])?;
        let mut t = vec![0.0; w.len()];
        for o in 0..outputs {
            for i in 0..inputs {
                t[i * outputs + o] = w[o * inputs + i];
            }
        }
        Ok(Linear::new(
            t,
            self.get(&format!("{prefix}.bias"), &[outputs])?,
            inputs,
        ))
    }

    fn norm(&self, prefix: &str, width: usize) -> Result<Norm, EmbedError> {
        // Old checkpoints name the parameters gamma and beta.
        let pick = |new: &str, old: &str| {
            self.get(&format!("{prefix}.{new}"), &[width])
                .or_else(|_| self.get(&format!("{prefix}.{old}"), &[width]))
        };
        Ok(Norm {
            gamma: pick("weight", "gamma")?,
            beta: pick("bias", "beta")?,
        })
    }
}

/// Joins the query, key and value projections into one `inputs × 3·outputs` product.
fn join_qkv(q: Linear, k: Linear, v: Linear) -> Linear {
    let (inputs, n) = (q.inputs, q.outputs());
    let mut w = Vec::with_capacity(inputs * 3 * n);
    for i in 0..inputs {
        for part in [&q, &k, &v] {
            w.extend_from_slice(&part.w[i * n..(i + 1) * n]);
        }
    }
    Linear::new(w, [q.b, k.b, v.b].concat(), inputs)
}

impl Bert {
    /// Loads the weights in `path` for the model `config` describes.
    pub fn load(config: &BertConfig, path: &Path) -> Result<Self, EmbedError> {
        let bad = |reason: String| EmbedError::Files {
            path: path.with_file_name("config.json"),
            reason,
        };
        let act = match config.hidden_act.as_str() {
            "gelu" => Activation::Gelu,
            "gelu_new" | "gelu_pytorch_tanh" => Activation::GeluTanh,
            "relu" => Activation::Relu,
            other => return Err(bad(format!("unsupported activation {other}"))),
        };
        if config.position_embedding_type != "absolute" {
            return Err(bad(format!(
                "unsupported position embeddings {}",
                config.position_embedding_type
            )));
        }
        let h = config.hidden_size;
        if config.num_attention_heads == 0 || !h.is_multiple_of(config.num_attention_heads) {
            return Err(bad(format!(
                "hidden size {h} is not a multiple of {} heads",
                config.num_attention_heads
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| EmbedError::Files {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let t = Tensors {
            st: SafeTensors::deserialize(&bytes).map_err(|e| EmbedError::Files {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?,
            path,
        };
        let (vocab, positions) = (config.vocab_size, config.max_position_embeddings);
        let words = t.get("embeddings.word_embeddings.weight", &[vocab, h])?;
        let mut pos = t.get("embeddings.position_embeddings.weight", &[positions, h])?;
        // Every input is one segment, token type 0, whatever number of types the model has.
        let types = "embeddings.token_type_embeddings.weight";
        let type_rows = t.find(types)?.shape().first().copied().unwrap_or(0).max(1);
        let type0 = t.get(types, &[type_rows, h])?;
        add_rows(&mut pos, &type0[..h]);
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for l in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{l}");
            let i = config.intermediate_size;
            layers.push(Layer {
                qkv: join_qkv(
                    t.linear(&format!("{p}.attention.self.query"), h, h)?,
                    t.linear(&format!("{p}.attention.self.key"), h, h)?,
                    t.linear(&format!("{p}.attention.self.value"), h, h)?,
                ),
                attn_out: t.linear(&format!("{p}.attention.output.dense"), h, h)?,
                attn_norm: t.norm(&format!("{p}.attention.output.LayerNorm"), h)?,
                up: t.linear(&format!("{p}.intermediate.dense"), h, i)?,
                down: t.linear(&format!("{p}.output.dense"), i, h)?,
                out_norm: t.norm(&format!("{p}.output.LayerNorm"), h)?,
            });
        }
        Ok(Self {
            words,
            positions: pos,
            embed_norm: t.norm("embeddings.LayerNorm", h)?,
            layers,
            heads: config.num_attention_heads,
            hidden: h,
            vocab,
            max_positions: positions,
            eps: config.layer_norm_eps as f32,
            act,
        })
    }

    /// The last layer's token vectors for `ids` (at most the model's positions), `ids.len()` rows
    /// of the hidden width, left in `s.x`.
    pub fn encode<'s>(
        &self,
        ids: &[u32],
        s: &'s mut Scratch,
        split: bool,
    ) -> Result<&'s [f32], EmbedError> {
        let (n, h) = (ids.len(), self.hidden);
        if n > self.max_positions {
            return Err(EmbedError::Model(format!(
                "{n} tokens exceed the model's {} positions",
                self.max_positions
            )));
        }
        let x = grow(&mut s.x, n * h);
        for (row, &id) in x.chunks_exact_mut(h).zip(ids) {
            let id = id as usize;
            if id >= self.vocab {
                return Err(EmbedError::Model(format!(
                    "token id {id} is outside the vocabulary"
                )));
            }
            row.copy_from_slice(&self.words[id * h..(id + 1) * h]);
        }
        for (v, p) in x.iter_mut().zip(&self.positions) {
            *v += p;
        }
        layer_norm(x, &self.embed_norm.gamma, &self.embed_norm.beta, self.eps);
        for layer in &self.layers {
            self.layer(layer, n, s, split);
        }
        Ok(&s.x[..n * h])
    }

    fn layer(&self, l: &Layer, n: usize, s: &mut Scratch, split: bool) {
        let h = self.hidden;
        let dh = h / self.heads;
        let qkv = grow(&mut s.qkv, n * 3 * h);
        l.qkv.forward(&s.x[..n * h], n, None, qkv, split);
        let scores = grow(&mut s.scores, n * n);
        let ctx = grow(&mut s.ctx, n * h);
        let scale = 1.0 / (dh as f32).sqrt();
        for head in 0..self.heads {
            let q = Mat(&qkv[head * dh..], View::rows_of(n, dh, 3 * h));
            let k_t = Mat(&qkv[h + head * dh..], View::rows_of(n, dh, 3 * h).t());
            matmul(scores, View::dense(n, n), q, k_t, scale, false);
            softmax_rows(scores, n);
            let v = Mat(&qkv[2 * h + head * dh..], View::rows_of(n, dh, 3 * h));
            matmul(
                &mut ctx[head * dh..],
                View::rows_of(n, dh, h),
                Mat(scores, View::dense(n, n)),
                v,
                1.0,
                false,
            );
        }
        // The attention output and its residual go to qkv's space, then back to x after the norm.
        let attended = &mut s.qkv[..n * h];
        l.attn_out
            .forward(ctx, n, Some(&s.x[..n * h]), attended, split);
        layer_norm(attended, &l.attn_norm.gamma, &l.attn_norm.beta, self.eps);
        let ffn = grow(&mut s.ffn, n * l.up.outputs());
        l.up.forward(attended, n, None, ffn, split);
        self.act.apply(ffn);
        let x = &mut s.x[..n * h];
        l.down.forward(ffn, n, Some(attended), x, split);
        layer_norm(x, &l.out_norm.gamma, &l.out_norm.beta, self.eps);
    }
}
