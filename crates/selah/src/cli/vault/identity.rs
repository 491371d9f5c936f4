//! `vault init`, `passwd`, `unlock`, `lock` and `export-key`: making the vault identity,
//! changing its passphrase, keeping it unlocked for a while, and writing it out for the `age`
//! tool.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::{Method, StatusCode};
use selah_vault::age::secrecy::{ExposeSecret, SecretString};
use selah_vault::{VaultIdentity, WorkFactor};
use serde_json::json;

use super::api::{Api, VAULT, status_of};
use super::{cache, keys, output};

/// The shortest passphrase accepted for a new vault.
const MIN_PASSPHRASE: usize = 8;

/// A new passphrase: `env` if set, else typed twice.
fn new_passphrase(env: &str, prompt: &str) -> anyhow::Result<SecretString> {
    let pass = match std::env::var(env).ok().filter(|v| !v.is_empty()) {
        Some(p) => SecretString::from(p),
        None => {
            let first = keys::ask(prompt)?;
            let again = keys::ask("Again: ")?;
            anyhow::ensure!(
                first.expose_secret() == again.expose_secret(),
                "the two passphrases differ"
            );
            first
        }
    };
    anyhow::ensure!(
        pass.expose_secret().chars().count() >= MIN_PASSPHRASE,
        "the vault passphrase must have at least {MIN_PASSPHRASE} characters"
    );
    Ok(pass)
}

async fn wrap(
    identity: VaultIdentity,
    pass: SecretString,
) -> anyhow::Result<(VaultIdentity, Vec<u8>)> {
    tokio::task::spawn_blocking(move || {
        let wrapped = identity.wrap(&pass, WorkFactor::default())?;
        Ok::<_, selah_vault::Error>((identity, wrapped))
    })
    .await?
    .map_err(|e| anyhow::anyhow!("cannot wrap the vault key: {e}"))
}

async fn put_identity(
    api: &Api,
    public_key: &str,
    wrapped: &[u8],
    version: i64,
) -> anyhow::Result<()> {
    let body = json!({
        "public_key": public_key,
        "wrapped_identity": BASE64.encode(wrapped),
        "version": version,
    });
    let rb = api
        .request(Method::PUT, &format!("{VAULT}/identity"))
        .json(&body);
    match api.send(rb).await {
        Ok(_) => Ok(()),
        Err(e) if status_of(&e) == Some(StatusCode::CONFLICT) && version == 0 => Err(e.context(
            "a vault identity was created meanwhile (from another device?); nothing was changed",
        )),
        Err(e) => Err(e),
    }
}

/// `vault init`.
pub async fn init(api: &Api) -> anyhow::Result<()> {
    if let Some(existing) = keys::remote_opt(api).await? {
        bail!(
            "you already have a vault (public key {}); `selah vault passwd` changes its passphrase",
            existing.public_key
        );
    }
    eprintln!(
        "Choose the vault passphrase. It is the only way into your vault: nobody, not an \
         administrator and not the server, can recover it."
    );
    let pass = new_passphrase(keys::PASSPHRASE_ENV, "New vault passphrase: ")?;
    let (identity, wrapped) = wrap(VaultIdentity::generate(), pass).await?;
    put_identity(api, &identity.public_key(), &wrapped, 0).await?;
    println!("vault created; public key {}", identity.public_key());
    eprintln!(
        "IMPORTANT: if you lose the vault passphrase, everything in the vault is lost for \
         good. Write it down somewhere safe."
    );
    Ok(())
}

/// `vault passwd`: re-wraps the key under a new passphrase at the stored version.
pub async fn passwd(api: &Api) -> anyhow::Result<()> {
    let remote = keys::remote(api).await?;
    let (old, from_env) = match keys::passphrase_from_env() {
        Some(p) => (p, true),
        None => (keys::ask("Current vault passphrase: ")?, false),
    };
    let identity = keys::unwrap(&remote, old, from_env).await?;
    let new = new_passphrase("SELAH_VAULT_NEW_PASSPHRASE", "New vault passphrase: ")?;
    let (identity, wrapped) = wrap(identity, new).await?;
    put_identity(api, &identity.public_key(), &wrapped, remote.version)
        .await
        .context("the passphrase was not changed")?;
    println!("vault passphrase changed");
    eprintln!("If you lose the new passphrase, everything in the vault is lost for good.");
    Ok(())
}

/// Parses `90s`, `15m`, `2h`, `1d` (a bare number is minutes).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "m"), |i| s.split_at(i));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration like 90s, 15m, 2h or 1d"))?;
    let secs = match unit.trim() {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("'{s}' is not a duration like 90s, 15m, 2h or 1d")),
    };
    if secs == 0 {
        return Err("the duration must be more than zero".into());
    }
    Ok(Duration::from_secs(secs))
}

/// `vault unlock --for D`.
pub async fn unlock(api: &Api, duration: Duration) -> anyhow::Result<()> {
    // Checked first: no point asking for a passphrase that cannot be cached.
    cache::dir()?;
    let remote = keys::remote(api).await?;
    let (pass, from_env) = keys::passphrase()?;
    let identity = keys::unwrap(&remote, pass, from_env).await?;
    let until = chrono::Utc::now()
        + chrono::Duration::from_std(duration).context("the duration is too long")?;
    let path = cache::save(&api.base, &identity, until.timestamp_millis())?;
    println!(
        "vault unlocked until {} (key kept in {}; `selah vault lock` forgets it)",
        until
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M:%S"),
        path.display()
    );
    Ok(())
}

/// `vault lock`.
pub fn lock() -> anyhow::Result<()> {
    let n = cache::clear()?;
    match n {
        0 => println!("vault locked (no unlocked key was cached)"),
        _ => println!("vault locked"),
    }
    Ok(())
}

/// `vault export-key -o FILE`: the identity in age's text format.
pub async fn export_key(api: &Api, out: &Path, force: bool) -> anyhow::Result<()> {
    let identity = keys::open(api).await?;
    let text = SecretString::from(format!(
        "# created: {}\n# public key: {}\n{}\n",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        identity.public_key(),
        identity.to_secret().expose_secret()
    ));
    eprintln!(
        "WARNING: this writes your vault's PRIVATE KEY in the clear. Whoever gets the file can \
         read everything in your vault and everything shared with you, without the passphrase. \
         Keep it offline, and delete it when done."
    );
    if out == Path::new("-") {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(text.expose_secret().as_bytes())?;
        stdout.flush()?;
        return Ok(());
    }
    if out.exists() && !force {
        bail!("{} exists; give --force to replace it", out.display());
    }
    let mut file = output::Output::create(out)?;
    file.write_all(text.expose_secret().as_bytes())?;
    file.commit()?;
    eprintln!("private key written to {} (mode 0600)", out.display());
    Ok(())
}
