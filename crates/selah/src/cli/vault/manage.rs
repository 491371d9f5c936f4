//! `vault ls`, `mkdir`, `mv`, `rm` and `restore`: the item tree, with names decrypted on the
//! client (the server only ever sees ids and ciphertext).

use anyhow::bail;
use reqwest::Method;
use serde_json::{Value, json};

use super::api::{Item, VAULT};
use super::items::{self, Entry, Vault, Want};
use super::meta::{self, Meta};

/// `1.5 MiB` style sizes.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// `YYYY-MM-DD HH:MM` UTC for a millisecond timestamp.
fn date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn shared_marker(item: &Item) -> String {
    if item.shared {
        "shared with you".into()
    } else if item.recipients.len() > 1 {
        format!("shared ({} people)", item.recipients.len())
    } else {
        String::new()
    }
}

fn size_of(item: &Item) -> String {
    match (item.is_folder(), item.size) {
        (true, _) => "-".into(),
        (false, Some(s)) => human(s),
        (false, None) => "(empty)".into(),
    }
}

fn print_rows(rows: &[&Entry], all: &[Entry], long: bool, trash: bool) {
    let when = if trash { "TRASHED" } else { "UPDATED" };
    if long {
        println!(
            "{:<36}  {:<6} {:>10}  {:<16}  NAME [TAGS] SHARING",
            "ID", "KIND", "SIZE", when
        );
    } else {
        println!("{:>10}  {:<16}  NAME [TAGS] SHARING", "SIZE", when);
    }
    for e in rows {
        let item = &e.item;
        let mut name = if trash {
            format!("{}{}", items::folder_path(all, item), e.name())
        } else {
            e.name()
        };
        if item.is_folder() {
            name.push('/');
            if trash {
                name.push_str(" (with everything in it)");
            }
        }
        if let Some(m) = &e.meta
            && !m.tags.is_empty()
        {
            name.push_str(&format!(" [{}]", m.tags.join(", ")));
        }
        let marker = shared_marker(item);
        if !marker.is_empty() {
            name.push_str(&format!("  ({marker})"));
        }
        let at = if trash {
            item.trashed_at.unwrap_or(item.updated_at)
        } else {
            item.updated_at
        };
        if long {
            println!(
                "{:<36}  {:<6} {:>10}  {:<16}  {name}",
                item.id,
                item.kind,
                size_of(item),
                date(at)
            );
        } else {
            println!("{:>10}  {:<16}  {name}", size_of(item), date(at));
        }
    }
}

/// Folders first, then by name.
fn sort(rows: &mut [&Entry]) {
    rows.sort_by(|a, b| {
        b.item
            .is_folder()
            .cmp(&a.item.is_folder())
            .then_with(|| a.name().to_lowercase().cmp(&b.name().to_lowercase()))
            .then_with(|| a.item.id.cmp(&b.item.id))
    });
}

/// `vault ls [FOLDER] [--trash] [--long]`.
pub async fn ls(
    vault: &Vault,
    folder: Option<&str>,
    trash: bool,
    long: bool,
) -> anyhow::Result<()> {
    if trash {
        if folder.is_some() {
            bail!("--trash lists the whole trash; give no folder");
        }
        let trashed = vault.entries(true).await?;
        let mut rows: Vec<&Entry> = trashed.iter().collect();
        sort(&mut rows);
        if rows.is_empty() {
            eprintln!("the trash is empty");
            return Ok(());
        }
        // Paths name the live folders the trashed items were in.
        let mut all = vault.entries(false).await?;
        all.extend(trashed.iter().cloned());
        print_rows(&rows, &all, long, true);
        return Ok(());
    }
    let all = vault.entries(false).await?;
    let parent = match folder {
        None | Some("/") => None,
        Some(name) => Some(
            items::resolve(&all, name, Want::Folder, false)?
                .item
                .id
                .clone(),
        ),
    };
    let mut rows = items::children(&all, parent.as_deref());
    sort(&mut rows);
    if rows.is_empty() {
        eprintln!(
            "{}",
            if parent.is_some() {
                "the folder is empty"
            } else {
                "the vault is empty"
            }
        );
        return Ok(());
    }
    print_rows(&rows, &all, long, false);
    Ok(())
}

/// `vault mkdir NAME [--parent F]`.
pub async fn mkdir(vault: &Vault, name: &str, parent: Option<&str>) -> anyhow::Result<()> {
    items::check_name(name)?;
    let all = vault.entries(false).await?;
    let parent_id = match parent {
        None | Some("/") => None,
        Some(p) => Some(
            items::resolve(&all, p, Want::Folder, false)?
                .item
                .id
                .clone(),
        ),
    };
    items::check_free(&all, parent_id.as_deref(), name)?;
    let item = vault
        .create("folder", parent_id.as_deref(), &Meta::new(name, Vec::new()))
        .await?;
    println!("created folder {name} ({})", item.id);
    Ok(())
}

/// `vault mv NAME [NEWNAME] [--to FOLDER]`.
pub async fn mv(
    vault: &Vault,
    name: &str,
    new_name: Option<&str>,
    to: Option<&str>,
) -> anyhow::Result<()> {
    if new_name.is_none() && to.is_none() {
        bail!("give a new name, --to FOLDER (or --to / for the top level), or both");
    }
    let all = vault.entries(false).await?;
    let entry = items::resolve(&all, name, Want::Any, false)?;
    let Some(old_meta) = entry.meta.clone() else {
        bail!("the name of {} cannot be decrypted", entry.item.id);
    };
    let target: Option<Option<String>> = match to {
        None => None,
        Some("/") => Some(None),
        Some(f) => {
            let folder = items::resolve(&all, f, Want::Folder, false)?;
            if folder.item.id == entry.item.id {
                bail!("a folder cannot go inside itself");
            }
            Some(Some(folder.item.id.clone()))
        }
    };
    let dest_parent = target
        .clone()
        .unwrap_or_else(|| entry.item.parent_id.clone());
    let final_name = new_name.unwrap_or(&old_meta.name);
    if let Some(n) = new_name {
        items::check_name(n)?;
    }
    if new_name.is_some_and(|n| n != old_meta.name) || dest_parent != entry.item.parent_id {
        items::check_free(&all, dest_parent.as_deref(), final_name)?;
    }
    let item = items::fresh(vault, &entry.item.id).await?;
    let mut body = serde_json::Map::new();
    body.insert("row_version".into(), json!(item.row_version));
    if let Some(n) = new_name {
        let keys = vault.recipient_keys(&item.recipients).await?;
        let new_meta = Meta {
            name: n.to_string(),
            ..old_meta.clone()
        };
        body.insert("meta".into(), json!(meta::seal(&new_meta, &keys)?));
    }
    if let Some(t) = &target {
        body.insert("parent_id".into(), json!(t));
    }
    let rb = vault
        .api
        .request(Method::PATCH, &format!("{VAULT}/items/{}", item.id))
        .json(&Value::Object(body));
    vault.api.send(rb).await?;
    let place = match &target {
        None => String::new(),
        Some(None) => " to the top level".into(),
        Some(Some(_)) => format!(" into {}", to.unwrap_or_default()),
    };
    println!(
        "moved {}{place}{}",
        old_meta.name,
        match new_name {
            Some(n) if n != old_meta.name => format!(" as {n}"),
            _ => String::new(),
        }
    );
    Ok(())
}

/// `vault rm NAME [--purge]`.
pub async fn rm(vault: &Vault, name: &str, purge: bool) -> anyhow::Result<()> {
    let live = vault.entries(false).await?;
    let entry = match items::resolve(&live, name, Want::Any, false) {
        Ok(e) => e.clone(),
        // Purging something already in the trash.
        Err(e) if purge => {
            let trash = vault.entries(true).await?;
            match items::resolve(&trash, name, Want::Any, true) {
                Ok(t) => t.clone(),
                Err(_) => return Err(e),
            }
        }
        Err(e) => return Err(e),
    };
    let path = format!(
        "{VAULT}/items/{}{}",
        entry.item.id,
        if purge { "?purge=true" } else { "" }
    );
    vault
        .api
        .send(vault.api.request(Method::DELETE, &path))
        .await?;
    let what = if entry.item.is_folder() {
        format!("folder {} and everything in it", entry.name())
    } else {
        entry.name()
    };
    if purge {
        println!("deleted {what} for good");
    } else {
        println!("moved {what} to the trash (`selah vault restore` brings it back)");
    }
    Ok(())
}

/// `vault restore NAME`.
pub async fn restore(vault: &Vault, name: &str) -> anyhow::Result<()> {
    let trash = vault.entries(true).await?;
    let entry = items::resolve(&trash, name, Want::Any, true)?;
    let path = format!("{VAULT}/items/{}/restore", entry.item.id);
    vault
        .api
        .send(vault.api.request(Method::POST, &path))
        .await?;
    println!("restored {}", entry.name());
    Ok(())
}
