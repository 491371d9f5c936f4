//! The GGUF header reader on the real SmolLM2 file (`SELAH_TEST_MODEL`; the test fails when it
//! is missing) and on synthetic files written here: well-formed, truncated, bad magic, absurd
//! counts and lengths.

use std::path::{Path, PathBuf};

use selah_ai::{AiError, read_gguf_info};

/// Writes GGUF v3 files byte by byte.
#[derive(Default)]
struct Gguf {
    kv: Vec<u8>,
    n_kv: u64,
    tensors: Vec<u8>,
    n_tensors: u64,
}

fn gstr(buf: &mut Vec<u8>, s: &str) {
    buf.extend((s.len() as u64).to_le_bytes());
    buf.extend(s.as_bytes());
}

impl Gguf {
    fn key(&mut self, k: &str, ty: u32) -> &mut Vec<u8> {
        self.n_kv += 1;
        gstr(&mut self.kv, k);
        self.kv.extend(ty.to_le_bytes());
        &mut self.kv
    }
    fn string(mut self, k: &str, v: &str) -> Self {
        gstr(self.key(k, 8), v);
        self
    }
    fn u32(mut self, k: &str, v: u32) -> Self {
        self.key(k, 4).extend(v.to_le_bytes());
        self
    }
    fn f32(mut self, k: &str, v: f32) -> Self {
        self.key(k, 6).extend(v.to_le_bytes());
        self
    }
    fn str_array(mut self, k: &str, items: &[&str]) -> Self {
        let buf = self.key(k, 9);
        buf.extend(8u32.to_le_bytes());
        buf.extend((items.len() as u64).to_le_bytes());
        for s in items {
            gstr(buf, s);
        }
        self
    }
    fn tensor(mut self, name: &str, dims: &[u64], ty: u32) -> Self {
        self.n_tensors += 1;
        gstr(&mut self.tensors, name);
        self.tensors.extend((dims.len() as u32).to_le_bytes());
        for d in dims {
            self.tensors.extend(d.to_le_bytes());
        }
        self.tensors.extend(ty.to_le_bytes());
        self.tensors.extend(0u64.to_le_bytes());
        self
    }
    fn bytes(&self) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend(3u32.to_le_bytes());
        out.extend(self.n_tensors.to_le_bytes());
        out.extend(self.n_kv.to_le_bytes());
        out.extend(&self.kv);
        out.extend(&self.tensors);
        out
    }
}

fn llama_like() -> Gguf {
    Gguf::default()
        .string("general.architecture", "llama")
        .string("general.name", "Tiny Test")
        .f32("llama.rope.freq_base", 10000.0)
        .str_array("tokenizer.ggml.tokens", &["<s>", "a", "b"])
        .u32("llama.context_length", 2048)
        .u32("llama.block_count", 4)
        .u32("llama.embedding_length", 256)
        .u32("llama.attention.head_count", 8)
        .u32("llama.attention.head_count_kv", 2)
        .string("tokenizer.chat_template", "{{ messages }}")
        .tensor("token_embd.weight", &[256, 3], 8)
        .tensor("blk.0.attn_q.weight", &[256, 256], 8)
        .tensor("blk.0.attn_norm.weight", &[256], 0)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn bad(path: &Path) -> String {
    match read_gguf_info(path) {
        Err(AiError::BadModel(reason)) => reason,
        other => panic!("expected BadModel for {}, got {other:?}", path.display()),
    }
}

#[test]
fn reads_the_real_smollm2_header() {
    let path = std::env::var_os("SELAH_TEST_MODEL")
        .map(PathBuf::from)
        .expect("SELAH_TEST_MODEL is not set: run `make test` or scripts/fetch-models.sh first");
    let info = read_gguf_info(&path).expect("SmolLM2 parses");
    assert_eq!(info.architecture, "llama");
    assert_eq!(info.quantization.as_deref(), Some("Q4_1"));
    assert_eq!(info.context_length, Some(8192));
    assert_eq!(info.block_count, Some(30));
    assert_eq!(info.embedding_length, Some(576));
    assert_eq!(info.head_count, Some(9));
    assert_eq!(info.head_count_kv, Some(3));
    assert_eq!(info.file_size, std::fs::metadata(&path).unwrap().len());
    let params = info.parameters.expect("counted");
    assert!(
        (130_000_000..140_000_000).contains(&params),
        "135M parameters, got {params}"
    );
    assert!(
        info.chat_template
            .as_deref()
            .unwrap_or("")
            .contains("<|im_start|>")
    );
    // 2 (K and V) × 30 layers × 4096 cells × 3 KV heads × 64 dims × 2 bytes.
    assert_eq!(info.kv_cache_bytes(4096), 2 * 30 * 4096 * 3 * 64 * 2);
    assert_eq!(
        info.estimated_runtime_bytes(4096),
        info.file_size + info.kv_cache_bytes(4096) + info.file_size / 100 * 10 + (64 << 20)
    );
}

#[test]
fn reads_a_synthetic_header() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "tiny.gguf", &llama_like().bytes());
    let info = read_gguf_info(&p).unwrap();
    assert_eq!(info.architecture, "llama");
    assert_eq!(info.name.as_deref(), Some("Tiny Test"));
    assert_eq!(info.parameters, Some(256 * 3 + 256 * 256 + 256));
    // No general.file_type: the type holding most elements (8 = Q8_0).
    assert_eq!(info.quantization.as_deref(), Some("Q8_0"));
    assert_eq!(info.context_length, Some(2048));
    assert_eq!(info.head_count_kv, Some(2));
    assert_eq!(info.chat_template.as_deref(), Some("{{ messages }}"));
    assert_eq!(info.kv_cache_bytes(100), 2 * 4 * 100 * 2 * 32 * 2);
    // general.file_type wins when present; head_count_kv defaults to head_count.
    let g = Gguf::default()
        .string("general.architecture", "qwen2")
        .u32("general.file_type", 15)
        .u32("qwen2.attention.head_count", 4);
    let info = read_gguf_info(&write(dir.path(), "q.gguf", &g.bytes())).unwrap();
    assert_eq!(info.quantization.as_deref(), Some("Q4_K_M"));
    assert_eq!(info.head_count_kv, Some(4));
    assert_eq!(info.parameters, None);
    assert_eq!(
        info.kv_cache_bytes(4096),
        0,
        "unknown without block_count/embedding_length"
    );
}

#[test]
fn rejects_bad_magic_versions_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    assert!(bad(&write(dir.path(), "empty.gguf", b"")).contains("too short"));
    assert!(bad(&write(dir.path(), "text.gguf", b"hello world, no model")).contains("magic"));
    let mut v1 = llama_like().bytes();
    v1[4..8].copy_from_slice(&1u32.to_le_bytes());
    assert!(bad(&write(dir.path(), "v1.gguf", &v1)).contains("version 1"));
    let full = llama_like().bytes();
    // Every cut short of the end fails cleanly (never panics, never hangs).
    for cut in 4..full.len() {
        let reason = bad(&write(dir.path(), "cut.gguf", &full[..cut]));
        assert!(!reason.is_empty());
    }
    let missing = dir.path().join("absent.gguf");
    assert!(bad(&missing).contains("cannot open"));
}

#[test]
fn absurd_counts_and_lengths_are_refused_without_allocating() {
    let dir = tempfile::tempdir().unwrap();
    // 2^60 tensors and keys.
    let mut b = b"GGUF".to_vec();
    b.extend(3u32.to_le_bytes());
    b.extend((1u64 << 60).to_le_bytes());
    b.extend((1u64 << 60).to_le_bytes());
    assert!(bad(&write(dir.path(), "counts.gguf", &b)).contains("implausible"));
    // One key whose string claims 2^62 bytes.
    let mut b = b"GGUF".to_vec();
    b.extend(3u32.to_le_bytes());
    b.extend(0u64.to_le_bytes());
    b.extend(1u64.to_le_bytes());
    b.extend((1u64 << 62).to_le_bytes());
    assert!(bad(&write(dir.path(), "string.gguf", &b)).contains("limit"));
    // An array of 2^40 u64s, and of 2^40 strings: larger than the file, rejected up front.
    for elem in [10u32, 8] {
        let mut g = Gguf::default().string("general.architecture", "llama");
        let buf = g.key("big", 9);
        buf.extend(elem.to_le_bytes());
        buf.extend((1u64 << 40).to_le_bytes());
        assert!(bad(&write(dir.path(), "array.gguf", &g.bytes())).contains("truncated"));
    }
    // A tensor with 2^40 × 2^40 elements overflows the count; one with 9 dimensions is invalid.
    let g = Gguf::default()
        .string("general.architecture", "llama")
        .tensor("a", &[1 << 40, 1 << 40, 1 << 40], 0);
    assert!(bad(&write(dir.path(), "overflow.gguf", &g.bytes())).contains("overflow"));
    let g = Gguf::default()
        .string("general.architecture", "llama")
        .tensor("a", &[1; 9], 0);
    assert!(bad(&write(dir.path(), "dims.gguf", &g.bytes())).contains("9 dimensions"));
    // Unknown value type.
    let mut g = Gguf::default();
    g.key("weird", 99);
    assert!(
        bad(&write(dir.path(), "type.gguf", &g.bytes())).contains("unknown metadata value type")
    );
    // No architecture.
    let g = Gguf::default().u32("x", 1);
    assert!(bad(&write(dir.path(), "noarch.gguf", &g.bytes())).contains("architecture"));
}
