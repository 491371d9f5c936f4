//! Getting at the vault identity: the wrapped copy the server keeps
//! (`GET /api/v1/vault/identity`), the passphrase (a no-echo prompt or
//! `SELAH_VAULT_PASSPHRASE`), the unlocked key cached by `vault unlock`, and teammates'
//! public keys.

use std::str::FromStr;
use std::sync::Arc;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::StatusCode;
use selah_vault::age::secrecy::SecretString;
use selah_vault::age::x25519;
use selah_vault::{VaultIdentity, WorkFactor};
use serde::Deserialize;

use super::api::{Api, VAULT, status_of};
use super::cache;

/// The variable a script sets instead of typing the passphrase.
pub const PASSPHRASE_ENV: &str = "SELAH_VAULT_PASSPHRASE";

/// The caller's identity as the server stores it.
pub struct Remote {
    /// `age1…`.
    pub public_key: String,
    /// The binary age file encrypted to the passphrase.
    pub wrapped: Vec<u8>,
    /// Send back with a re-wrap.
    pub version: i64,
}

#[derive(Deserialize)]
struct IdentityJson {
    public_key: String,
    wrapped_identity: String,
    version: i64,
}

/// The caller's stored identity, or None when they have no vault yet.
pub async fn remote_opt(api: &Api) -> anyhow::Result<Option<Remote>> {
    let found: IdentityJson = match api.get(&format!("{VAULT}/identity")).await {
        Ok(v) => v,
        Err(e) if status_of(&e) == Some(StatusCode::NOT_FOUND) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(Remote {
        wrapped: BASE64
            .decode(found.wrapped_identity.trim())
            .context("the server's wrapped identity is not base64")?,
        public_key: found.public_key,
        version: found.version,
    }))
}

/// The caller's stored identity; an error saying to run `vault init` when there is none.
pub async fn remote(api: &Api) -> anyhow::Result<Remote> {
    remote_opt(api)
        .await?
        .context("you have no vault yet: run `selah vault init` to create one")
}

/// `SELAH_VAULT_PASSPHRASE`, when set and not empty.
pub fn passphrase_from_env() -> Option<SecretString> {
    std::env::var(PASSPHRASE_ENV)
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
}

/// Asks for a passphrase without echo.
pub fn ask(prompt: &str) -> anyhow::Result<SecretString> {
    let p = rpassword::prompt_password(prompt).with_context(|| {
        format!("cannot prompt for the vault passphrase (no terminal?); set {PASSPHRASE_ENV}")
    })?;
    anyhow::ensure!(!p.is_empty(), "the passphrase is empty");
    Ok(SecretString::from(p))
}

/// The passphrase that opens the vault: the environment, else a prompt.
pub fn passphrase() -> anyhow::Result<(SecretString, bool)> {
    match passphrase_from_env() {
        Some(p) => Ok((p, true)),
        None => Ok((ask("Vault passphrase: ")?, false)),
    }
}

/// Unwraps the stored identity (scrypt: about a second, so off the async threads).
pub async fn unwrap(
    remote: &Remote,
    passphrase: SecretString,
    from_env: bool,
) -> anyhow::Result<VaultIdentity> {
    let wrapped = remote.wrapped.clone();
    let opened = tokio::task::spawn_blocking(move || {
        VaultIdentity::unwrap(&wrapped, &passphrase, WorkFactor::default())
    })
    .await?;
    match opened {
        Ok(id) if id.public_key() == remote.public_key => Ok(id),
        Ok(_) => anyhow::bail!(
            "the stored vault key does not match its public key on the server; \
             the identity is damaged"
        ),
        Err(selah_vault::Error::WrongPassphrase) if from_env => {
            anyhow::bail!("wrong vault passphrase (from {PASSPHRASE_ENV})")
        }
        Err(selah_vault::Error::WrongPassphrase) => anyhow::bail!("wrong vault passphrase"),
        Err(e) => Err(anyhow::anyhow!("cannot open the stored vault key: {e}")),
    }
}

/// The caller's unlocked identity, for every command that reads or writes the vault: the
/// key cached by `vault unlock` if still valid, else the passphrase from the environment or a
/// prompt.
pub async fn open(api: &Api) -> anyhow::Result<Arc<VaultIdentity>> {
    let remote = remote(api).await?;
    if let Some(id) = cache::load(&api.base, &remote.public_key) {
        return Ok(Arc::new(id));
    }
    let (pass, from_env) = passphrase()?;
    Ok(Arc::new(unwrap(&remote, pass, from_env).await?))
}

#[derive(Deserialize)]
struct PublicKeyJson {
    public_key: String,
}

/// A user's public key as a recipient; None when they have no vault identity (or share no team
/// with the caller).
pub async fn public_key_opt(api: &Api, user_id: &str) -> anyhow::Result<Option<x25519::Recipient>> {
    let path = format!("{VAULT}/public-keys/{user_id}");
    match api.get::<PublicKeyJson>(&path).await {
        Ok(k) => Ok(Some(parse_recipient(&k.public_key)?)),
        Err(e) if status_of(&e) == Some(StatusCode::NOT_FOUND) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The public keys of `user_ids`, in order.
pub async fn public_keys(api: &Api, user_ids: &[String]) -> anyhow::Result<Vec<x25519::Recipient>> {
    let mut keys = Vec::with_capacity(user_ids.len());
    for id in user_ids {
        keys.push(public_key_opt(api, id).await?.with_context(|| {
            format!("user {id} has no vault identity, or shares no team with you")
        })?);
    }
    Ok(keys)
}

/// Parses an `age1…` X25519 public key.
pub fn parse_recipient(key: &str) -> anyhow::Result<x25519::Recipient> {
    x25519::Recipient::from_str(key.trim())
        .map_err(|e| anyhow::anyhow!("{key} is not an age X25519 public key (age1…): {e}"))
}

/// Reads and parses the identity file at `path` (see [`parse_identity_file`]).
pub fn read_identity_file(path: &std::path::Path) -> anyhow::Result<Vec<x25519::Identity>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("it is not text"))
        .and_then(|text| parse_identity_file(&text))
        .with_context(|| format!("{} is not an age identity file", path.display()))
}

/// Parses an identity file as `age-keygen` writes it: `#` comments and one or more
/// `AGE-SECRET-KEY-1…` lines.
pub fn parse_identity_file(text: &str) -> anyhow::Result<Vec<x25519::Identity>> {
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        keys.push(
            x25519::Identity::from_str(line)
                .map_err(|_| anyhow::anyhow!("line {} is not an age X25519 secret key", n + 1))?,
        );
    }
    anyhow::ensure!(
        !keys.is_empty(),
        "no AGE-SECRET-KEY-1 line in the identity file"
    );
    Ok(keys)
}
