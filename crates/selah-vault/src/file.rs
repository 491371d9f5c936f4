//! Whole-file operations: encrypt a plaintext stream to recipients, decrypt with an
//! identity, rewrap a header for new recipients, find where the payload starts.
//!
//! These are what the CLI and the server use. Both directions hash the ciphertext as it
//! streams by, because the server stores that SHA-256 and checks it on every transfer.

use std::io::{self, Cursor, Read, Write};

use age::{Identity, Recipient};

use crate::error::{HeaderError, Result};
use crate::header::{Header, new_file_key, read_header};
use crate::pipe;
use crate::stream::{
    CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, NONCE_SIZE, Options, StreamReader, StreamWriter, TAG_SIZE,
};

/// What went through an encryption or decryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sealed {
    /// Plaintext bytes.
    pub plaintext_len: u64,
    /// Ciphertext bytes: header, nonce and chunks.
    pub ciphertext_len: u64,
    /// SHA-256 of the whole ciphertext file.
    pub ciphertext_sha256: [u8; 32],
}

impl Sealed {
    fn of(plaintext_len: u64, digest: pipe::Digested) -> Self {
        Self {
            plaintext_len,
            ciphertext_len: digest.len,
            ciphertext_sha256: digest.sha256,
        }
    }
}

/// Encrypts everything `input` yields to `recipients` as a binary age file on `output`.
pub fn encrypt<R: Read, W: Write + Send>(
    input: R,
    output: W,
    recipients: &[&dyn Recipient],
) -> Result<Sealed> {
    encrypt_with(input, output, recipients, Options::default())
}

/// [`encrypt`] with explicit threading and batch options. With more than one thread, the
/// ciphertext is hashed and written on a thread of its own.
pub fn encrypt_with<R: Read, W: Write + Send>(
    mut input: R,
    output: W,
    recipients: &[&dyn Recipient],
    options: Options,
) -> Result<Sealed> {
    let file_key = new_file_key();
    let header = Header::for_recipients(&file_key, recipients)?;
    let (plaintext_len, digest) = pipe::hash_writes(output, options.threads > 1, |out| {
        out.write_all(header.as_bytes())?;
        let mut writer = StreamWriter::new(out, &file_key, options)?;
        let len = copy(&mut input, &mut writer)?;
        writer.finish()?;
        Ok(len)
    })?;
    Ok(Sealed::of(plaintext_len, digest))
}

/// An encryption decided in advance: the file key, the header for the recipients and the
/// payload nonce are chosen once, so the same ciphertext can be written again, whole or from
/// any byte offset, without being kept anywhere.
///
/// This is how a client resumes an interrupted upload (it regenerates the bytes from the
/// server's offset on, starting at the chunk that holds it) and still knows the SHA-256 of the
/// whole file ([`EncryptionPlan::write_hashed`] hashes again what was already sent).
/// STREAM output depends only on the key, the nonce and the plaintext, so the passes agree
/// as long as the plaintext does not change; if it does change, the SHA-256 the client
/// sends no longer matches and the receiver refuses the file. Use a plan for one plaintext only: two
/// different plaintexts under one key and nonce share a key stream, so at most one pass's
/// output may cover any given range of what leaves the process.
pub struct EncryptionPlan {
    file_key: age_core::format::FileKey,
    header: Header,
    nonce: [u8; NONCE_SIZE],
}

impl std::fmt::Debug for EncryptionPlan {
    // Never print the file key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptionPlan")
            .field("header", &self.header)
            .finish()
    }
}

impl EncryptionPlan {
    /// Chooses a fresh file key and nonce and writes the header for `recipients`.
    pub fn new(recipients: &[&dyn Recipient]) -> Result<EncryptionPlan> {
        use rand::RngCore;
        let file_key = new_file_key();
        let header = Header::for_recipients(&file_key, recipients)?;
        let mut nonce = [0u8; NONCE_SIZE];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        Ok(EncryptionPlan {
            file_key,
            header,
            nonce,
        })
    }

    /// The header every pass writes.
    pub fn header(&self) -> &[u8] {
        self.header.as_bytes()
    }

    /// Length of the whole file for a plaintext of `plaintext_len` bytes: header, nonce,
    /// and each chunk with its tag (an empty plaintext still has one, empty, chunk).
    pub fn ciphertext_len(&self, plaintext_len: u64) -> u64 {
        let chunks = plaintext_len.div_ceil(CHUNK_SIZE as u64).max(1);
        self.header.len() as u64 + NONCE_SIZE as u64 + plaintext_len + chunks * TAG_SIZE as u64
    }

    /// Where the plaintext handed to [`EncryptionPlan::write_from`] must start for a given
    /// file `offset`: the first byte of the chunk that holds that offset.
    pub fn plaintext_start(&self, offset: u64) -> u64 {
        self.first_chunk(offset) * CHUNK_SIZE as u64
    }

    fn prefix_len(&self) -> u64 {
        (self.header.len() + NONCE_SIZE) as u64
    }

    fn first_chunk(&self, offset: u64) -> u64 {
        offset.saturating_sub(self.prefix_len()) / ENCRYPTED_CHUNK_SIZE as u64
    }

    /// Writes the file from byte `offset` (below [`EncryptionPlan::ciphertext_len`]) to its
    /// end on `output`, reading the plaintext from `input`, which must yield it from
    /// [`EncryptionPlan::plaintext_start`]`(offset)` on. Returns the plaintext bytes read.
    /// With `offset` 0 this writes the whole file.
    pub fn write_from<R: Read, W: Write>(
        &self,
        offset: u64,
        mut input: R,
        output: W,
        options: Options,
    ) -> Result<u64> {
        let prefix = self.prefix_len();
        let mut output = output;
        let (chunk, skip) = if offset < prefix {
            let mut start = Vec::with_capacity(prefix as usize);
            start.extend_from_slice(self.header.as_bytes());
            start.extend_from_slice(&self.nonce);
            output.write_all(&start[offset as usize..])?;
            (0, 0)
        } else {
            let chunk = self.first_chunk(offset);
            let within = (offset - prefix) % ENCRYPTED_CHUNK_SIZE as u64;
            (chunk, within)
        };
        let skipping = Skip {
            inner: output,
            skip,
        };
        let mut writer =
            StreamWriter::resume(skipping, &self.file_key, self.nonce, chunk, options)?;
        let len = copy(&mut input, &mut writer)?;
        let mut done = writer.finish()?;
        done.inner.flush()?;
        Ok(len)
    }

    /// Writes the whole file like [`EncryptionPlan::write_from`] at offset 0, with the
    /// writing on a thread of its own when there is more than one thread, so that a slow
    /// destination (a disk) works while the next chunks are sealed. Returns the plaintext
    /// bytes read.
    pub fn write_to<R: Read, W: Write + Send>(
        &self,
        input: R,
        output: W,
        options: Options,
    ) -> Result<u64> {
        if options.threads > 1 {
            return pipe::write_behind(output, |out| self.write_from(0, input, out, options));
        }
        self.write_from(0, input, output, options)
    }

    /// Writes the file like [`EncryptionPlan::write_from`] and returns its length and
    /// SHA-256, which covers the *whole* file: `input` yields the whole plaintext, every
    /// byte is hashed, and only the bytes from `offset` on reach `output`. With more than one
    /// thread the hashing and the writing run on a thread of their own. This is how a client
    /// hashes an upload while sending it, in one pass (and, resuming, hashes again what it
    /// already sent without sending it twice).
    pub fn write_hashed<R: Read, W: Write + Send>(
        &self,
        offset: u64,
        input: R,
        output: W,
        options: Options,
    ) -> Result<Sealed> {
        let skipping = Skip {
            inner: output,
            skip: offset,
        };
        let (plaintext_len, digest) = pipe::hash_writes(skipping, options.threads > 1, |out| {
            self.write_from(0, input, out, options)
        })?;
        Ok(Sealed::of(plaintext_len, digest))
    }
}

/// A writer that drops the first `skip` bytes written to it.
struct Skip<W: Write> {
    inner: W,
    skip: u64,
}

impl<W: Write> Write for Skip<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let dropped = (self.skip.min(data.len() as u64)) as usize;
        self.skip -= dropped as u64;
        if dropped < data.len() {
            self.inner.write_all(&data[dropped..])?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Decrypts a binary age file from `input` to `output` with the first identity that
/// opens its header. On error, `output` holds the plaintext of the chunks that
/// authenticated before the problem: write to a temporary file and publish it only on
/// success.
pub fn decrypt<R: Read + Send, W: Write + Send>(
    input: R,
    output: W,
    identities: &[&dyn Identity],
) -> Result<Sealed> {
    decrypt_with(input, output, identities, Options::default())
}

/// [`decrypt`] with explicit threading and batch options. With more than one thread, the
/// ciphertext is read and hashed on a thread of its own, and the plaintext written on
/// another.
pub fn decrypt_with<R: Read + Send, W: Write + Send>(
    input: R,
    mut output: W,
    identities: &[&dyn Identity],
    options: Options,
) -> Result<Sealed> {
    let threaded = options.threads > 1;
    let (plaintext_len, digest) = pipe::hash_reads(input, threaded, |input| {
        decrypt_to(input, &mut output, identities, options)
    })?;
    Ok(Sealed::of(plaintext_len, digest))
}

/// Decrypts like [`decrypt_with`] without hashing the ciphertext, for a file that no server
/// will check (the chunks' tags still authenticate every byte), and returns the plaintext
/// length. With more than one thread the plaintext is written on a thread of its own. The
/// same warning holds: on error, `output` holds what authenticated before the problem.
pub fn decrypt_to<R: Read, W: Write + Send>(
    input: R,
    mut output: W,
    identities: &[&dyn Identity],
    options: Options,
) -> Result<u64> {
    let mut reader = decryptor(input, identities, options)?;
    if options.threads > 1 {
        return pipe::write_behind(&mut output, |out| Ok(copy(&mut reader, out)?));
    }
    let len = copy(&mut reader, &mut output)?;
    output.flush()?;
    Ok(len)
}

/// Opens a streaming decryptor: the header is read and checked now, the payload as it is
/// read.
pub fn decryptor<R: Read>(
    mut input: R,
    identities: &[&dyn Identity],
    options: Options,
) -> Result<StreamReader<io::Chain<Cursor<Vec<u8>>, R>>> {
    let (header, rest) = read_header(&mut input)?;
    let file_key = header.unwrap_file_key(identities)?;
    Ok(StreamReader::new(
        Cursor::new(rest).chain(input),
        &file_key,
        options,
    )?)
}

/// Rewraps the header at the start of `file` (the rest, if any, is ignored) for
/// `recipients`, using an identity that can open it. The payload after the old header is
/// valid unchanged after the returned one: sharing costs a header, not a re-upload.
pub fn rewrap(
    file: &[u8],
    identities: &[&dyn Identity],
    recipients: &[&dyn Recipient],
) -> Result<Vec<u8>> {
    let header = Header::parse(file)?;
    Ok(header.rewrap(identities, recipients)?.as_bytes().to_vec())
}

/// Length of the header at the start of `file`, i.e. where the payload starts.
pub fn payload_offset(file: &[u8]) -> Result<usize, HeaderError> {
    Header::parse(file).map(|h| h.len())
}

/// Copies with a chunk-sized buffer (std's 8 KiB would mean eight calls per chunk).
fn copy<R: Read + ?Sized, W: Write + ?Sized>(input: &mut R, output: &mut W) -> io::Result<u64> {
    let mut buf = zeroize::Zeroizing::new(vec![0u8; CHUNK_SIZE]);
    let mut total = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        output.write_all(&buf[..n])?;
        total += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    fn plaintext(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 + i / 7) as u8).collect()
    }

    #[test]
    fn a_plan_regenerates_the_same_file_from_any_offset() {
        let id = age::x25519::Identity::generate();
        let to = id.to_public();
        let options = Options {
            threads: 2,
            batch_chunks: 2,
        };
        for len in [
            0,
            1,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            CHUNK_SIZE + 1,
            5 * CHUNK_SIZE + 9,
        ] {
            let plain = plaintext(len);
            let plan = EncryptionPlan::new(&[&to]).unwrap();
            let mut whole = Vec::new();
            let read = plan.write_from(0, &plain[..], &mut whole, options).unwrap();
            assert_eq!(read, len as u64);
            assert_eq!(whole.len() as u64, plan.ciphertext_len(len as u64));
            assert!(whole.starts_with(plan.header()));
            let mut opened = Vec::new();
            decrypt(&whole[..], &mut opened, &[&id]).unwrap();
            assert!(opened == plain, "len {len}");

            let prefix = plan.header().len() + NONCE_SIZE;
            let mut offsets = vec![1, prefix - 1, prefix, prefix + 1, whole.len() - 1];
            offsets.extend((1..=len / CHUNK_SIZE).flat_map(|c| {
                let at = prefix + c * ENCRYPTED_CHUNK_SIZE;
                [at - 1, at, at + 1, at - TAG_SIZE]
            }));
            for offset in offsets.into_iter().filter(|&o| o < whole.len()) {
                let start = plan.plaintext_start(offset as u64) as usize;
                let mut tail = Vec::new();
                plan.write_from(offset as u64, &plain[start..], &mut tail, options)
                    .unwrap();
                assert!(tail == whole[offset..], "len {len} offset {offset}");

                let mut sent = Vec::new();
                let sealed = plan
                    .write_hashed(offset as u64, &plain[..], &mut sent, options)
                    .unwrap();
                assert!(sent == whole[offset..], "hashed: len {len} offset {offset}");
                assert_eq!(sealed.ciphertext_len, whole.len() as u64);
                assert_eq!(sealed.plaintext_len, len as u64);
                let sha: [u8; 32] = sha2::Sha256::digest(&whole).into();
                assert_eq!(sealed.ciphertext_sha256, sha, "len {len} offset {offset}");
            }
        }
    }
}
