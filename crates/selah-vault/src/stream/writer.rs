//! The parallel STREAM writer.
//!
//! Plaintext is gathered into chunk buffers (64 KiB each, with room for the tag) until a
//! batch is full. A full batch is sealed only once more plaintext arrives, because the
//! last chunk of the stream must carry the last-chunk flag and only `finish` knows which
//! chunk that is. Sealing happens in place on the pool's threads, then the sealed chunks
//! are written out in order.

use std::io::{self, Write};

use age_core::format::FileKey;
use chacha20poly1305::{AeadInPlace, ChaCha20Poly1305};
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use super::pool::{ChunkBuf, Job, Outcome, Pool};
use super::{CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, NONCE_SIZE, Options, chunk_nonce, payload_cipher};

/// Encrypts a plaintext into an age STREAM payload (nonce and chunks) written to `W`.
///
/// Call [`StreamWriter::finish`] at the end: without it the final chunk is never written
/// and the file reads as truncated.
pub struct StreamWriter<W: Write> {
    inner: W,
    pool: Pool,
    /// Index of the first chunk of the current batch.
    next_chunk: u64,
    /// The current batch; every chunk but the last is full.
    chunks: Vec<ChunkBuf>,
    /// Buffers of written batches, for reuse.
    spare: Vec<ChunkBuf>,
    /// The batch handed to the pool and not yet written: the index after its last chunk,
    /// and its chunk count.
    in_flight: Option<(u64, usize)>,
    batch_chunks: usize,
}

impl<W: Write> StreamWriter<W> {
    /// Starts a payload with a fresh random nonce.
    pub fn new(inner: W, file_key: &FileKey, options: Options) -> io::Result<Self> {
        let mut nonce = [0u8; NONCE_SIZE];
        OsRng.fill_bytes(&mut nonce);
        Self::with_nonce(inner, file_key, nonce, options)
    }

    /// Starts a payload with a given nonce. Reusing a nonce with the same file key leaks
    /// plaintext: this exists for tests that compare output with age's byte for byte.
    pub fn with_nonce(
        mut inner: W,
        file_key: &FileKey,
        nonce: [u8; NONCE_SIZE],
        options: Options,
    ) -> io::Result<Self> {
        inner.write_all(&nonce)?;
        Self::resume(inner, file_key, nonce, 0, options)
    }

    /// Continues a payload at chunk `first_chunk` without writing the nonce: what it writes
    /// is exactly what [`StreamWriter::with_nonce`] would write after its first
    /// `first_chunk` chunks, given the same key, nonce and the plaintext from byte
    /// `first_chunk × 64 KiB` on. This regenerates the tail of a ciphertext (to resume an
    /// interrupted upload) without encrypting what came before again.
    ///
    /// The plaintext handed in must be the same as the first time: a different one under
    /// the same key and nonce reuses the key stream.
    pub fn resume(
        inner: W,
        file_key: &FileKey,
        nonce: [u8; NONCE_SIZE],
        first_chunk: u64,
        options: Options,
    ) -> io::Result<Self> {
        let options = options.sanitized();
        Ok(StreamWriter {
            inner,
            pool: Pool::new(payload_cipher(file_key, &nonce), seal, options.threads),
            next_chunk: first_chunk,
            chunks: Vec::with_capacity(options.batch_chunks),
            spare: Vec::with_capacity(2 * options.batch_chunks),
            in_flight: None,
            batch_chunks: options.batch_chunks,
        })
    }

    /// Seals the final chunk, writes what is left and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        if self.chunks.is_empty() {
            // Only for an empty plaintext: its payload is one empty final chunk.
            let empty = self.buffer();
            self.chunks.push(empty);
        }
        self.seal_batch(true)?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    fn buffer(&mut self) -> ChunkBuf {
        self.spare
            .pop()
            .unwrap_or_else(|| Zeroizing::new(Vec::with_capacity(ENCRYPTED_CHUNK_SIZE)))
    }

    /// Hands the current batch to the pool, then writes the batch before it (if any) once
    /// sealed; with `last`, also waits for this batch and writes it.
    fn seal_batch(&mut self, last: bool) -> io::Result<()> {
        let count = self.chunks.len();
        let jobs = self
            .chunks
            .drain(..)
            .enumerate()
            .map(|(i, buf)| Job {
                index: self.next_chunk + i as u64,
                last: last && i + 1 == count,
                buf,
                outcome: Outcome::Pending,
            })
            .collect();
        self.pool.submit(jobs);
        self.next_chunk += count as u64;
        let previous = self.in_flight.replace((self.next_chunk, count));
        if let Some(batch) = previous {
            self.write_batch(batch)?;
        }
        if last {
            let batch = self.in_flight.take().expect("just submitted");
            self.write_batch(batch)?;
        }
        Ok(())
    }

    /// Waits for a submitted batch and writes it out.
    fn write_batch(&mut self, (end, count): (u64, usize)) -> io::Result<()> {
        for mut job in self.pool.collect(end, count) {
            debug_assert_eq!(job.outcome, Outcome::Sealed);
            self.inner.write_all(&job.buf)?;
            job.buf.clear();
            self.spare.push(job.buf);
        }
        Ok(())
    }
}

/// Seals a chunk in place and appends its tag.
fn seal(aead: &ChaCha20Poly1305, job: &mut Job) {
    let tag = aead
        .encrypt_in_place_detached(&chunk_nonce(job.index, job.last), b"", &mut job.buf[..])
        .expect("a 64 KiB chunk is far below ChaCha20-Poly1305's limit");
    job.buf.extend_from_slice(&tag);
    job.outcome = Outcome::Sealed;
}

impl<W: Write> Write for StreamWriter<W> {
    fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
        let written = data.len();
        while !data.is_empty() {
            if self.chunks.last().is_none_or(|c| c.len() == CHUNK_SIZE) {
                if self.chunks.len() == self.batch_chunks {
                    // More plaintext follows, so none of these chunks is the last one.
                    self.seal_batch(false)?;
                }
                let fresh = self.buffer();
                self.chunks.push(fresh);
            }
            let chunk = self.chunks.last_mut().expect("pushed above");
            let n = data.len().min(CHUNK_SIZE - chunk.len());
            chunk.extend_from_slice(&data[..n]);
            data = &data[n..];
        }
        Ok(written)
    }

    /// Flushes the inner writer. Buffered plaintext is not sealed early: a chunk can only
    /// be sealed once it is full or known to be the last one.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
