//! The age v1 header: parse and write it, check its MAC, unwrap the file key with an
//! identity, wrap it for recipients, and rewrap it for new recipients.
//!
//! Rewrapping is how the vault shares a file: the header is rebuilt around the same file
//! key, so the payload after it stays byte for byte the same and need not be re-uploaded.
//! The stanza formats themselves (X25519, scrypt) are the `age` crate's business; this
//! module only frames them.

mod parse;
mod write;

use std::collections::HashSet;
use std::io::Read;

use age::secrecy::ExposeSecret;
use age::{DecryptError, Identity, Recipient};
use age_core::format::{FILE_KEY_BYTES, FileKey, Stanza};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Error, HeaderError, Result};

/// The first line of every age v1 file.
pub const VERSION_LINE: &str = "age-encryption.org/v1\n";

/// The largest header accepted, so a hostile file cannot make a reader buffer without end.
/// One X25519 stanza takes about 110 bytes, so this is room for thousands of recipients.
pub const MAX_HEADER_LEN: usize = 1 << 20;

/// Tag of age's passphrase stanza, which the spec requires to be alone in its header.
const SCRYPT_TAG: &str = "scrypt";

/// A parsed or freshly written age v1 header.
pub struct Header {
    stanzas: Vec<Stanza>,
    mac: [u8; 32],
    /// The header exactly as it appears in the file, MAC line included.
    bytes: Vec<u8>,
    /// Length of the MAC's input (the header up to and including `---`).
    mac_input_len: usize,
}

impl std::fmt::Debug for Header {
    // Stanza bodies are wrapped keys: harmless, but noisy; show the shape only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tags: Vec<&str> = self.stanzas.iter().map(|s| s.tag.as_str()).collect();
        f.debug_struct("Header")
            .field("stanzas", &tags)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl Header {
    /// Parses the header at the start of `input`. Bytes after the header (the payload)
    /// are allowed and ignored; [`Header::len`] says where they start.
    pub fn parse(input: &[u8]) -> Result<Header, HeaderError> {
        let p = parse::parse(input)?;
        Ok(Header {
            stanzas: p.stanzas,
            mac: p.mac,
            bytes: input[..p.len].to_vec(),
            mac_input_len: p.mac_input_len,
        })
    }

    /// Writes a new header that wraps `file_key` for every recipient.
    ///
    /// Like age, all recipients must report the same labels; this is what keeps a
    /// passphrase (scrypt) recipient from being mixed with others.
    pub fn for_recipients(file_key: &FileKey, recipients: &[&dyn Recipient]) -> Result<Header> {
        if recipients.is_empty() {
            return Err(Error::Recipients("no recipients".into()));
        }
        let mut stanzas = Vec::new();
        let mut labels: Option<HashSet<String>> = None;
        for recipient in recipients {
            let (mut wrapped, these) = recipient
                .wrap_file_key(file_key)
                .map_err(|e| Error::Recipients(e.to_string()))?;
            match &labels {
                Some(first) if *first != these => {
                    return Err(Error::Recipients(
                        "recipients of incompatible kinds (a passphrase must be alone)".into(),
                    ));
                }
                Some(_) => {}
                None => labels = Some(these),
            }
            stanzas.append(&mut wrapped);
        }
        let mac_key = mac_key(file_key);
        let (bytes, mac_input_len) = write::encode(&stanzas, |input| hmac(&mac_key, input))?;
        let parsed = Header::parse(&bytes).expect("a header we wrote parses");
        debug_assert_eq!(parsed.mac_input_len, mac_input_len);
        Ok(parsed)
    }

    /// The recipient stanzas, in file order.
    pub fn stanzas(&self) -> &[Stanza] {
        &self.stanzas
    }

    /// The header bytes exactly as in the file.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The header's length in bytes: the offset of the payload in the file.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always false: a valid header has at least a version line and a MAC line.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Checks the header MAC against a file key.
    pub fn verify_mac(&self, file_key: &FileKey) -> Result<()> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(mac_key(file_key).as_ref())
            .expect("HMAC takes any key length");
        mac.update(&self.bytes[..self.mac_input_len]);
        // `verify_slice` compares in constant time.
        mac.verify_slice(&self.mac).map_err(|_| Error::HeaderMac)
    }

    /// Finds the file key with the first identity that recognises a stanza, then checks
    /// the header MAC with it.
    pub fn unwrap_file_key(&self, identities: &[&dyn Identity]) -> Result<FileKey> {
        let scrypt = self.stanzas.iter().any(|s| s.tag == SCRYPT_TAG);
        if scrypt && self.stanzas.len() != 1 {
            return Err(HeaderError::ScryptNotAlone.into());
        }
        // Same rule as age's Decryptor: the first identity with an opinion decides.
        let found = identities
            .iter()
            .find_map(|id| id.unwrap_stanzas(&self.stanzas));
        let file_key = match found {
            None => return Err(Error::NoMatchingIdentity),
            Some(Ok(key)) => key,
            Some(Err(e)) => return Err(unwrap_error(e, scrypt)),
        };
        self.verify_mac(&file_key)?;
        Ok(file_key)
    }

    /// A new header for the same file key, wrapped for `recipients` only. The payload
    /// that followed this header is valid after the new one, unchanged.
    pub fn rewrap(
        &self,
        identities: &[&dyn Identity],
        recipients: &[&dyn Recipient],
    ) -> Result<Header> {
        let file_key = self.unwrap_file_key(identities)?;
        Header::for_recipients(&file_key, recipients)
    }
}

/// Reads a header from the start of a stream. Returns it with the bytes that were read
/// past its end (the start of the payload), since a reader cannot be un-read.
pub fn read_header<R: Read>(reader: &mut R) -> Result<(Header, Vec<u8>)> {
    let mut buf = Vec::with_capacity(4096);
    let mut block = [0u8; 4096];
    loop {
        match Header::parse(&buf) {
            Ok(header) => {
                let rest = buf.split_off(header.len());
                return Ok((header, rest));
            }
            Err(HeaderError::Incomplete) => {}
            Err(e) => return Err(e.into()),
        }
        let n = loop {
            match reader.read(&mut block) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        if n == 0 {
            return Err(HeaderError::Incomplete.into());
        }
        buf.extend_from_slice(&block[..n]);
    }
}

/// A fresh random file key.
pub fn new_file_key() -> FileKey {
    FileKey::init_with_mut(|key| OsRng.fill_bytes(key))
}

/// The file key as bytes, for the payload key derivation.
pub(crate) fn file_key_bytes(file_key: &FileKey) -> &[u8; FILE_KEY_BYTES] {
    file_key.expose_secret()
}

/// HMAC key = HKDF-SHA256(ikm = file key, salt = empty, info = "header").
fn mac_key(file_key: &FileKey) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(None, file_key_bytes(file_key))
        .expand(b"header", key.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 length");
    key
}

fn hmac(key: &[u8; 32], input: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(input);
    mac.finalize().into_bytes().into()
}

/// Maps age's stanza errors to ours. A failed decryption means a wrong passphrase for a
/// scrypt header; for other kinds age reports a non-matching key as "no opinion".
fn unwrap_error(e: DecryptError, scrypt: bool) -> Error {
    match e {
        DecryptError::DecryptionFailed | DecryptError::KeyDecryptionFailed if scrypt => {
            Error::WrongPassphrase
        }
        DecryptError::DecryptionFailed | DecryptError::KeyDecryptionFailed => {
            Error::NoMatchingIdentity
        }
        DecryptError::ExcessiveWork { required, .. } => Error::ExcessiveWork { required },
        DecryptError::InvalidMac => Error::HeaderMac,
        other => Error::Stanza(other.to_string()),
    }
}
