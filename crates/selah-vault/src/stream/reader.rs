//! The parallel STREAM reader.
//!
//! It reads a batch of encrypted chunks, opens them in place on the pool's threads, then
//! hands out the plaintext of the chunks that authenticated, in order, up to the first
//! problem; the problem is reported by the `read` call after that plaintext. No byte of a
//! chunk that failed authentication is ever returned (a failed open leaves the buffer as
//! it was, and such a buffer is never handed out).
//!
//! Which chunk is the last one is decided as age does: a short chunk must be the last; a
//! full one is tried as a middle chunk first and as the last chunk if that fails (so a
//! plaintext that is a multiple of 64 KiB costs one extra tag check).

use std::io::{self, Read};

use age_core::format::FileKey;
use chacha20poly1305::{AeadInPlace, ChaCha20Poly1305, Tag};
use zeroize::Zeroizing;

use super::pool::{ChunkBuf, Job, Outcome, Pool};
use super::{
    CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, NONCE_SIZE, Options, TAG_SIZE, chunk_nonce, payload_cipher,
};
use crate::error::StreamError;
use crate::util::read_full;

/// Decrypts an age STREAM payload (nonce and chunks) read from `R`.
///
/// Errors come as [`io::Error`]s that carry a [`StreamError`]; see
/// [`StreamError::from_io`]. The plaintext returned before an error is exactly the
/// chunks that authenticated, so a caller writing to a temporary file and renaming it on
/// success never publishes a damaged file.
pub struct StreamReader<R: Read> {
    inner: R,
    pool: Pool,
    /// Index of the first chunk of the current batch.
    first_chunk: u64,
    /// Opened chunks of the current batch that may be handed out (tags removed).
    ready: Vec<ChunkBuf>,
    /// Position in `ready`: which chunk, and how far into it.
    pos: (usize, usize),
    /// Buffers for reuse.
    spare: Vec<ChunkBuf>,
    /// Reported once the ready plaintext has been read.
    pending: Option<StreamError>,
    /// The final chunk has been opened.
    done: bool,
    batch_chunks: usize,
}

impl<R: Read> StreamReader<R> {
    /// Reads the payload nonce and prepares to decrypt with `file_key`.
    pub fn new(mut inner: R, file_key: &FileKey, options: Options) -> io::Result<Self> {
        let options = options.sanitized();
        let mut nonce = [0u8; NONCE_SIZE];
        if read_full(&mut inner, &mut nonce)? < NONCE_SIZE {
            return Err(StreamError::ShortNonce.into_io());
        }
        Ok(StreamReader {
            inner,
            pool: Pool::new(payload_cipher(file_key, &nonce), open, options.threads),
            first_chunk: 0,
            ready: Vec::with_capacity(options.batch_chunks),
            pos: (0, 0),
            spare: Vec::with_capacity(options.batch_chunks),
            pending: None,
            done: false,
            batch_chunks: options.batch_chunks,
        })
    }

    /// Returns the inner reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Reads and opens the next batch, setting `ready` and maybe `pending`.
    fn next_batch(&mut self) -> io::Result<()> {
        self.first_chunk += self.ready.len() as u64;
        self.spare.append(&mut self.ready);
        self.pos = (0, 0);
        if self.done {
            // The final chunk was the last thing in the previous batch: nothing may follow.
            if read_full(&mut self.inner, &mut [0u8; 1])? > 0 {
                self.pending = Some(StreamError::TrailingData);
            }
            return Ok(());
        }
        let (pieces, eof) = self.read_pieces()?;
        if pieces.is_empty() {
            self.pending = Some(StreamError::Truncated {
                chunks: self.first_chunk,
            });
            return Ok(());
        }
        let jobs = pieces
            .into_iter()
            .enumerate()
            .map(|(i, buf)| Job {
                index: self.first_chunk + i as u64,
                last: false,
                buf,
                outcome: Outcome::Pending,
            })
            .collect();
        let opened = self.pool.run(jobs);
        self.collect(opened, eof);
        Ok(())
    }

    /// Up to a batch of encrypted chunks, and whether the input ended.
    fn read_pieces(&mut self) -> io::Result<(Vec<ChunkBuf>, bool)> {
        let mut pieces = Vec::with_capacity(self.batch_chunks);
        while pieces.len() < self.batch_chunks {
            let mut buf = self
                .spare
                .pop()
                .unwrap_or_else(|| Zeroizing::new(Vec::new()));
            buf.resize(ENCRYPTED_CHUNK_SIZE, 0);
            let n = read_full(&mut self.inner, &mut buf)?;
            buf.truncate(n);
            if n == 0 {
                self.spare.push(buf);
                return Ok((pieces, true));
            }
            pieces.push(buf);
            if n < ENCRYPTED_CHUNK_SIZE {
                return Ok((pieces, true));
            }
        }
        Ok((pieces, false))
    }

    /// Keeps the chunks that may be handed out and records the first problem.
    fn collect(&mut self, opened: Vec<Job>, eof: bool) {
        let count = opened.len();
        for (i, job) in opened.into_iter().enumerate() {
            if self.pending.is_some() || self.done {
                // After the first problem nothing more is handed out.
                self.spare.push(job.buf);
                continue;
            }
            match job.outcome {
                Outcome::Middle => self.ready.push(job.buf),
                Outcome::Last if job.buf.is_empty() && job.index > 0 => {
                    self.pending = Some(StreamError::EmptyLastChunk { index: job.index });
                    self.spare.push(job.buf);
                }
                Outcome::Last => {
                    self.ready.push(job.buf);
                    self.done = true;
                    if i + 1 < count {
                        self.pending = Some(StreamError::TrailingData);
                    }
                }
                _ => {
                    self.pending = Some(StreamError::ChunkAuth { index: job.index });
                    self.spare.push(job.buf);
                }
            }
        }
        if eof && !self.done && self.pending.is_none() {
            // The input ended with a full middle chunk: the final chunk is missing.
            self.pending = Some(StreamError::Truncated {
                chunks: self.first_chunk + count as u64,
            });
        }
    }
}

/// Opens one chunk in place and drops its tag. On failure the bytes are left as they
/// were (the tag is checked before anything is decrypted) and are never handed out.
fn open(aead: &ChaCha20Poly1305, job: &mut Job) {
    job.outcome = Outcome::Failed;
    let len = job.buf.len();
    if len < TAG_SIZE {
        return;
    }
    let (text, tag) = job.buf.split_at_mut(len - TAG_SIZE);
    let tag = Tag::clone_from_slice(tag);
    let mut try_open = |last: bool| {
        aead.decrypt_in_place_detached(&chunk_nonce(job.index, last), b"", text, &tag)
            .is_ok()
    };
    if len == ENCRYPTED_CHUNK_SIZE && try_open(false) {
        job.outcome = Outcome::Middle;
    } else if try_open(true) {
        job.outcome = Outcome::Last;
    } else {
        return;
    }
    debug_assert!(len - TAG_SIZE <= CHUNK_SIZE);
    job.buf.truncate(len - TAG_SIZE);
}

impl<R: Read> Read for StreamReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let (chunk, offset) = self.pos;
            if let Some(plain) = self.ready.get(chunk) {
                if offset == plain.len() {
                    self.pos = (chunk + 1, 0);
                    continue;
                }
                let n = out.len().min(plain.len() - offset);
                out[..n].copy_from_slice(&plain[offset..offset + n]);
                self.pos.1 += n;
                return Ok(n);
            }
            // Everything ready was read: report a problem, or end, or read on.
            if let Some(err) = &self.pending {
                return Err(err.clone().into_io());
            }
            if self.done && self.ready.is_empty() {
                return Ok(0);
            }
            self.next_batch()?;
        }
    }
}
