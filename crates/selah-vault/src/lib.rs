//! Selah's vault format: files end-to-end encrypted as standard binary age v1 files.
//!
//! A vault file is what `age -r age1… -o out in` would write: a text header with one
//! X25519 stanza per recipient and a MAC, then the STREAM payload (ChaCha20-Poly1305 over
//! 64 KiB chunks). Files made here decrypt with the stock `age` tool and the other way
//! round. What this crate adds to the `age` crate:
//!
//! - [`header`]: a strict header parser that reports where the payload starts, and
//!   *rewrapping* a header for new recipients while the payload stays untouched (sharing);
//! - [`stream`]: a STREAM writer and reader that seal and open batches of chunks on two
//!   threads with bounded memory, byte-identical to age's output;
//! - [`keys`]: a user's vault identity, stored wrapped under a vault passphrase;
//! - [`encrypt`], [`decrypt`], [`rewrap`]: whole-file operations that also hash the
//!   ciphertext as it streams by.
//! - [`EncryptionPlan`]: an encryption fixed in advance (key, header, nonce), so the same
//!   ciphertext can be produced again from any offset: hash while sending, and resume an
//!   interrupted upload without having kept the ciphertext.
//!
//! No I/O besides the readers and writers handed in, no logging: nothing here can leak a
//! key or a plaintext byte to a log.

pub mod error;
mod file;
pub mod header;
pub mod keys;
mod pipe;
pub mod stream;
mod util;

pub use age;
pub use error::{Error, HeaderError, Result, StreamError};
pub use file::{
    EncryptionPlan, Sealed, decrypt, decrypt_to, decrypt_with, decryptor, encrypt, encrypt_with,
    payload_offset, rewrap,
};
pub use header::{Header, read_header};
pub use keys::{
    MAX_WRAPPED_IDENTITY, VaultIdentity, WorkFactor, check_public_key, check_wrapped_identity,
};
pub use stream::{Options, StreamReader, StreamWriter};
