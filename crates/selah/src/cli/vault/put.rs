//! `vault put` (encrypt and upload a file or standard input, as a new item or with
//! `--replace` a new version of one) and `vault import` (an age file made elsewhere, uploaded
//! with its payload unchanged). See `source.rs` for how the bytes are encrypted and hashed as
//! they are sent, without being stored, and `tus.rs` for the resumable upload.

use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use reqwest::Method;
use selah_vault::age::{Identity, Recipient, x25519};
use selah_vault::{Options, VaultIdentity};

use super::api::{Item, VAULT};
use super::download::explain;
use super::items::{self, Vault, Want};
use super::keys;
use super::meta::Meta;
use super::progress::Progress;
use super::source::{PlannedFile, Reheadered, Source, Spooled};
use super::tus;

/// Flags of `vault put`.
#[derive(Args)]
pub struct PutArgs {
    /// The file to encrypt and upload, or - for standard input.
    pub path: PathBuf,
    /// Its name in the vault (default: the file's name; needed with -).
    #[arg(long)]
    pub name: Option<String>,
    /// The folder to put it in (default: the top level).
    #[arg(long)]
    pub folder: Option<String>,
    /// A tag; repeat for more.
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Store it as a note (the content is the note's body).
    #[arg(long)]
    pub note: bool,
    /// Upload a new version of this existing file or note instead of a new item.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["name", "folder", "tags", "note"])]
    pub replace: Option<String>,
}

/// Flags of `vault import`.
#[derive(Args)]
pub struct ImportArgs {
    /// An age file encrypted to your vault's public key (or, with --identity, to that key).
    pub file: PathBuf,
    /// An identity file (as age-keygen makes) that opens FILE; its header is rewrapped to
    /// your vault key before the upload.
    #[arg(long, value_name = "KEY_FILE")]
    pub identity: Option<PathBuf>,
    /// Its name in the vault (default: the file name without .age).
    #[arg(long)]
    pub name: Option<String>,
    /// The folder to put it in (default: the top level).
    #[arg(long)]
    pub folder: Option<String>,
    /// A tag; repeat for more.
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
}

/// A source ready to upload, with its SHA-256 when known before sending.
struct Ready {
    source: Arc<dyn Source>,
    sha256: Option<String>,
}

/// Prepares `path` (or stdin for `-`) for encryption to `recipients`: a regular file is
/// encrypted and hashed as it is sent, standard input is encrypted to a spool file now.
async fn prepare(path: &Path, recipients: Vec<x25519::Recipient>) -> anyhow::Result<Ready> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Ready> {
        if path == Path::new("-") {
            let stdin = std::io::stdin().lock();
            let (spooled, sha256) = Spooled::encrypt(stdin, &recipients, None)?;
            return Ok(Ready {
                source: Arc::new(spooled),
                sha256: Some(sha256),
            });
        }
        Ok(Ready {
            source: Arc::new(PlannedFile::new(&path, &recipients)?),
            sha256: None,
        })
    })
    .await?
}

/// Uploads a prepared source to `item`; on failure of a brand-new item, removes it again.
async fn send(
    vault: &Vault,
    item: &Item,
    ready: Ready,
    progress: &Arc<Progress>,
    new_item: bool,
) -> anyhow::Result<String> {
    let result = tus::upload(
        &vault.api,
        &item.id,
        ready.source,
        ready.sha256.as_deref(),
        progress,
    )
    .await;
    progress.finish();
    if result.is_err() && new_item {
        // An item without content is clutter; the upload can be tried again from scratch.
        let path = format!("{VAULT}/items/{}?purge=true", item.id);
        if vault
            .api
            .send(vault.api.request(Method::DELETE, &path))
            .await
            .is_err()
        {
            eprintln!(
                "note: item {} was created but has no content; `selah vault rm --purge {}` \
                 removes it",
                item.id, item.id
            );
        }
    }
    result
}

/// Checks that a new item may be called `name` in `folder` (None or "/" for the top level);
/// returns the folder's id.
async fn place(vault: &Vault, folder: Option<&str>, name: &str) -> anyhow::Result<Option<String>> {
    items::check_name(name)?;
    let all = vault.entries(false).await?;
    let parent = match folder {
        None | Some("/") => None,
        Some(f) => Some(
            items::resolve(&all, f, Want::Folder, false)?
                .item
                .id
                .clone(),
        ),
    };
    items::check_free(&all, parent.as_deref(), name)?;
    Ok(parent)
}

/// `vault put`.
pub async fn put(vault: &Vault, args: PutArgs) -> anyhow::Result<()> {
    if let Some(target) = &args.replace {
        return replace(vault, &args.path, target).await;
    }
    let name = match (&args.name, args.path.to_str()) {
        (Some(n), _) => n.clone(),
        (None, Some("-")) => bail!("give --name when reading standard input"),
        (None, _) => args
            .path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .with_context(|| format!("cannot name {}; give --name", args.path.display()))?,
    };
    let parent = place(vault, args.folder.as_deref(), &name).await?;
    let ready = prepare(&args.path, vec![vault.me.recipient()]).await?;
    let len = ready.source.len();
    let progress = Arc::new(Progress::new("uploading", len));
    let kind = if args.note { "note" } else { "file" };
    let item = vault
        .create(
            kind,
            parent.as_deref(),
            &Meta::new(&name, args.tags.clone()),
        )
        .await?;
    send(vault, &item, ready, &progress, true).await?;
    println!("stored {name} ({len} bytes encrypted) as {}", item.id);
    Ok(())
}

/// `vault put PATH --replace NAME`.
async fn replace(vault: &Vault, path: &Path, target: &str) -> anyhow::Result<()> {
    let entry = vault.resolve(target, Want::Content, false).await?;
    let item = items::fresh(vault, &entry.item.id).await?;
    let recipients = vault.recipient_keys(&item.recipients).await?;
    let ready = prepare(path, recipients).await?;
    let len = ready.source.len();
    let progress = Arc::new(Progress::new("uploading", len));
    let version = send(vault, &item, ready, &progress, false).await?;
    println!(
        "stored a new version of {} ({len} bytes encrypted): {version}",
        entry.name()
    );
    Ok(())
}

/// Reads an age file's header; returns it and where its payload starts.
fn read_header(path: &Path) -> anyhow::Result<selah_vault::Header> {
    let mut file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (header, _) = selah_vault::read_header(&mut file)
        .map_err(|e| anyhow::anyhow!("{} is not an age file: {e}", path.display()))?;
    Ok(header)
}

/// The header to upload with: rewrapped from `key_file`'s identities, or the file's own when it
/// is for the vault key alone.
fn vault_header(
    header: &selah_vault::Header,
    me: &VaultIdentity,
    key_file: Option<&Path>,
    file: &Path,
) -> anyhow::Result<Vec<u8>> {
    let to: [&dyn Recipient; 1] = [&me.recipient()];
    if let Some(key_file) = key_file {
        let ids = keys::read_identity_file(key_file)?;
        let ids: Vec<&dyn Identity> = ids.iter().map(|i| i as &dyn Identity).collect();
        let new = header.rewrap(&ids, &to).map_err(|e| {
            anyhow::anyhow!(
                "the key in {} cannot open {}: {e}",
                key_file.display(),
                file.display()
            )
        })?;
        return Ok(new.as_bytes().to_vec());
    }
    let mine: [&dyn Identity; 1] = [me.identity()];
    match header.unwrap_file_key(&mine) {
        Ok(_) if header.stanzas().len() == 1 => Ok(header.as_bytes().to_vec()),
        // Also encrypted to others: the vault's copy is for the vault key alone.
        Ok(_) => Ok(header
            .rewrap(&mine, &to)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .as_bytes()
            .to_vec()),
        Err(selah_vault::Error::NoMatchingIdentity) => bail!(
            "{} is not encrypted to your vault key; encrypt it with `age -r {}` or give \
             --identity KEY_FILE with a key that opens it",
            file.display(),
            me.public_key()
        ),
        Err(e) => Err(explain(e, false)),
    }
}

/// `vault import FILE.age`.
pub async fn import(vault: &Vault, args: ImportArgs) -> anyhow::Result<()> {
    let name = match &args.name {
        Some(n) => n.clone(),
        None => {
            let file = args
                .file
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .with_context(|| format!("cannot name {}; give --name", args.file.display()))?;
            file.strip_suffix(".age").unwrap_or(&file).to_string()
        }
    };
    let parent = place(vault, args.folder.as_deref(), &name).await?;

    let me = vault.me.clone();
    let file = args.file.clone();
    let key_file = args.identity.clone();
    let ready = tokio::task::spawn_blocking(move || -> anyhow::Result<Ready> {
        let header = read_header(&file)?;
        let new_header = vault_header(&header, &me, key_file.as_deref(), &file)?;
        let source = Reheadered::new(new_header.clone(), &file, header.len() as u64)?;
        // One pass that both proves the file opens with the vault key (every chunk
        // authenticates) and hashes exactly the bytes that will be sent.
        let mut payload = File::open(&file)?;
        payload.seek(SeekFrom::Start(header.len() as u64))?;
        let whole = Cursor::new(new_header).chain(payload);
        let ids: [&dyn Identity; 1] = [me.identity()];
        let sealed = selah_vault::decrypt_with(whole, std::io::sink(), &ids, Options::default())
            .map_err(|e| {
                explain(e, false).context(format!("{} cannot be imported", file.display()))
            })?;
        anyhow::ensure!(
            sealed.ciphertext_len == source.len(),
            "{} changed while being read",
            file.display()
        );
        Ok(Ready {
            sha256: Some(hex::encode(sealed.ciphertext_sha256)),
            source: Arc::new(source),
        })
    })
    .await??;
    let len = ready.source.len();
    let progress = Arc::new(Progress::new("uploading", len));
    let item = vault
        .create(
            "file",
            parent.as_deref(),
            &Meta::new(&name, args.tags.clone()),
        )
        .await?;
    send(vault, &item, ready, &progress, true).await?;
    println!("imported {} as {name} ({})", args.file.display(), item.id);
    Ok(())
}
