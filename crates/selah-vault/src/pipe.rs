//! Hashing the ciphertext, and writing the plaintext, on a thread of their own.
//!
//! SHA-256 of the ciphertext is inherently sequential, and on this class of machine it
//! costs about as much as sealing on one core; done inline it halves the throughput of
//! [`crate::encrypt`]. Here the bytes travel in 1 MiB blocks through a bounded channel to
//! a thread that hashes them and does the I/O, while the caller's threads seal or open
//! the next batch. Writing a decrypted file costs about as much as opening its chunks, so
//! [`write_behind`] moves that to a thread too. Blocks are recycled, so memory stays at a
//! few MiB.

use std::io::{self, Read, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use sha2::{Digest, Sha256};

use crate::util::read_full;

/// Bytes per block handed between threads.
const BLOCK: usize = 1 << 20;
/// Blocks in flight: one being filled, one queued, one being hashed.
const BLOCKS: usize = 3;

/// SHA-256 and length of the bytes that went by.
pub(crate) struct Digested {
    pub sha256: [u8; 32],
    pub len: u64,
}

/// Runs `work` with a writer whose bytes are hashed and written to `output`, on a second
/// thread when `threaded`.
pub(crate) fn hash_writes<W, T>(
    output: W,
    threaded: bool,
    work: impl FnOnce(&mut dyn Write) -> crate::Result<T>,
) -> crate::Result<(T, Digested)>
where
    W: Write + Send,
{
    if !threaded {
        let mut inline = Inline {
            inner: output,
            hasher: Sha256::new(),
            len: 0,
        };
        let value = work(&mut inline)?;
        inline.inner.flush()?;
        return Ok((value, inline.digested()));
    }
    let (value, digested) = threaded_writes(output, Some(Sha256::new()), work)?;
    Ok((value, digested.expect("a hasher was given")))
}

/// Runs `work` with a writer whose bytes reach `output` from a second thread, so that
/// producing the next bytes overlaps with writing these.
pub(crate) fn write_behind<W, T>(
    output: W,
    work: impl FnOnce(&mut dyn Write) -> crate::Result<T>,
) -> crate::Result<T>
where
    W: Write + Send,
{
    threaded_writes(output, None, work).map(|(value, _)| value)
}

/// Writes, and hashes if given a hasher, on a second thread.
fn threaded_writes<W, T>(
    output: W,
    hasher: Option<Sha256>,
    work: impl FnOnce(&mut dyn Write) -> crate::Result<T>,
) -> crate::Result<(T, Option<Digested>)>
where
    W: Write + Send,
{
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = sync_channel::<Vec<u8>>(BLOCKS);
        let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(BLOCKS);
        let consumer = scope.spawn(move || hash_and_write(output, hasher, full_rx, empty_tx));
        let mut pipe = PipeWriter {
            block: Vec::with_capacity(BLOCK),
            full: full_tx,
            empty: empty_rx,
            spare: BLOCKS - 1,
        };
        let result = work(&mut pipe);
        // What was written before an error goes out too: a decryption that fails at a chunk
        // still releases exactly the chunks that authenticated before it.
        let sent = pipe.send_block();
        let result = result.and_then(|v| Ok((v, sent?)));
        drop(pipe); // closes the channel, so the consumer finishes
        let digested = consumer.join().expect("the writing thread does not panic");
        // An error of the consumer (the real output failed) explains a send error here.
        let digested = digested?;
        result.map(|(value, ())| (value, digested))
    })
}

fn hash_and_write<W: Write>(
    mut output: W,
    mut hasher: Option<Sha256>,
    full: Receiver<Vec<u8>>,
    empty: SyncSender<Vec<u8>>,
) -> io::Result<Option<Digested>> {
    let mut len = 0u64;
    for block in full {
        if let Some(h) = &mut hasher {
            h.update(&block);
        }
        output.write_all(&block)?;
        len += block.len() as u64;
        let _ = empty.send(block);
    }
    output.flush()?;
    Ok(hasher.map(|h| Digested {
        sha256: h.finalize().into(),
        len,
    }))
}

/// The caller's end: fills a block, sends it when full.
struct PipeWriter {
    block: Vec<u8>,
    full: SyncSender<Vec<u8>>,
    empty: Receiver<Vec<u8>>,
    /// Blocks not yet allocated.
    spare: usize,
}

impl PipeWriter {
    fn send_block(&mut self) -> io::Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        let next = if self.spare > 0 {
            self.spare -= 1;
            Vec::with_capacity(BLOCK)
        } else {
            self.empty.recv().map_err(|_| closed())?
        };
        let block = std::mem::replace(&mut self.block, next);
        self.full.send(block).map_err(|_| closed())?;
        // A recycled block still holds old bytes.
        self.block.clear();
        Ok(())
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the output failed")
}

impl Write for PipeWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(BLOCK - self.block.len());
        self.block.extend_from_slice(&buf[..n]);
        if self.block.len() == BLOCK {
            self.send_block()?;
        }
        Ok(n)
    }

    /// Blocks are sent when full or at the end; flushing early would only add sends.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs `work` with a reader of `input` whose bytes are hashed, on a second thread when
/// `threaded`. The digest covers every byte read from `input`, including any read ahead.
pub(crate) fn hash_reads<R, T>(
    input: R,
    threaded: bool,
    work: impl FnOnce(&mut dyn Read) -> crate::Result<T>,
) -> crate::Result<(T, Digested)>
where
    R: Read + Send,
{
    if !threaded {
        let mut inline = Inline {
            inner: input,
            hasher: Sha256::new(),
            len: 0,
        };
        let value = work(&mut inline)?;
        return Ok((value, inline.digested()));
    }
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = sync_channel::<io::Result<Vec<u8>>>(BLOCKS);
        let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(BLOCKS);
        let producer = scope.spawn(move || read_and_hash(input, full_tx, empty_rx));
        let mut pipe = PipeReader {
            block: Vec::new(),
            pos: 0,
            full: full_rx,
            empty: empty_tx,
            eof: false,
        };
        let result = work(&mut pipe);
        drop(pipe); // a producer still reading sees the closed channel and stops
        let digested = producer.join().expect("the hashing thread does not panic");
        let value = result?;
        Ok((value, digested))
    })
}

fn read_and_hash<R: Read>(
    mut input: R,
    full: SyncSender<io::Result<Vec<u8>>>,
    empty: Receiver<Vec<u8>>,
) -> Digested {
    let mut hasher = Sha256::new();
    let mut len = 0u64;
    let mut spare = BLOCKS;
    loop {
        let mut block = if spare > 0 {
            spare -= 1;
            vec![0; BLOCK]
        } else {
            match empty.recv() {
                Ok(b) => b,
                Err(_) => break,
            }
        };
        block.resize(BLOCK, 0);
        let n = match read_full(&mut input, &mut block) {
            Ok(n) => n,
            Err(e) => {
                let _ = full.send(Err(e));
                break;
            }
        };
        block.truncate(n);
        hasher.update(&block);
        len += n as u64;
        if n == 0 || full.send(Ok(block)).is_err() {
            break;
        }
    }
    Digested {
        sha256: hasher.finalize().into(),
        len,
    }
}

/// The caller's end: serves reads from the blocks the producer sends.
struct PipeReader {
    block: Vec<u8>,
    pos: usize,
    full: Receiver<io::Result<Vec<u8>>>,
    empty: SyncSender<Vec<u8>>,
    eof: bool,
}

impl Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.block.len() && !self.eof {
            let done = std::mem::take(&mut self.block);
            if done.capacity() > 0 {
                let _ = self.empty.send(done);
            }
            self.pos = 0;
            match self.full.recv() {
                Ok(Ok(block)) if block.is_empty() => self.eof = true,
                Ok(Ok(block)) => self.block = block,
                Ok(Err(e)) => return Err(e),
                Err(_) => self.eof = true,
            }
        }
        let n = buf.len().min(self.block.len() - self.pos);
        buf[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Hashing in the caller's thread, for single-core machines.
struct Inline<T> {
    inner: T,
    hasher: Sha256,
    len: u64,
}

impl<T> Inline<T> {
    fn digested(self) -> Digested {
        Digested {
            sha256: self.hasher.finalize().into(),
            len: self.len,
        }
    }
}

impl<W: Write> Write for Inline<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Inline<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    #[test]
    fn threaded_and_inline_writes_agree() {
        for len in [0, 1, BLOCK - 1, BLOCK, 5 * BLOCK + 3] {
            let data = bytes(len);
            let mut outputs = Vec::new();
            for threaded in [false, true] {
                let mut out = Vec::new();
                let ((), d) = hash_writes(&mut out, threaded, |w| {
                    for part in data.chunks(100_000) {
                        w.write_all(part)?;
                    }
                    Ok(())
                })
                .unwrap();
                assert!(out == data);
                assert_eq!(d.len, len as u64);
                assert_eq!(d.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
                outputs.push(d.sha256);
            }
        }
    }

    #[test]
    fn written_behind_is_written_whole() {
        for len in [0, 1, BLOCK, 3 * BLOCK + 5] {
            let data = bytes(len);
            let mut out = Vec::new();
            let n = write_behind(&mut out, |w| {
                for part in data.chunks(70_000) {
                    w.write_all(part)?;
                }
                Ok(data.len())
            })
            .unwrap();
            assert_eq!(n, len);
            assert!(out == data, "len {len}");
        }
    }

    #[test]
    fn threaded_and_inline_reads_agree() {
        for len in [0, 1, BLOCK, 4 * BLOCK + 9] {
            let data = bytes(len);
            for threaded in [false, true] {
                let (back, d) = hash_reads(&data[..], threaded, |r| {
                    let mut v = Vec::new();
                    r.read_to_end(&mut v)?;
                    Ok(v)
                })
                .unwrap();
                assert!(back == data);
                assert_eq!(d.len, len as u64);
                assert_eq!(d.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
            }
        }
    }

    #[test]
    fn a_failing_output_is_reported() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let data = bytes(5 * BLOCK);
        let err = hash_writes(Broken, true, |w| Ok(w.write_all(&data)?))
            .err()
            .unwrap();
        assert!(err.to_string().contains("disk full"), "{err}");
    }
}
