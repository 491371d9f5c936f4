//! The age v1 payload: STREAM with ChaCha20-Poly1305 over 64 KiB chunks.
//!
//! Layout after the header: a 16-byte random nonce, then the chunks. The payload key is
//! HKDF-SHA256(ikm = file key, salt = nonce, info = "payload"). Chunk `i` is sealed with
//! the 12-byte AEAD nonce `i` (11 bytes, big-endian) followed by a flag byte that is 1 only
//! on the final chunk. Every chunk except the last holds exactly 64 KiB of plaintext; the
//! last may be shorter and is empty only when the whole plaintext is empty.
//!
//! Because each chunk's nonce depends only on its index, chunks can be sealed and opened
//! independently. The writer and the reader here gather a batch of chunks (1 MiB by
//! default) and process it on a few threads, which keeps memory bounded whatever the file
//! size while using more than one core. The output is byte-identical to age's.

mod pool;
mod reader;
mod writer;

use age_core::format::FileKey;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

pub use reader::StreamReader;
pub use writer::StreamWriter;

/// Plaintext bytes in every chunk but the last.
pub const CHUNK_SIZE: usize = 64 * 1024;
/// Poly1305 tag appended to every chunk.
pub const TAG_SIZE: usize = 16;
/// Bytes of a full chunk in the file.
pub const ENCRYPTED_CHUNK_SIZE: usize = CHUNK_SIZE + TAG_SIZE;
/// Bytes of the random nonce at the start of the payload.
pub const NONCE_SIZE: usize = 16;
/// Chunks per batch unless configured otherwise (1 MiB of plaintext).
pub const DEFAULT_BATCH_CHUNKS: usize = 16;

/// How the writer and reader spread their work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Threads that seal or open a batch (the calling thread included); at least 1.
    pub threads: usize,
    /// Chunks gathered before a batch is processed; at least 1. Memory use is about
    /// `batch_chunks` × 64 KiB per writer or reader.
    pub batch_chunks: usize,
}

impl Default for Options {
    /// Two threads (one on a single-core machine) and 16-chunk batches: a server handles
    /// several files at once, so one file should not take every core.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Options {
            threads: cores.min(2),
            batch_chunks: DEFAULT_BATCH_CHUNKS,
        }
    }
}

impl Options {
    /// The same options with values below 1 raised to 1.
    fn sanitized(self) -> Options {
        Options {
            threads: self.threads.max(1),
            batch_chunks: self.batch_chunks.max(1),
        }
    }
}

/// The AEAD keyed with HKDF-SHA256(ikm = file key, salt = nonce, info = "payload").
pub(crate) fn payload_cipher(file_key: &FileKey, nonce: &[u8; NONCE_SIZE]) -> ChaCha20Poly1305 {
    let mut key = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(nonce), crate::header::file_key_bytes(file_key))
        .expand(b"payload", key.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 length");
    ChaCha20Poly1305::new(Key::from_slice(key.as_ref()))
}

/// The AEAD nonce of chunk `index`: 11-byte big-endian counter, then the last-chunk flag.
fn chunk_nonce(index: u64, last: bool) -> Nonce {
    let mut nonce = [0u8; 12];
    // A u64 fills the low 8 of the 11 counter bytes; 2^64 chunks is 1 ZiB, so the top
    // three bytes stay zero for any file that can exist.
    nonce[3..11].copy_from_slice(&index.to_be_bytes());
    nonce[11] = u8::from(last);
    Nonce::from(nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_layout_matches_the_spec() {
        let n = chunk_nonce(0x0102, true);
        assert_eq!(n.as_slice(), &[0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 1]);
        let n = chunk_nonce(u64::MAX, false);
        assert_eq!(&n[..3], &[0, 0, 0]);
        assert_eq!(&n[3..11], &[0xff; 8]);
        assert_eq!(n[11], 0);
    }
}
