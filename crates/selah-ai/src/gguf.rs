//! A pure-Rust reader for GGUF (v2 and v3) headers: the key/value metadata and the tensor
//! descriptions, never the tensor data. It answers what a model is (architecture, size,
//! quantisation, context length, chat template) and how much memory running it will take, without
//! loading the weights.
//!
//! Every count and length read from the file is checked against the bytes that remain before
//! anything is allocated or skipped, so a malformed or hostile file gives an error, never a huge
//! allocation or a long loop.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::AiError;

/// `GGUF` read as a little-endian u32.
const MAGIC: u32 = 0x4655_4747;
/// llama.cpp's `GGML_MAX_DIMS`.
const MAX_DIMS: u32 = 4;
/// Upper bounds far above any real model, far below anything that could hurt.
const MAX_TENSORS: u64 = 1 << 20;
const MAX_KV: u64 = 1 << 20;
/// Longest single string we keep (chat templates are a few KiB; 16 MiB is generous).
const MAX_STRING: u64 = 16 << 20;
/// Compute buffers and scratch space llama.cpp allocates beyond weights and KV cache: measured
/// on SmolLM2 at 10-20% of the weights, plus fixed buffers of tens of MiB. We count 10% of the
/// file plus 64 MiB, which covers the models we have seen with room to spare.
const OVERHEAD_FIXED: u64 = 64 << 20;
const OVERHEAD_PERCENT: u64 = 10;

/// What a GGUF header says about a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GgufInfo {
    /// `general.architecture`, e.g. `llama`.
    pub architecture: String,
    /// `general.name`.
    pub name: Option<String>,
    /// Parameter count: the sum of every tensor's element count.
    pub parameters: Option<u64>,
    /// Quantisation name (`Q4_1`, `Q8_0`, `F16`...) from `general.file_type`, else the type
    /// holding most of the weights.
    pub quantization: Option<String>,
    /// The context length the model was trained for.
    pub context_length: Option<u32>,
    /// `tokenizer.chat_template` (Jinja).
    pub chat_template: Option<String>,
    /// Size of the file in bytes.
    pub file_size: u64,
    /// Transformer layers.
    pub block_count: Option<u32>,
    /// Hidden size.
    pub embedding_length: Option<u32>,
    /// Attention heads.
    pub head_count: Option<u32>,
    /// Key/value heads (grouped-query attention); the head count when absent.
    pub head_count_kv: Option<u32>,
}

impl GgufInfo {
    /// Bytes of an f16 KV cache for `n_ctx` tokens: keys and values, every layer, every KV
    /// head, head dimension `embedding_length / head_count`. 0 when the header lacks the figures.
    pub fn kv_cache_bytes(&self, n_ctx: u32) -> u64 {
        let (Some(layers), Some(embd), Some(heads)) =
            (self.block_count, self.embedding_length, self.head_count)
        else {
            return 0;
        };
        if heads == 0 {
            return 0;
        }
        let kv_heads = u64::from(self.head_count_kv.unwrap_or(heads));
        let head_dim = u64::from(embd / heads);
        2u64.saturating_mul(u64::from(layers))
            .saturating_mul(u64::from(n_ctx))
            .saturating_mul(kv_heads)
            .saturating_mul(head_dim)
            .saturating_mul(2)
    }

    /// Memory to run the model with a context of `n_ctx` tokens: the weights (file size), the
    /// KV cache, and compute overhead (10% of the weights + 64 MiB, see `OVERHEAD_*`).
    pub fn estimated_runtime_bytes(&self, n_ctx: u32) -> u64 {
        let overhead = self.file_size / 100 * OVERHEAD_PERCENT + OVERHEAD_FIXED;
        self.file_size
            .saturating_add(self.kv_cache_bytes(n_ctx))
            .saturating_add(overhead)
    }
}

/// Reads the header of the GGUF file at `path` (metadata and tensor descriptions only).
pub fn read_gguf_info(path: &Path) -> Result<GgufInfo, AiError> {
    let file = File::open(path).map_err(|e| AiError::BadModel(format!("cannot open: {e}")))?;
    let file_size = file
        .metadata()
        .map_err(|e| AiError::BadModel(format!("cannot stat: {e}")))?
        .len();
    let mut r = Reader {
        inner: BufReader::new(file),
        pos: 0,
        len: file_size,
    };
    parse(&mut r, file_size).map_err(AiError::BadModel)
}

/// A scalar metadata value we may need later.
#[derive(Debug, Clone)]
enum Value {
    Int(u64),
    Str(String),
}

fn parse(r: &mut Reader, file_size: u64) -> Result<GgufInfo, String> {
    if r.u32()
        .map_err(|_| "file too short to be GGUF".to_string())?
        != MAGIC
    {
        return Err("bad magic: not a GGUF file".into());
    }
    let version = r.u32()?;
    if !(2..=3).contains(&version) {
        return Err(format!("unsupported GGUF version {version} (2 and 3 are)"));
    }
    let n_tensors = r.u64()?;
    let n_kv = r.u64()?;
    if n_tensors > MAX_TENSORS || n_kv > MAX_KV {
        return Err(format!(
            "implausible counts: {n_tensors} tensors, {n_kv} metadata keys"
        ));
    }
    let mut kv: HashMap<String, Value> = HashMap::new();
    for _ in 0..n_kv {
        let key = r.string()?;
        let ty = r.u32()?;
        if let Some(v) = r.value(ty)? {
            kv.insert(key, v);
        }
    }
    let mut parameters: u64 = 0;
    let mut per_type: HashMap<u32, u64> = HashMap::new();
    for _ in 0..n_tensors {
        let _name = r.string()?;
        let dims = r.u32()?;
        if dims == 0 || dims > MAX_DIMS {
            return Err(format!("tensor with {dims} dimensions"));
        }
        let mut elements: u64 = 1;
        for _ in 0..dims {
            elements = elements
                .checked_mul(r.u64()?)
                .ok_or("tensor element count overflows")?;
        }
        let ty = r.u32()?;
        let _offset = r.u64()?;
        parameters = parameters
            .checked_add(elements)
            .ok_or("parameter count overflows")?;
        *per_type.entry(ty).or_default() += elements;
    }

    let str_of = |k: &str| match kv.get(k) {
        Some(Value::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let architecture = str_of("general.architecture").ok_or("no general.architecture")?;
    let int_of = |k: &str| match kv.get(&format!("{architecture}.{k}")) {
        Some(Value::Int(n)) => u32::try_from(*n).ok(),
        _ => None,
    };
    let quantization = match kv.get("general.file_type") {
        Some(Value::Int(id)) => file_type_name(*id).map(str::to_string),
        _ => None,
    }
    .or_else(|| {
        // The type that holds most elements is the weights' quantisation.
        let (ty, _) = per_type
            .iter()
            .max_by_key(|(ty, n)| (**n, std::cmp::Reverse(**ty)))?;
        ggml_type_name(*ty).map(str::to_string)
    });
    let head_count = int_of("attention.head_count");
    Ok(GgufInfo {
        name: str_of("general.name"),
        parameters: (n_tensors > 0).then_some(parameters),
        quantization,
        context_length: int_of("context_length"),
        chat_template: str_of("tokenizer.chat_template"),
        file_size,
        block_count: int_of("block_count"),
        embedding_length: int_of("embedding_length"),
        head_count,
        head_count_kv: int_of("attention.head_count_kv").or(head_count),
        architecture,
    })
}

/// A reader that knows how many bytes remain, so no length it reads can make it over-allocate.
struct Reader {
    inner: BufReader<File>,
    pos: u64,
    len: u64,
}

impl Reader {
    fn remaining(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }

    fn need(&self, n: u64) -> Result<(), String> {
        if n > self.remaining() {
            return Err(format!(
                "truncated or corrupt header: needs {n} bytes at offset {}, {} remain",
                self.pos,
                self.remaining()
            ));
        }
        Ok(())
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], String> {
        self.need(N as u64)?;
        let mut buf = [0u8; N];
        self.inner
            .read_exact(&mut buf)
            .map_err(|e| format!("read failed: {e}"))?;
        self.pos += N as u64;
        Ok(buf)
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }

    fn skip(&mut self, n: u64) -> Result<(), String> {
        self.need(n)?;
        let n_i64 = i64::try_from(n).map_err(|_| "skip too large".to_string())?;
        self.inner
            .seek_relative(n_i64)
            .map_err(|e| format!("seek failed: {e}"))?;
        self.pos += n;
        Ok(())
    }

    fn string(&mut self) -> Result<String, String> {
        let n = self.u64()?;
        if n > MAX_STRING {
            return Err(format!(
                "string of {n} bytes exceeds the {MAX_STRING}-byte limit"
            ));
        }
        self.need(n)?;
        let mut buf = vec![0u8; n as usize];
        self.inner
            .read_exact(&mut buf)
            .map_err(|e| format!("read failed: {e}"))?;
        self.pos += n;
        String::from_utf8(buf).map_err(|_| "metadata string is not UTF-8".to_string())
    }

    /// Reads a value of GGUF type `ty`; keeps integers and strings, skips the rest (arrays, floats).
    fn value(&mut self, ty: u32) -> Result<Option<Value>, String> {
        Ok(match ty {
            0 | 7 => Some(Value::Int(u64::from(self.bytes::<1>()?[0]))),
            1 => Some(Value::Int(i8::from_le_bytes(self.bytes()?) as u64)),
            2 => Some(Value::Int(u64::from(u16::from_le_bytes(self.bytes()?)))),
            3 => Some(Value::Int(i16::from_le_bytes(self.bytes()?) as u64)),
            4 => Some(Value::Int(u64::from(self.u32()?))),
            5 => Some(Value::Int(i32::from_le_bytes(self.bytes()?) as u64)),
            6 => {
                self.skip(4)?;
                None
            }
            8 => Some(Value::Str(self.string()?)),
            9 => {
                self.skip_array()?;
                None
            }
            10 | 11 => Some(Value::Int(self.u64()?)),
            12 => {
                self.skip(8)?;
                None
            }
            other => return Err(format!("unknown metadata value type {other}")),
        })
    }

    fn skip_array(&mut self) -> Result<(), String> {
        let ty = self.u32()?;
        let count = self.u64()?;
        let width = match ty {
            0 | 1 | 7 => 1,
            2 | 3 => 2,
            4..=6 => 4,
            10..=12 => 8,
            8 => {
                // Each string is at least its 8-byte length: a count the file cannot hold is
                // rejected before looping.
                self.need(count.checked_mul(8).ok_or("array count overflows")?)?;
                for _ in 0..count {
                    let n = self.u64()?;
                    self.skip(n)?;
                }
                return Ok(());
            }
            other => return Err(format!("unsupported array element type {other}")),
        };
        self.skip(count.checked_mul(width).ok_or("array size overflows")?)
    }
}

/// Names of llama.cpp's `llama_ftype` ids (`general.file_type`).
fn file_type_name(id: u64) -> Option<&'static str> {
    Some(match id {
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
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        38 => "MXFP4_MOE",
        _ => return None,
    })
}

/// Names of ggml tensor types.
fn ggml_type_name(id: u32) -> Option<&'static str> {
    Some(match id {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        6 => "Q5_0",
        7 => "Q5_1",
        8 => "Q8_0",
        9 => "Q8_1",
        10 => "Q2_K",
        11 => "Q3_K",
        12 => "Q4_K",
        13 => "Q5_K",
        14 => "Q6_K",
        15 => "Q8_K",
        16 => "IQ2_XXS",
        17 => "IQ2_XS",
        18 => "IQ3_XXS",
        19 => "IQ1_S",
        20 => "IQ4_NL",
        21 => "IQ3_S",
        22 => "IQ2_S",
        23 => "IQ4_XS",
        29 => "IQ1_M",
        30 => "BF16",
        34 => "TQ1_0",
        35 => "TQ2_0",
        39 => "MXFP4",
        _ => return None,
    })
}
