//! The CLI's stored session: the server URL and a bearer token, kept in
//! `$XDG_CONFIG_HOME/selah/cli.json` (else `~/.config/selah/cli.json`) with mode 0600 and read
//! by commands that talk to a running server. `SELAH_URL` and `SELAH_TOKEN` override the file.

use std::path::PathBuf;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The default server address (the seed's port).
pub const DEFAULT_URL: &str = "http://127.0.0.1:5000";

/// What `selah login` stores.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredSession {
    /// Server base URL, e.g. `http://127.0.0.1:5000`.
    pub url: String,
    /// Bearer token.
    pub token: String,
    /// Who signed in (for messages only).
    #[serde(default)]
    pub username: String,
    /// The session's public id (to revoke it).
    #[serde(default)]
    pub session_id: String,
}

/// Where the session file lives.
pub fn session_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."))
                .join(".config")
        });
    base.join("selah").join("cli.json")
}

/// Writes the session file, readable by its owner only.
pub fn save(session: &StoredSession) -> anyhow::Result<PathBuf> {
    let path = session_path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(session)?;
    // Written to a private temporary file first, so the token is never world-readable, not
    // even for a moment, and a crash never leaves half a file.
    let tmp = path.with_extension("json.tmp");
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// The session later commands use: the file, with `SELAH_URL` / `SELAH_TOKEN` taking precedence.
/// None when there is no token at all.
pub fn load() -> anyhow::Result<Option<StoredSession>> {
    let path = session_path();
    let mut stored = match std::fs::read_to_string(&path) {
        Ok(text) => Some(
            serde_json::from_str::<StoredSession>(&text)
                .with_context(|| format!("{} is not a Selah session file", path.display()))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let Some(token) = env("SELAH_TOKEN") {
        let s = stored.get_or_insert_with(|| StoredSession {
            url: DEFAULT_URL.into(),
            token: String::new(),
            username: String::new(),
            session_id: String::new(),
        });
        s.token = token;
    }
    if let (Some(url), Some(s)) = (env("SELAH_URL"), stored.as_mut()) {
        s.url = url;
    }
    Ok(stored)
}

/// The server URL to use when none is given: `SELAH_URL`, else the stored one, else the default.
pub fn default_url() -> String {
    if let Some(u) = std::env::var("SELAH_URL").ok().filter(|v| !v.is_empty()) {
        return u;
    }
    load()
        .ok()
        .flatten()
        .map(|s| s.url)
        .unwrap_or_else(|| DEFAULT_URL.to_string())
}
