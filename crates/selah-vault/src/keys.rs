//! A user's vault identity: an X25519 key pair made on the client, whose secret half is
//! stored (on the server too) only as an age file encrypted to the vault passphrase.
//!
//! The wrapped identity is an ordinary binary age file with one scrypt stanza, and its
//! plaintext is an age identity file (`# public key: age1…` then `AGE-SECRET-KEY-1…`), so
//! `age -d wrapped > key.txt` recovers a key file the `age` CLI can use directly. Losing
//! the passphrase loses the vault: nothing here can recover it.

use std::io::{Read, Write};
use std::str::FromStr;

use age::scrypt;
use age::secrecy::{ExposeSecret, SecretString};
use age::x25519;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::header::{Header, new_file_key, read_header};
use crate::stream::{Options, StreamReader, StreamWriter};

/// The largest identity file accepted when unwrapping (a key file is under 200 bytes).
const MAX_IDENTITY_FILE: u64 = 16 * 1024;

/// The largest wrapped identity accepted: the header (about 200 bytes) and one small chunk.
pub const MAX_WRAPPED_IDENTITY: usize = 4 * 1024;

/// scrypt cost of the passphrase wrapping, as log2 of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WorkFactor {
    /// Cost used when wrapping; `None` lets age pick one that takes about a second here.
    pub log_n: Option<u8>,
    /// Highest cost accepted when unwrapping; `None` keeps age's limit (about 16 times
    /// its own target), which stops a hostile file from costing hours.
    pub max_log_n: Option<u8>,
}

impl WorkFactor {
    /// A fixed cost for wrapping and the same as the unwrap limit; small values make
    /// tests fast (never use below 18 for real data).
    pub fn fixed(log_n: u8) -> WorkFactor {
        WorkFactor {
            log_n: Some(log_n),
            max_log_n: Some(log_n),
        }
    }
}

/// A user's X25519 vault identity.
pub struct VaultIdentity {
    identity: x25519::Identity,
}

impl std::fmt::Debug for VaultIdentity {
    // Never print the secret, only the public half.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultIdentity")
            .field("public_key", &self.public_key())
            .finish()
    }
}

impl VaultIdentity {
    /// Makes a new random identity (on the client: the server never sees the secret).
    pub fn generate() -> VaultIdentity {
        VaultIdentity {
            identity: x25519::Identity::generate(),
        }
    }

    /// Parses an `AGE-SECRET-KEY-1…` string.
    pub fn from_secret(secret: &SecretString) -> Result<VaultIdentity> {
        x25519::Identity::from_str(secret.expose_secret().trim())
            .map(|identity| VaultIdentity { identity })
            .map_err(|_| Error::InvalidKey("age secret key"))
    }

    /// The `AGE-SECRET-KEY-1…` string.
    pub fn to_secret(&self) -> SecretString {
        self.identity.to_string()
    }

    /// The public key string (`age1…`) that others encrypt to.
    pub fn public_key(&self) -> String {
        self.identity.to_public().to_string()
    }

    /// The public key as an age recipient.
    pub fn recipient(&self) -> x25519::Recipient {
        self.identity.to_public()
    }

    /// The identity, to pass to [`crate::decrypt`] and friends.
    pub fn identity(&self) -> &x25519::Identity {
        &self.identity
    }

    /// Encrypts this identity to a passphrase, as a binary age file.
    pub fn wrap(&self, passphrase: &SecretString, work: WorkFactor) -> Result<Vec<u8>> {
        let mut recipient = scrypt::Recipient::new(passphrase.clone());
        if let Some(log_n) = work.log_n {
            if log_n == 0 || log_n >= 64 {
                return Err(Error::Recipients(format!(
                    "scrypt work factor {log_n} out of range"
                )));
            }
            recipient.set_work_factor(log_n);
        }
        let file_key = new_file_key();
        let header = Header::for_recipients(&file_key, &[&recipient])?;
        let mut out = header.as_bytes().to_vec();
        let mut writer = StreamWriter::new(
            &mut out,
            &file_key,
            Options {
                threads: 1,
                batch_chunks: 1,
            },
        )?;
        let text = Zeroizing::new(format!(
            "# public key: {}\n{}\n",
            self.public_key(),
            self.to_secret().expose_secret()
        ));
        writer.write_all(text.as_bytes())?;
        writer.finish()?;
        Ok(out)
    }

    /// Decrypts an identity wrapped by [`VaultIdentity::wrap`] (or by `age -p` around an
    /// `age-keygen` file). A wrong passphrase gives [`Error::WrongPassphrase`].
    pub fn unwrap(
        wrapped: &[u8],
        passphrase: &SecretString,
        work: WorkFactor,
    ) -> Result<VaultIdentity> {
        let mut identity = scrypt::Identity::new(passphrase.clone());
        if let Some(max) = work.max_log_n {
            identity.set_max_work_factor(max);
        }
        let mut input = wrapped;
        let (header, rest) = read_header(&mut input)?;
        let file_key = header.unwrap_file_key(&[&identity])?;
        let payload = std::io::Cursor::new(rest).chain(input);
        let reader = StreamReader::new(
            payload,
            &file_key,
            Options {
                threads: 1,
                batch_chunks: 1,
            },
        )?;
        let mut text = Zeroizing::new(Vec::new());
        reader.take(MAX_IDENTITY_FILE).read_to_end(&mut text)?;
        parse_identity_file(&text)
    }

    /// Re-wraps a wrapped identity under a new passphrase (unwrap, then wrap).
    pub fn change_passphrase(
        wrapped: &[u8],
        old: &SecretString,
        new: &SecretString,
        work: WorkFactor,
    ) -> Result<Vec<u8>> {
        VaultIdentity::unwrap(wrapped, old, work)?.wrap(new, work)
    }
}

/// Checks that `key` is an X25519 public key (`age1…`), the only kind a vault identity has.
pub fn check_public_key(key: &str) -> Result<()> {
    x25519::Recipient::from_str(key)
        .map(drop)
        .map_err(|_| Error::InvalidKey("public key (expected an age X25519 key, age1…)"))
}

/// Checks what a server can check of a wrapped identity without the passphrase: a binary age
/// file, at most [`MAX_WRAPPED_IDENTITY`] bytes, whose valid header holds exactly one scrypt
/// stanza (encrypted to a passphrase alone), followed by a payload.
pub fn check_wrapped_identity(wrapped: &[u8]) -> Result<()> {
    if wrapped.len() > MAX_WRAPPED_IDENTITY {
        return Err(Error::InvalidKey("wrapped identity (too large)"));
    }
    let header = Header::parse(wrapped)?;
    match header.stanzas() {
        [only] if only.tag == "scrypt" => {}
        _ => {
            return Err(Error::InvalidKey(
                "wrapped identity (expected a file encrypted to a passphrase alone)",
            ));
        }
    }
    // The 16-byte nonce and at least one sealed chunk (a tag) follow the header.
    if wrapped.len() < header.len() + 16 + 16 {
        return Err(Error::InvalidKey("wrapped identity (no payload)"));
    }
    Ok(())
}

/// Finds the single `AGE-SECRET-KEY-1…` line of an identity file; `#` lines are comments.
fn parse_identity_file(text: &[u8]) -> Result<VaultIdentity> {
    let text = std::str::from_utf8(text).map_err(|_| Error::InvalidKey("identity file"))?;
    let mut keys = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'));
    match (keys.next(), keys.next()) {
        (Some(key), None) => VaultIdentity::from_secret(&SecretString::from(key.to_owned())),
        _ => Err(Error::InvalidKey(
            "identity file (expected exactly one key)",
        )),
    }
}
