//! `vault share` and `vault unshare`. Both read the item's metadata and every version's header
//! (`GET /items/{id}/headers`), unwrap each file key with the caller's identity, rewrap it for
//! the new recipient list (`selah_vault::rewrap`: the payloads never move), re-encrypt the
//! metadata, and `PUT /items/{id}/recipients`. Unsharing then re-encrypts the current content
//! under a new file key and uploads it as a new version, so a key the removed user may have
//! kept opens nothing they can still fetch.

use std::sync::Arc;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::{Method, StatusCode};
use selah_vault::age::{Identity, Recipient};
use selah_vault::{Options, VaultIdentity};
use serde::Deserialize;
use serde_json::json;

use super::api::{Api, Headers, VAULT, status_of};
use super::download::{BodyReader, explain, fetch};
use super::items::{Entry, Vault, Want};
use super::progress::Progress;
use super::source::Spooled;
use super::{keys, meta, tus};

#[derive(Deserialize)]
struct Me {
    user: MeUser,
    #[serde(default)]
    teams: Vec<Team>,
}

#[derive(Deserialize)]
struct MeUser {
    id: String,
}

#[derive(Deserialize)]
struct Team {
    id: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct Member {
    user_id: String,
    #[serde(default)]
    username: String,
}

async fn me(api: &Api) -> anyhow::Result<Me> {
    api.get("/api/v1/auth/me").await
}

/// A team id from an id or a team name the caller belongs to.
pub async fn team_id(api: &Api, arg: &str) -> anyhow::Result<String> {
    let me = me(api).await?;
    if let Some(t) = me.teams.iter().find(|t| t.id == arg) {
        return Ok(t.id.clone());
    }
    let named: Vec<&Team> = me.teams.iter().filter(|t| t.name == arg).collect();
    match named.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => bail!("you are in no team with the id or name '{arg}'"),
        _ => bail!("several of your teams are named '{arg}'; give the team id"),
    }
}

async fn members(api: &Api, team: &str) -> anyhow::Result<Vec<Member>> {
    api.get(&format!("/api/v1/teams/{team}/members")).await
}

/// User ids from ids or usernames of people in the caller's teams.
async fn user_ids(api: &Api, args: &[String]) -> anyhow::Result<Vec<String>> {
    let me = me(api).await?;
    let mut known: Vec<Member> = Vec::new();
    for t in &me.teams {
        known.extend(members(api, &t.id).await.unwrap_or_default());
    }
    let mut ids = Vec::new();
    for arg in args {
        let id = if let Some(m) = known.iter().find(|m| m.user_id == *arg) {
            m.user_id.clone()
        } else if let Some(m) = known.iter().find(|m| m.username == *arg) {
            m.user_id.clone()
        } else {
            // Not in a shared team as far as the member lists say: let the server decide.
            arg.clone()
        };
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Rewraps every header and the metadata for `recipients` and stores them.
async fn apply(
    vault: &Vault,
    item_id: &str,
    headers: &Headers,
    recipients: &[String],
) -> anyhow::Result<()> {
    let keys = keys::public_keys(&vault.api, recipients).await?;
    let me = vault.me.clone();
    let h = headers.clone();
    let (meta_b64, rewrapped) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let ids: [&dyn Identity; 1] = [me.identity()];
        let to: Vec<&dyn Recipient> = keys.iter().map(|k| k as &dyn Recipient).collect();
        let meta = meta::open(&h.meta, &me)?;
        let meta_b64 = meta::seal(&meta, &keys)?;
        let mut rewrapped = serde_json::Map::new();
        for (version, b64) in &h.headers {
            let bytes = BASE64
                .decode(b64.trim())
                .with_context(|| format!("the header of version {version} is not base64"))?;
            let new = selah_vault::rewrap(&bytes, &ids, &to)
                .map_err(|e| explain(e, false).context(format!("version {version}")))?;
            rewrapped.insert(version.clone(), json!(BASE64.encode(new)));
        }
        Ok((meta_b64, rewrapped))
    })
    .await??;
    let body = json!({
        "recipients": recipients,
        "meta": meta_b64,
        "headers": rewrapped,
        "row_version": headers.row_version,
    });
    let rb = vault
        .api
        .request(Method::PUT, &format!("{VAULT}/items/{item_id}/recipients"))
        .json(&body);
    vault.api.send(rb).await?;
    Ok(())
}

async fn read_headers(vault: &Vault, id: &str) -> anyhow::Result<Headers> {
    vault.api.get(&format!("{VAULT}/items/{id}/headers")).await
}

/// Reads the headers and applies a change of recipients, again if the item changed meanwhile.
async fn change(
    vault: &Vault,
    entry: &Entry,
    edit: impl Fn(&[String]) -> anyhow::Result<Vec<String>>,
) -> anyhow::Result<Vec<String>> {
    let mut tries = 0;
    loop {
        let headers = read_headers(vault, &entry.item.id).await?;
        let recipients = edit(&headers.recipients)?;
        match apply(vault, &entry.item.id, &headers, &recipients).await {
            Err(e) if status_of(&e) == Some(StatusCode::CONFLICT) && tries < 3 => tries += 1,
            Err(e) => return Err(e),
            Ok(()) => return Ok(recipients),
        }
    }
}

/// `vault share NAME --user U... | --team T`.
pub async fn share(
    vault: &Vault,
    name: &str,
    users: &[String],
    team: Option<&str>,
) -> anyhow::Result<()> {
    let entry = vault.resolve(name, Want::Any, false).await?;
    let my_id = me(&vault.api).await?.user.id;
    let mut add = user_ids(&vault.api, users).await?;
    if let Some(team) = team {
        let team = team_id(&vault.api, team).await?;
        for m in members(&vault.api, &team).await? {
            if m.user_id == my_id || add.contains(&m.user_id) {
                continue;
            }
            if keys::public_key_opt(&vault.api, &m.user_id)
                .await?
                .is_none()
            {
                eprintln!(
                    "note: {} has no vault yet (`selah vault init`); not shared with them",
                    if m.username.is_empty() {
                        &m.user_id
                    } else {
                        &m.username
                    }
                );
                continue;
            }
            add.push(m.user_id);
        }
    }
    if add.is_empty() {
        bail!("nobody to share with");
    }
    let recipients = change(vault, &entry, |current| {
        let mut next: Vec<String> = current.to_vec();
        for id in [&my_id].into_iter().chain(add.iter()) {
            if !next.contains(id) {
                next.push(id.clone());
            }
        }
        Ok(next)
    })
    .await?;
    println!(
        "shared {} ({} recipient(s) now)",
        entry.name(),
        recipients.len()
    );
    Ok(())
}

/// `vault unshare NAME --user U...`.
pub async fn unshare(vault: &Vault, name: &str, users: &[String]) -> anyhow::Result<()> {
    let entry = vault.resolve(name, Want::Any, false).await?;
    let my_id = me(&vault.api).await?.user.id;
    let remove = user_ids(&vault.api, users).await?;
    if remove.contains(&my_id) {
        bail!("you cannot remove yourself from an item's recipients");
    }
    let recipients = change(vault, &entry, |current| {
        for r in &remove {
            if !current.contains(r) {
                bail!("{r} is not a recipient of {}", entry.name());
            }
        }
        let mut next: Vec<String> = current
            .iter()
            .filter(|r| !remove.contains(r))
            .cloned()
            .collect();
        if !next.contains(&my_id) {
            next.push(my_id.clone());
        }
        Ok(next)
    })
    .await?;
    println!(
        "unshared {} ({} recipient(s) now)",
        entry.name(),
        recipients.len()
    );
    if entry.item.is_folder() {
        return Ok(());
    }
    let item = vault.item(&entry.item.id).await?;
    if item.current_version_id.is_none() {
        return Ok(());
    }
    eprintln!("re-encrypting the content under a new file key...");
    let keys = keys::public_keys(&vault.api, &recipients).await?;
    let version = reencrypt(vault, &item.id, keys).await.context(
        "the recipients were changed, but the content could not be re-encrypted under a new \
         key; run `selah vault get` and `put --replace` to do it by hand",
    )?;
    println!("content re-encrypted as version {version}");
    Ok(())
}

/// Downloads and decrypts the current content, encrypts it to `keys` under a new file key into
/// a spool file (ciphertext only), and uploads that as a new version.
async fn reencrypt(
    vault: &Vault,
    item_id: &str,
    keys: Vec<selah_vault::age::x25519::Recipient>,
) -> anyhow::Result<String> {
    let (res, len) = fetch(&vault.api, item_id).await?;
    let progress = Arc::new(Progress::new("re-encrypting", len.unwrap_or(0)));
    let reader = BodyReader::new(res, Some(progress.clone()));
    let me: Arc<VaultIdentity> = vault.me.clone();
    let (spooled, sha256) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let ids: [&dyn Identity; 1] = [me.identity()];
        let plain = selah_vault::decryptor(reader, &ids, Options::default())
            .map_err(|e| explain(e, false))?;
        Spooled::encrypt(plain, &keys, None).map_err(|e| {
            // The reader's payload errors arrive as I/O errors inside the encryption.
            e.context("while decrypting the current content")
        })
    })
    .await??;
    progress.finish();
    let source: Arc<dyn super::source::Source> = Arc::new(spooled);
    let progress = Arc::new(Progress::new("uploading", source.len()));
    let version = tus::upload(&vault.api, item_id, source, Some(&sha256), &progress).await;
    progress.finish();
    version
}
