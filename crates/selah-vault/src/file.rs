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
use crate::stream::{CHUNK_SIZE, Options, StreamReader, StreamWriter};

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

/// Decrypts a binary age file from `input` to `output` with the first identity that
/// opens its header. On error, `output` holds the plaintext of the chunks that
/// authenticated before the problem: write to a temporary file and publish it only on
/// success.
pub fn decrypt<R: Read + Send, W: Write>(
    input: R,
    output: W,
    identities: &[&dyn Identity],
) -> Result<Sealed> {
    decrypt_with(input, output, identities, Options::default())
}

/// [`decrypt`] with explicit threading and batch options. With more than one thread, the
/// ciphertext is read and hashed on a thread of its own.
pub fn decrypt_with<R: Read + Send, W: Write>(
    input: R,
    mut output: W,
    identities: &[&dyn Identity],
    options: Options,
) -> Result<Sealed> {
    let (plaintext_len, digest) = pipe::hash_reads(input, options.threads > 1, |mut input| {
        let (header, rest) = read_header(&mut input)?;
        let file_key = header.unwrap_file_key(identities)?;
        let mut reader = StreamReader::new(Cursor::new(rest).chain(input), &file_key, options)?;
        let len = copy(&mut reader, &mut output)?;
        output.flush()?;
        Ok(len)
    })?;
    Ok(Sealed::of(plaintext_len, digest))
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
