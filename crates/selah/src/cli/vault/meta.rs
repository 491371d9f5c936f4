//! Item metadata: `{"name", "tags"}` as JSON, encrypted as an age file to the item's
//! recipients and sent base64. The server never sees a name or a tag. Fields this CLI does not
//! know (another client may add some) are kept when it rewrites the metadata.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use selah_vault::age::{Identity, Recipient, x25519};
use selah_vault::{Options, VaultIdentity};
use serde::{Deserialize, Serialize};

/// The largest metadata the server accepts (decoded).
pub const MAX_META: usize = 64 * 1024;

/// What an item's metadata says.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Meta {
    /// The item's name.
    pub name: String,
    /// Its tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Anything else another client stored.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Meta {
    /// Metadata with a name and tags.
    pub fn new(name: &str, tags: Vec<String>) -> Meta {
        Meta {
            name: name.to_string(),
            tags,
            extra: Default::default(),
        }
    }
}

const SMALL: Options = Options {
    threads: 1,
    batch_chunks: 1,
};

/// Encrypts `meta` to `recipients`; returns the base64 the API takes.
pub fn seal(meta: &Meta, recipients: &[x25519::Recipient]) -> anyhow::Result<String> {
    let json = serde_json::to_vec(meta)?;
    let to: Vec<&dyn Recipient> = recipients.iter().map(|r| r as &dyn Recipient).collect();
    let mut out = Vec::with_capacity(json.len() + 256 * recipients.len());
    selah_vault::encrypt_with(&json[..], &mut out, &to, SMALL)
        .map_err(|e| anyhow::anyhow!("cannot encrypt the item's name: {e}"))?;
    anyhow::ensure!(
        out.len() <= MAX_META,
        "the name and tags are too long ({} bytes encrypted, at most {MAX_META})",
        out.len()
    );
    Ok(BASE64.encode(out))
}

/// Decrypts base64 metadata with the caller's identity.
pub fn open(b64: &str, identity: &VaultIdentity) -> anyhow::Result<Meta> {
    let file = BASE64
        .decode(b64.trim())
        .context("the item's metadata is not base64")?;
    let mut json = Vec::new();
    let ids: [&dyn Identity; 1] = [identity.identity()];
    selah_vault::decrypt_with(&file[..], &mut json, &ids, SMALL)
        .map_err(|e| anyhow::anyhow!("cannot decrypt the item's metadata: {e}"))?;
    serde_json::from_slice(&json).context("the item's metadata is not the expected JSON")
}
