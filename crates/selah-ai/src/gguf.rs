//! GGUF header reader (provisional copy on the runtime branch; the engine branch owns this
//! file and its version replaces this one at merge). Reads metadata and tensor shapes only,
//! never the weights.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::AiError;

/// What a GGUF header says about a model.
#[derive(Debug, Clone, PartialEq)]
pub struct GgufInfo {
    /// `general.architecture`.
    pub architecture: String,
    /// `general.name`.
    pub name: Option<String>,
    /// Parameters (sum of tensor elements).
    pub parameters: Option<u64>,
    /// Quantisation from `general.file_type`.
    pub quantization: Option<String>,
    /// Trained context length.
    pub context_length: Option<u32>,
    /// `tokenizer.chat_template`.
    pub chat_template: Option<String>,
    /// File size in bytes.
    pub file_size: u64,
    /// Layers.
    pub block_count: Option<u32>,
    /// Embedding width.
    pub embedding_length: Option<u32>,
    /// Attention heads.
    pub head_count: Option<u32>,
    /// Key/value heads.
    pub head_count_kv: Option<u32>,
}

impl GgufInfo {
    /// f16 K and V for every layer over `n_ctx` tokens.
    pub fn kv_cache_bytes(&self, n_ctx: u32) -> u64 {
        let layers = u64::from(self.block_count.unwrap_or(0));
        let embd = u64::from(self.embedding_length.unwrap_or(0));
        let heads = u64::from(self.head_count.unwrap_or(1).max(1));
        let kv_heads = u64::from(self.head_count_kv.or(self.head_count).unwrap_or(1));
        let kv_width = embd / heads * kv_heads;
        2 * layers * u64::from(n_ctx) * kv_width * 2
    }

    /// Weights plus KV cache plus a small compute overhead.
    pub fn estimated_runtime_bytes(&self, n_ctx: u32) -> u64 {
        self.file_size + self.kv_cache_bytes(n_ctx) + self.file_size / 10
    }
}

fn bad(m: impl Into<String>) -> AiError {
    AiError::BadModel(m.into())
}

struct Reader<R: Read>(R);

impl<R: Read> Reader<R> {
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], AiError> {
        let mut b = [0u8; N];
        self.0
            .read_exact(&mut b)
            .map_err(|_| bad("the header is truncated"))?;
        Ok(b)
    }
    fn u32(&mut self) -> Result<u32, AiError> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }
    fn u64(&mut self) -> Result<u64, AiError> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }
    fn string(&mut self) -> Result<String, AiError> {
        let len = self.u64()?;
        if len > 64 << 20 {
            return Err(bad("a header string is implausibly long"));
        }
        let mut b = vec![0u8; len as usize];
        self.0
            .read_exact(&mut b)
            .map_err(|_| bad("the header is truncated"))?;
        String::from_utf8(b).map_err(|_| bad("a header string is not UTF-8"))
    }
    fn value(&mut self, ty: u32) -> Result<Value, AiError> {
        Ok(match ty {
            0 | 1 | 7 => Value::Int(u64::from(self.bytes::<1>()?[0])),
            2 | 3 => Value::Int(u64::from(u16::from_le_bytes(self.bytes()?))),
            4 | 5 => Value::Int(u64::from(self.u32()?)),
            6 => {
                self.bytes::<4>()?;
                Value::Other
            }
            8 => Value::Str(self.string()?),
            9 => {
                let inner = self.u32()?;
                let n = self.u64()?;
                for _ in 0..n {
                    self.value(inner)?;
                }
                Value::Other
            }
            10 | 11 => Value::Int(self.u64()?),
            12 => {
                self.bytes::<8>()?;
                Value::Other
            }
            t => return Err(bad(format!("unknown metadata type {t}"))),
        })
    }
}

enum Value {
    Int(u64),
    Str(String),
    Other,
}

/// The usual name of a `general.file_type`.
fn file_type_name(t: u64) -> Option<&'static str> {
    Some(match t {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        32 => "BF16",
        _ => return None,
    })
}

/// Reads the header of the GGUF at `path`.
pub fn read_gguf_info(path: &Path) -> Result<GgufInfo, AiError> {
    let file = File::open(path).map_err(|e| bad(format!("cannot open the file: {e}")))?;
    let file_size = file
        .metadata()
        .map_err(|e| bad(format!("cannot read the file: {e}")))?
        .len();
    let mut r = Reader(BufReader::new(file));
    if &r.bytes::<4>()? != b"GGUF" {
        return Err(bad("the file does not start with the GGUF magic"));
    }
    let version = r.u32()?;
    if !(2..=3).contains(&version) {
        return Err(bad(format!("unsupported GGUF version {version}")));
    }
    let tensors = r.u64()?;
    let kvs = r.u64()?;
    let mut ints = std::collections::HashMap::new();
    let mut strs = std::collections::HashMap::new();
    for _ in 0..kvs {
        let key = r.string()?;
        let ty = r.u32()?;
        match r.value(ty)? {
            Value::Int(v) => {
                ints.insert(key, v);
            }
            Value::Str(s) => {
                strs.insert(key, s);
            }
            Value::Other => {}
        }
    }
    let mut parameters = 0u64;
    for _ in 0..tensors {
        r.string()?;
        let dims = r.u32()?;
        let mut n = 1u64;
        for _ in 0..dims {
            n = n.saturating_mul(r.u64()?);
        }
        r.u32()?;
        r.u64()?;
        parameters = parameters.saturating_add(n);
    }
    let architecture = strs
        .get("general.architecture")
        .cloned()
        .ok_or_else(|| bad("no general.architecture"))?;
    let arch_u32 = |k: &str| {
        ints.get(&format!("{architecture}.{k}"))
            .map(|v| *v as u32)
    };
    Ok(GgufInfo {
        name: strs.get("general.name").cloned(),
        parameters: (tensors > 0).then_some(parameters),
        quantization: ints
            .get("general.file_type")
            .and_then(|t| file_type_name(*t))
            .map(str::to_string),
        context_length: arch_u32("context_length"),
        chat_template: strs.get("tokenizer.chat_template").cloned(),
        file_size,
        block_count: arch_u32("block_count"),
        embedding_length: arch_u32("embedding_length"),
        head_count: arch_u32("attention.head_count"),
        head_count_kv: arch_u32("attention.head_count_kv"),
        architecture,
    })
}
