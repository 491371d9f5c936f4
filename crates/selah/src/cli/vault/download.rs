//! `vault get` and `vault export`: the item's age file is streamed from
//! `GET /items/{id}/content` through a small bounded channel into decryption (or straight to
//! the export file) on a blocking thread, into a temporary file next to the destination that
//! is renamed into place only when every chunk has authenticated. A tampered or truncated
//! file leaves nothing behind, and the error says which it was.

use std::io::{self, Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use reqwest::Method;
use selah_vault::age::{Identity, Recipient};
use selah_vault::{Options, StreamError};

use super::api::{Api, VAULT};
use super::items::{Vault, Want};
use super::keys;
use super::output::{Output, Sink};
use super::progress::Progress;

/// Blocks buffered between the network and the decrypting thread.
const BLOCKS: usize = 16;

/// A blocking reader over a response body, fed by a task on the async runtime.
pub struct BodyReader {
    rx: tokio::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    block: Vec<u8>,
    pos: usize,
    progress: Option<Arc<Progress>>,
}

impl BodyReader {
    /// Starts streaming `res`'s body.
    pub fn new(res: reqwest::Response, progress: Option<Arc<Progress>>) -> BodyReader {
        let (tx, rx) = tokio::sync::mpsc::channel(BLOCKS);
        tokio::spawn(async move {
            let mut body = res.bytes_stream();
            while let Some(item) = body.next().await {
                let item = item.map(Vec::from).map_err(|e| {
                    io::Error::other(Interrupted(format!(
                        "the download was cut off: {}",
                        super::api::error_chain(&e)
                    )))
                });
                let stop = item.is_err();
                if tx.send(item).await.is_err() || stop {
                    return;
                }
            }
        });
        BodyReader {
            rx,
            block: Vec::new(),
            pos: 0,
            progress,
        }
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.block.len() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Err(e)) => return Err(e),
                Some(Ok(block)) => {
                    if let Some(p) = &self.progress {
                        p.add(block.len() as u64);
                    }
                    self.block = block;
                    self.pos = 0;
                }
            }
        }
        let n = buf.len().min(self.block.len() - self.pos);
        buf[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The transfer itself failed (as opposed to the bytes being wrong).
#[derive(Debug)]
struct Interrupted(String);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Interrupted {}

/// Starts downloading an item's current age file; returns the response and its length.
pub async fn fetch(api: &Api, id: &str) -> anyhow::Result<(reqwest::Response, Option<u64>)> {
    let rb = api.request(Method::GET, &format!("{VAULT}/items/{id}/content"));
    let res = api.send(rb).await?;
    let len = res.content_length();
    Ok((res, len))
}

/// A decryption or transfer error, in words a user can act on.
pub fn explain(e: selah_vault::Error, nothing_written: bool) -> anyhow::Error {
    let tail = if nothing_written {
        "; nothing was written"
    } else {
        ""
    };
    let interrupted = |io: &io::Error| {
        io.get_ref()
            .and_then(|i| i.downcast_ref::<Interrupted>())
            .map(|i| i.0.clone())
    };
    match e {
        selah_vault::Error::Io(io) => match interrupted(&io) {
            Some(msg) => anyhow::anyhow!(
                "{msg} (the server stops a download when the stored file fails its SHA-256 \
                 check: it is damaged or was tampered with; or else the connection failed){tail}"
            ),
            None => anyhow::anyhow!("{io}{tail}"),
        },
        selah_vault::Error::Payload(StreamError::ChunkAuth { index }) => anyhow::anyhow!(
            "the file is damaged or was tampered with: chunk {index} failed authentication{tail}"
        ),
        selah_vault::Error::Payload(StreamError::Truncated { chunks }) => anyhow::anyhow!(
            "the file is truncated: it ends after {chunks} chunk(s) without its final one{tail}"
        ),
        selah_vault::Error::Payload(p) => {
            anyhow::anyhow!("the file is damaged or was tampered with: {p}{tail}")
        }
        selah_vault::Error::HeaderMac => {
            anyhow::anyhow!("the file's header was tampered with (its MAC does not match){tail}")
        }
        selah_vault::Error::NoMatchingIdentity => anyhow::anyhow!(
            "your vault key cannot open this file: it is not encrypted to you{tail}"
        ),
        other => anyhow::anyhow!("cannot decrypt: {other}{tail}"),
    }
}

/// Where `vault get` writes when no -o is given: the item's name in the current directory.
fn default_output(name: &str) -> anyhow::Result<PathBuf> {
    let file = Path::new(name)
        .file_name()
        .filter(|f| !f.is_empty() && *f != "." && *f != "..")
        .with_context(|| format!("cannot make a file name of '{name}'; give -o PATH"))?;
    Ok(PathBuf::from(file))
}

/// `vault get NAME [-o PATH|-]`.
pub async fn get(vault: &Vault, name: &str, output: Option<&Path>) -> anyhow::Result<()> {
    let entry = vault.resolve(name, Want::Content, false).await?;
    if entry.item.current_version_id.is_none() {
        bail!(
            "{} has no content (its upload never completed)",
            entry.name()
        );
    }
    let (to_stdout, path) = match output {
        Some(p) if p == Path::new("-") => (true, PathBuf::new()),
        Some(p) => (false, p.to_path_buf()),
        None => {
            let p = default_output(&entry.name())?;
            if p.exists() {
                bail!("{} exists; give -o PATH to replace it", p.display());
            }
            (false, p)
        }
    };
    if !to_stdout && path.is_dir() {
        bail!("{} is a directory; give -o a file path", path.display());
    }
    let (res, len) = fetch(&vault.api, &entry.item.id).await?;
    let progress = Arc::new(Progress::new("downloading", len.unwrap_or(0)));
    let reader = BodyReader::new(res, Some(progress.clone()));
    let me = vault.me.clone();
    let shown = path.clone();
    let result = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
        let ids: [&dyn Identity; 1] = [me.identity()];
        if to_stdout {
            // `Stdout`, not its lock: the plaintext is written from a thread of its own.
            let stdout = io::stdout();
            let sealed = selah_vault::decrypt_with(reader, stdout, &ids, Options::default())
                .map_err(|e| {
                    explain(e, false).context("the output written so far is incomplete")
                })?;
            return Ok(sealed.plaintext_len);
        }
        let mut out = Output::create(&path)?;
        let sealed = selah_vault::decrypt_with(reader, &mut out, &ids, Options::default())
            .map_err(|e| explain(e, true))?;
        out.commit()?;
        Ok(sealed.plaintext_len)
    })
    .await?;
    progress.finish();
    let n = result?;
    if !to_stdout {
        eprintln!("{} -> {} ({n} bytes)", entry.name(), shown.display());
    }
    Ok(())
}

/// A reader that copies everything read through it to a writer.
struct Tee<R, W> {
    inner: R,
    copy: W,
}

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// `vault export NAME -o FILE [--recipient age1…]`: the stored age file, its header rewrapped
/// to `recipient` when given (the payload is the same bytes). Either way the file is decrypted
/// on the way through, so a damaged one is never written.
pub async fn export(
    vault: &Vault,
    name: &str,
    output: &Path,
    recipient: Option<&str>,
) -> anyhow::Result<()> {
    let to = recipient.map(keys::parse_recipient).transpose()?;
    let entry = vault.resolve(name, Want::Content, false).await?;
    if entry.item.current_version_id.is_none() {
        bail!(
            "{} has no content (its upload never completed)",
            entry.name()
        );
    }
    let (res, len) = fetch(&vault.api, &entry.item.id).await?;
    let progress = Arc::new(Progress::new("exporting", len.unwrap_or(0)));
    let mut reader = BodyReader::new(res, Some(progress.clone()));
    let me = vault.me.clone();
    let path = output.to_path_buf();
    let to_stdout = output == Path::new("-");
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let ids: [&dyn Identity; 1] = [me.identity()];
        let (header, rest) = selah_vault::read_header(&mut reader).map_err(|e| explain(e, true))?;
        let new_header = match &to {
            Some(r) => {
                let rs: [&dyn Recipient; 1] = [r];
                header
                    .rewrap(&ids, &rs)
                    .map_err(|e| explain(e, true))?
                    .as_bytes()
                    .to_vec()
            }
            None => {
                header.unwrap_file_key(&ids).map_err(|e| explain(e, true))?;
                header.as_bytes().to_vec()
            }
        };
        let mut out = Sink::create(&path)?;
        out.write_all(&new_header)?;
        // Decrypt the original file while copying its payload out: the check costs CPU, not
        // bandwidth, and a damaged payload is never published.
        let payload = Tee {
            inner: Cursor::new(rest).chain(reader),
            copy: &mut out,
        };
        let original = Cursor::new(header.as_bytes().to_vec()).chain(payload);
        selah_vault::decrypt_with(original, io::sink(), &ids, Options::default())
            .map_err(|e| explain(e, !to_stdout))?;
        out.commit()
    })
    .await??;
    progress.finish();
    if !to_stdout {
        eprintln!("{} -> {}", entry.name(), output.display());
    }
    Ok(())
}
