//! The unlocked vault key, cached by `selah vault unlock` in `$XDG_RUNTIME_DIR/selah/`.
//!
//! `XDG_RUNTIME_DIR` is the per-user directory systemd-logind creates at login (mode 0700,
//! usually a tmpfs, removed at logout), the one place meant for secrets that should not
//! outlive the session or reach a disk. Without it nothing is cached: there is no other
//! place as safe. Each file (mode 0600, directory 0700) holds one server's and key's
//! identity with the time it stops being valid; an expired file is deleted when seen.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use selah_vault::VaultIdentity;
use selah_vault::age::secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What one cache file holds.
#[derive(Serialize, Deserialize)]
struct Cached {
    /// The server the key belongs to.
    url: String,
    /// The key's public half, to match it with the server's.
    public_key: String,
    /// `AGE-SECRET-KEY-1…`.
    secret: String,
    /// Not valid from this time on, ms since the epoch.
    expires_at: i64,
}

/// `$XDG_RUNTIME_DIR/selah`, or why there is none.
pub fn dir() -> anyhow::Result<PathBuf> {
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .context(
            "XDG_RUNTIME_DIR is not set, so there is no safe place to keep the unlocked key \
             (it is the private per-user directory a login session gets, removed at logout; \
             the key is never written anywhere else). Without `unlock`, each command asks for \
             the passphrase or reads SELAH_VAULT_PASSPHRASE",
        )?;
    anyhow::ensure!(
        runtime.is_dir(),
        "XDG_RUNTIME_DIR ({}) is not a directory",
        runtime.display()
    );
    Ok(runtime.join("selah"))
}

fn file_for(url: &str, public_key: &str) -> anyhow::Result<PathBuf> {
    let digest = Sha256::digest(format!("{url}\n{public_key}").as_bytes());
    Ok(dir()?.join(format!("vault-{}.key", &hex::encode(digest)[..16])))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Stores `identity` for `url` until `expires_at` (ms).
pub fn save(url: &str, identity: &VaultIdentity, expires_at: i64) -> anyhow::Result<PathBuf> {
    let path = file_for(url, &identity.public_key())?;
    let dir = path.parent().expect("the file is in a directory");
    {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let cached = Cached {
        url: url.to_string(),
        public_key: identity.public_key(),
        secret: identity.to_secret().expose_secret().to_string(),
        expires_at,
    };
    let text = SecretString::from(serde_json::to_string(&cached)?);
    drop(cached);
    // Written privately under a temporary name, then renamed: never readable by others, never
    // half-written.
    let mut tmp = tempfile::Builder::new()
        .prefix(".vault-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(text.expose_secret().as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// The cached identity for `url` with this public key, if one is there and still valid.
/// Nothing cached (or no `XDG_RUNTIME_DIR`) is not an error.
pub fn load(url: &str, public_key: &str) -> Option<VaultIdentity> {
    let path = file_for(url, public_key).ok()?;
    let text = SecretString::from(std::fs::read_to_string(&path).ok()?);
    let cached: Cached = match serde_json::from_str(text.expose_secret()) {
        Ok(c) => c,
        Err(_) => {
            let _ = std::fs::remove_file(&path);
            return None;
        }
    };
    if cached.expires_at <= now_ms() || cached.url != url || cached.public_key != public_key {
        let _ = std::fs::remove_file(&path);
        return None;
    }
    let identity = VaultIdentity::from_secret(&SecretString::from(cached.secret)).ok()?;
    (identity.public_key() == public_key).then_some(identity)
}

/// Deletes every cached vault key; returns how many there were.
pub fn clear() -> anyhow::Result<usize> {
    let dir = dir()?;
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("vault-") && name.ends_with(".key") {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot delete {}", entry.path().display()))?;
            removed += 1;
        }
    }
    Ok(removed)
}
