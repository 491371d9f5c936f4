//! Where the vault's bytes live: `<data>/vault/uploads/<id>` while an upload is in progress
//! (only ever appended to, so its length is the upload's offset), then, once it is a version,
//! `<data>/vault/blobs/<last two characters of id>/<id>` or, on a team server configured with
//! `vault.blob_store = "s3://…"`, an object in S3-compatible storage (`remote.rs`).
//!
//! A completed upload is committed in the database first and published here second; a crash in
//! between leaves the file under `uploads/`, which [`Blobs::recover`] (at start) and
//! [`Blobs::open`] (at read) both handle. Files nothing in the database names are removed by
//! [`Blobs::sweep`] once they are old enough not to be racing a commit.

use std::collections::HashSet;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::remote::Remote;

/// A blob's bytes, in order.
pub type BlobStream = BoxStream<'static, io::Result<Bytes>>;

/// Bytes read from a local file per step (four steps are read ahead).
const READ_STEP: usize = 256 << 10;

/// The vault's file area.
#[derive(Debug, Clone)]
pub struct Blobs {
    uploads: PathBuf,
    blobs: PathBuf,
    remote: Option<Arc<Remote>>,
}

/// An id from a URL or the database is used as a file name only if it is a UUID.
pub fn valid_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok()
}

impl Blobs {
    /// The area under `data_dir`, with finished blobs on the local disk.
    pub fn new(data_dir: &Path) -> Self {
        let root = data_dir.join("vault");
        Self {
            uploads: root.join("uploads"),
            blobs: root.join("blobs"),
            remote: None,
        }
    }

    /// As configured: finished blobs in object storage when `vault.blob_store` names some.
    pub fn from_config(
        data_dir: &Path,
        config: &selah_core::config::VaultConfig,
    ) -> anyhow::Result<Self> {
        let mut blobs = Self::new(data_dir);
        blobs.remote = Remote::from_config(config)?.map(Arc::new);
        Ok(blobs)
    }

    /// The partial file of an upload.
    pub fn partial(&self, id: &str) -> PathBuf {
        debug_assert!(valid_id(id));
        self.uploads.join(id)
    }

    /// A version's blob file on the local disk.
    pub fn blob(&self, id: &str) -> PathBuf {
        debug_assert!(valid_id(id));
        self.blobs.join(&id[id.len() - 2..]).join(id)
    }

    /// Creates the directories.
    pub fn ensure_dirs(&self) -> io::Result<()> {
        std::fs::create_dir_all(&self.uploads)?;
        std::fs::create_dir_all(&self.blobs)
    }

    /// Bytes of an upload held durably so far (0 if none).
    pub fn partial_len(&self, id: &str) -> io::Result<u64> {
        match std::fs::metadata(self.partial(id)) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Moves a completed upload into place as the blob of the version with the same id.
    pub async fn publish(&self, id: &str) -> anyhow::Result<()> {
        let partial = self.partial(id);
        if let Some(remote) = &self.remote {
            remote.put_file(id, partial.clone()).await?;
            return Ok(remove_file(&partial)?);
        }
        let dest = self.blob(id);
        Ok(tokio::task::spawn_blocking(move || -> io::Result<()> {
            let dir = dest.parent().expect("blob path has a parent");
            std::fs::create_dir_all(dir)?;
            std::fs::rename(partial, &dest)?;
            // The rename itself must survive a power cut.
            std::fs::File::open(dir)?.sync_all()
        })
        .await??)
    }

    /// A version's blob (still under `uploads/` if the process died before publishing it).
    pub async fn open(&self, id: &str) -> anyhow::Result<BlobStream> {
        let partial = self.partial(id);
        if let Some(remote) = &self.remote {
            if let Some(stream) = remote.get(id).await? {
                return Ok(stream);
            }
            return Ok(file_stream(std::fs::File::open(partial)?));
        }
        let file = match std::fs::File::open(self.blob(id)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::File::open(partial),
            other => other,
        }?;
        Ok(file_stream(file))
    }

    /// Removes a version's blob or an upload's partial file, whichever exist.
    pub async fn remove(&self, id: &str) -> anyhow::Result<()> {
        if let Some(remote) = &self.remote {
            remote.delete(id).await?;
        }
        remove_file(&self.blob(id))?;
        Ok(remove_file(&self.partial(id))?)
    }

    /// Removes the files of what a purge deleted from the database; returns how many went.
    /// A failure is logged and left to the cleanup job's sweep.
    pub async fn remove_purged(&self, purged: &selah_store::vault_items::Purged) -> usize {
        let mut removed = 0;
        for id in purged.versions.iter().chain(&purged.uploads) {
            if !valid_id(id) {
                continue;
            }
            match self.remove(id).await {
                Ok(()) => removed += 1,
                Err(e) => {
                    tracing::warn!(id = %id, error = %e, "could not remove a vault file; the cleanup job's sweep will");
                }
            }
        }
        removed
    }

    /// At start: publishes every partial file that is already a version.
    pub async fn recover(&self, versions: &HashSet<String>) -> anyhow::Result<usize> {
        let mut moved = 0;
        for (id, _) in list(&self.uploads)? {
            if versions.contains(&id) {
                self.publish(&id).await?;
                moved += 1;
            }
        }
        Ok(moved)
    }

    /// Removes files (and objects) that `known` does not name and that were last written more
    /// than `min_age` ago. Returns how many went and their bytes.
    pub async fn sweep(
        &self,
        known: &HashSet<String>,
        min_age: Duration,
    ) -> anyhow::Result<(u64, u64)> {
        let local = {
            let (me, known) = (self.clone(), known.clone());
            tokio::task::spawn_blocking(move || me.sweep_local(&known, min_age)).await??
        };
        let remote = match &self.remote {
            Some(r) => r.sweep(known, min_age).await?,
            None => (0, 0),
        };
        Ok((local.0 + remote.0, local.1 + remote.1))
    }

    fn sweep_local(&self, known: &HashSet<String>, min_age: Duration) -> io::Result<(u64, u64)> {
        let cutoff = SystemTime::now() - min_age;
        let mut dirs = vec![self.uploads.clone()];
        if let Ok(read) = std::fs::read_dir(&self.blobs) {
            dirs.extend(read.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        }
        let (mut files, mut bytes) = (0, 0);
        for dir in dirs {
            for (id, path) in list(&dir)? {
                if known.contains(&id) {
                    continue;
                }
                let meta = std::fs::metadata(&path)?;
                if meta.modified()? > cutoff {
                    continue;
                }
                std::fs::remove_file(&path)?;
                files += 1;
                bytes += meta.len();
            }
        }
        Ok((files, bytes))
    }
}

fn remove_file(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Reads `path` in steps of `step` bytes into `tx` (on a blocking thread), ending with the
/// error if reading fails. Stops early when the receiver goes away.
pub(crate) fn read_chunks(
    path: &Path,
    step: usize,
    tx: &tokio::sync::mpsc::Sender<io::Result<Vec<u8>>>,
) {
    match std::fs::File::open(path) {
        Ok(file) => read_file_chunks(file, step, tx),
        Err(e) => {
            let _ = tx.blocking_send(Err(e));
        }
    }
}

fn read_file_chunks(
    mut file: std::fs::File,
    step: usize,
    tx: &tokio::sync::mpsc::Sender<io::Result<Vec<u8>>>,
) {
    loop {
        let mut buf = vec![0u8; step];
        let mut filled = 0;
        while filled < step {
            match file.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
        if filled == 0 {
            return;
        }
        buf.truncate(filled);
        if tx.blocking_send(Ok(buf)).is_err() || filled < step {
            return;
        }
    }
}

/// A local file as a stream, read ahead on a blocking thread.
fn file_stream(file: std::fs::File) -> BlobStream {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::task::spawn_blocking(move || read_file_chunks(file, READ_STEP, &tx));
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|r| (r.map(Bytes::from), rx))
    })
    .boxed()
}

/// The UUID-named files in `dir` (none if it does not exist).
fn list(dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let read = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in read {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if valid_id(&name) && entry.file_type()?.is_file() {
            out.push((name, entry.path()));
        }
    }
    Ok(out)
}
