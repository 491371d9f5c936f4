//! Writes small but valid GGUF files with whatever declared size: a real header (architecture,
//! context length, layer and head counts, chat template) and one F32 tensor whose shape makes
//! the file as large as asked, the tensor data left as a sparse hole. Used to exercise the
//! memory rules with models far larger than the machine without using the disk.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

/// What to declare in a synthetic GGUF.
#[derive(Debug, Clone)]
pub struct SyntheticGguf {
    /// `general.architecture`.
    pub architecture: String,
    /// `general.name`.
    pub name: String,
    /// Total file size wanted, in bytes (rounded up to a whole number of f32 elements).
    pub file_size: u64,
    /// `<arch>.context_length`.
    pub context_length: u32,
    /// `<arch>.block_count`.
    pub block_count: u32,
    /// `<arch>.embedding_length`.
    pub embedding_length: u32,
    /// `<arch>.attention.head_count` and `head_count_kv`.
    pub head_count: u32,
}

impl SyntheticGguf {
    /// A llama-shaped model of about `file_size` bytes.
    pub fn llama(name: &str, file_size: u64) -> Self {
        Self {
            architecture: "llama".into(),
            name: name.into(),
            file_size,
            context_length: 2048,
            block_count: 8,
            embedding_length: 256,
            head_count: 4,
        }
    }

    /// Writes the file (truncating any existing one).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut h = Vec::new();
        h.extend_from_slice(b"GGUF");
        h.extend_from_slice(&3u32.to_le_bytes());
        h.extend_from_slice(&1u64.to_le_bytes()); // tensors
        let arch = &self.architecture;
        let ints: [(String, u32); 6] = [
            ("general.file_type".into(), 0),
            (format!("{arch}.context_length"), self.context_length),
            (format!("{arch}.block_count"), self.block_count),
            (format!("{arch}.embedding_length"), self.embedding_length),
            (format!("{arch}.attention.head_count"), self.head_count),
            (format!("{arch}.attention.head_count_kv"), self.head_count),
        ];
        let strs: [(&str, &str); 3] = [
            ("general.architecture", arch),
            ("general.name", &self.name),
            (
                "tokenizer.chat_template",
                "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}",
            ),
        ];
        h.extend_from_slice(&((ints.len() + strs.len()) as u64).to_le_bytes());
        let put_str = |h: &mut Vec<u8>, s: &str| {
            h.extend_from_slice(&(s.len() as u64).to_le_bytes());
            h.extend_from_slice(s.as_bytes());
        };
        for (k, v) in strs {
            put_str(&mut h, k);
            h.extend_from_slice(&8u32.to_le_bytes());
            put_str(&mut h, v);
        }
        for (k, v) in &ints {
            put_str(&mut h, k);
            h.extend_from_slice(&4u32.to_le_bytes());
            h.extend_from_slice(&v.to_le_bytes());
        }
        // The tensor: name, 2 dims, type F32 (0), offset 0 within the data section.
        let width = 4096u64;
        let header_guess = h.len() as u64 + 64;
        let data_bytes = self.file_size.saturating_sub(header_guess).max(width * 4);
        let rows = data_bytes.div_ceil(width * 4);
        put_str(&mut h, "token_embd.weight");
        h.extend_from_slice(&2u32.to_le_bytes());
        h.extend_from_slice(&width.to_le_bytes());
        h.extend_from_slice(&rows.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&0u64.to_le_bytes());
        // Tensor data starts at the next 32-byte boundary.
        while h.len() % 32 != 0 {
            h.push(0);
        }
        let mut f = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(path)?;
        f.write_all(&h)?;
        f.set_len(h.len() as u64 + rows * width * 4)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_synthetic_file_reads_back_with_its_declared_shape_and_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.gguf");
        let size = 40u64 << 30;
        SyntheticGguf::llama("big", size).write(&path).unwrap();
        let info = crate::gguf::read_gguf_info(&path).unwrap();
        assert_eq!(info.architecture, "llama");
        assert_eq!(info.name.as_deref(), Some("big"));
        assert_eq!(info.context_length, Some(2048));
        assert_eq!(info.block_count, Some(8));
        assert!(info.file_size >= size && info.file_size < size + (1 << 20));
        assert!(info.parameters.unwrap() >= size / 4 - 4096);
        assert!(info.chat_template.is_some());
        // Sparse: the 40 GB file occupies next to nothing on disk.
        use std::os::unix::fs::MetadataExt;
        assert!(std::fs::metadata(&path).unwrap().blocks() * 512 < 1 << 20);
    }
}
