//! The open vault (a signed-in client plus the unlocked identity) and what every command
//! needs from the item list: fetching it page by page, decrypting the names, and resolving a
//! NAME (or `folder/name` path, or id) given on the command line to exactly one item.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, bail};
use reqwest::Method;
use selah_vault::VaultIdentity;
use selah_vault::age::x25519;
use serde_json::Value;

use super::api::{Api, Item, VAULT, item_list};
use super::keys;
use super::meta::{self, Meta};

/// Items per list request.
const PAGE: usize = 1000;

/// A signed-in client with the caller's unlocked identity.
pub struct Vault {
    /// The client.
    pub api: Api,
    /// The caller's identity.
    pub me: Arc<VaultIdentity>,
}

/// An item with its metadata decrypted (None when it would not decrypt).
#[derive(Debug, Clone)]
pub struct Entry {
    /// The item.
    pub item: Item,
    /// Its name and tags.
    pub meta: Option<Meta>,
}

impl Entry {
    /// Its name, or a placeholder naming the id when the metadata would not decrypt.
    pub fn name(&self) -> String {
        match &self.meta {
            Some(m) => m.name.clone(),
            None => format!("<undecryptable {}>", self.item.id),
        }
    }
}

/// Which kinds of item a name may resolve to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Anything.
    Any,
    /// A folder.
    Folder,
    /// A file or a note (something with content).
    Content,
}

impl Want {
    fn accepts(self, item: &Item) -> bool {
        match self {
            Want::Any => true,
            Want::Folder => item.is_folder(),
            Want::Content => !item.is_folder(),
        }
    }

    fn what(self) -> &'static str {
        match self {
            Want::Any => "item",
            Want::Folder => "folder",
            Want::Content => "file or note",
        }
    }
}

impl Vault {
    /// Connects and unlocks (cache, environment or prompt).
    pub async fn open(api: Api) -> anyhow::Result<Vault> {
        let me = keys::open(&api).await?;
        Ok(Vault { api, me })
    }

    /// Every visible item, live or (with `trashed`) in the trash, newest first.
    pub async fn items(&self, trashed: bool) -> anyhow::Result<Vec<Item>> {
        let mut out: Vec<Item> = Vec::new();
        loop {
            let mut path = format!("{VAULT}/items?limit={PAGE}&trashed={trashed}");
            if let Some(last) = out.last() {
                path.push_str(&format!("&after={}", last.id));
            }
            let page = item_list(self.api.get::<Value>(&path).await?)?;
            let n = page.len();
            out.extend(page);
            if n < PAGE {
                return Ok(out);
            }
        }
    }

    /// Every visible item with its metadata decrypted.
    pub async fn entries(&self, trashed: bool) -> anyhow::Result<Vec<Entry>> {
        let items = self.items(trashed).await?;
        let me = self.me.clone();
        // Each is a small X25519 unwrap; off the async threads all the same.
        let entries = tokio::task::spawn_blocking(move || {
            items
                .into_iter()
                .map(|item| Entry {
                    meta: meta::open(&item.meta, &me).ok(),
                    item,
                })
                .collect::<Vec<_>>()
        })
        .await?;
        Ok(entries)
    }

    /// One item with its versions.
    pub async fn item(&self, id: &str) -> anyhow::Result<Item> {
        self.api.get(&format!("{VAULT}/items/{id}")).await
    }

    /// The public keys of an item's recipients.
    pub async fn recipient_keys(
        &self,
        recipients: &[String],
    ) -> anyhow::Result<Vec<x25519::Recipient>> {
        keys::public_keys(&self.api, recipients).await
    }

    /// Resolves a command-line NAME among the live (or trashed) items.
    pub async fn resolve(&self, arg: &str, want: Want, trashed: bool) -> anyhow::Result<Entry> {
        let entries = self.entries(trashed).await?;
        resolve(&entries, arg, want, trashed).cloned()
    }

    /// Creates an item; returns it.
    pub async fn create(
        &self,
        kind: &str,
        parent_id: Option<&str>,
        meta: &Meta,
    ) -> anyhow::Result<Item> {
        let sealed = meta::seal(meta, &[self.me.recipient()])?;
        let body = serde_json::json!({"kind": kind, "parent_id": parent_id, "meta": sealed});
        let rb = self
            .api
            .request(Method::POST, &format!("{VAULT}/items"))
            .json(&body);
        self.api.json(rb).await
    }
}

/// The folder path of an item (`a/b/`), from the folders visible in `entries`; a parent the
/// caller cannot see counts as the root.
pub fn folder_path(entries: &[Entry], item: &Item) -> String {
    let by_id: HashMap<&str, &Entry> = entries.iter().map(|e| (e.item.id.as_str(), e)).collect();
    let mut parts = Vec::new();
    let mut parent = item.parent_id.as_deref();
    while let Some(p) = parent {
        let Some(e) = by_id.get(p) else { break };
        parts.push(e.name());
        parent = e.item.parent_id.as_deref();
        if parts.len() > 256 {
            break; // a cycle cannot happen, but never loop on one
        }
    }
    parts.reverse();
    parts.iter().map(|p| format!("{p}/")).collect()
}

/// Resolves `arg`: an item id, else an exact name, else a `folder/name` path.
pub fn resolve<'a>(
    entries: &'a [Entry],
    arg: &str,
    want: Want,
    trashed: bool,
) -> anyhow::Result<&'a Entry> {
    if let Some(e) = entries.iter().find(|e| e.item.id == arg) {
        if !want.accepts(&e.item) {
            bail!("{arg} is a {}, not a {}", e.item.kind, want.what());
        }
        return Ok(e);
    }
    let mut found: Vec<&Entry> = entries
        .iter()
        .filter(|e| want.accepts(&e.item) && e.meta.as_ref().is_some_and(|m| m.name == arg))
        .collect();
    if found.is_empty() && arg.contains('/') {
        found = by_path(entries, arg, want);
    }
    match found.len() {
        1 => Ok(found[0]),
        0 => {
            let place = if trashed {
                "in the trash"
            } else {
                "in the vault"
            };
            let hint = if trashed {
                ""
            } else {
                " (`selah vault ls` lists them; `ls --trash` the trash)"
            };
            bail!("no {} named '{arg}' {place}{hint}", want.what())
        }
        n => {
            let mut msg =
                format!("'{arg}' is ambiguous: {n} items have that name; give one of these ids:");
            for e in found {
                msg.push_str(&format!(
                    "\n  {}  {:<6} {}{}",
                    e.item.id,
                    e.item.kind,
                    folder_path(entries, &e.item),
                    e.name()
                ));
            }
            bail!(msg)
        }
    }
}

/// Items whose folder path and name are `arg` (`a/b/name`, a leading `/` allowed).
fn by_path<'a>(entries: &'a [Entry], arg: &str, want: Want) -> Vec<&'a Entry> {
    let wanted = arg.trim_start_matches('/').trim_end_matches('/');
    entries
        .iter()
        .filter(|e| want.accepts(&e.item))
        .filter(|e| {
            e.meta.is_some() && format!("{}{}", folder_path(entries, &e.item), e.name()) == wanted
        })
        .collect()
}

/// The entries whose parent is `folder` (None: the root, including items whose folder the
/// caller cannot see).
pub fn children<'a>(entries: &'a [Entry], folder: Option<&str>) -> Vec<&'a Entry> {
    let visible: std::collections::HashSet<&str> =
        entries.iter().map(|e| e.item.id.as_str()).collect();
    entries
        .iter()
        .filter(|e| match (folder, e.item.parent_id.as_deref()) {
            (None, None) => true,
            (None, Some(p)) => !visible.contains(p),
            (Some(f), Some(p)) => f == p,
            (Some(_), None) => false,
        })
        .collect()
}

/// Refuses a name that already exists in the folder (names are how items are found).
pub fn check_free(entries: &[Entry], parent: Option<&str>, name: &str) -> anyhow::Result<()> {
    if let Some(e) = children(entries, parent)
        .into_iter()
        .find(|e| e.meta.as_ref().is_some_and(|m| m.name == name))
    {
        bail!(
            "there is already a {} named '{name}' there ({}); choose another name{}",
            e.item.kind,
            e.item.id,
            if e.item.is_folder() {
                ""
            } else {
                ", or give --replace to upload a new version of it"
            }
        );
    }
    Ok(())
}

/// Validates a name given for a new item.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(!name.trim().is_empty(), "the name is empty");
    anyhow::ensure!(
        !name.contains('/'),
        "a name cannot contain '/' (folders are made with `selah vault mkdir`)"
    );
    anyhow::ensure!(
        !name.chars().any(char::is_control),
        "a name cannot contain control characters"
    );
    Ok(())
}

/// `row_version` and recipients of an item, re-read just before a change.
pub async fn fresh(vault: &Vault, id: &str) -> anyhow::Result<Item> {
    vault
        .item(id)
        .await
        .with_context(|| format!("cannot read item {id}"))
}
