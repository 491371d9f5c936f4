//! Where the vault's bytes live: `<data>/vault/uploads/<id>` while an upload is in progress
//! (only ever appended to, so its length is the upload's offset), then
//! `<data>/vault/blobs/<last two characters of id>/<id>` once it is a version.
//!
//! A completed upload is committed in the database first and renamed here second; a crash in
//! between leaves the file under `uploads/`, which [`Blobs::recover`] (at start) and
//! [`Blobs::open`] (at read) both handle. Files nothing in the database names are removed by
//! [`Blobs::sweep`] once they are old enough not to be racing a commit.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The vault's file area.
#[derive(Debug, Clone)]
pub struct Blobs {
    uploads: PathBuf,
    blobs: PathBuf,
}

/// An id from a URL or the database is used as a file name only if it is a UUID.
pub fn valid_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok()
}

impl Blobs {
    /// The area under `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        let root = data_dir.join("vault");
        Self {
            uploads: root.join("uploads"),
            blobs: root.join("blobs"),
        }
    }

    /// The partial file of an upload.
    pub fn partial(&self, id: &str) -> PathBuf {
        debug_assert!(valid_id(id));
        self.uploads.join(id)
    }

    /// A version's blob file.
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
    pub fn publish(&self, id: &str) -> io::Result<()> {
        let dest = self.blob(id);
        let dir = dest.parent().expect("blob path has a parent");
        std::fs::create_dir_all(dir)?;
        std::fs::rename(self.partial(id), &dest)?;
        // The rename itself must survive a power cut.
        std::fs::File::open(dir)?.sync_all()
    }

    /// Opens a version's blob (still under `uploads/` if the process died before renaming it).
    pub fn open(&self, id: &str) -> io::Result<std::fs::File> {
        match std::fs::File::open(self.blob(id)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::File::open(self.partial(id)),
            other => other,
        }
    }

    /// Removes a version's blob or an upload's partial file, whichever exist.
    pub fn remove(&self, id: &str) -> io::Result<()> {
        for path in [self.blob(id), self.partial(id)] {
            match std::fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// At start: renames into place every partial file that is already a version.
    pub fn recover(&self, versions: &HashSet<String>) -> io::Result<usize> {
        let mut moved = 0;
        for (id, _) in list(&self.uploads)? {
            if versions.contains(&id) {
                self.publish(&id)?;
                moved += 1;
            }
        }
        Ok(moved)
    }

    /// Removes files that `known` does not name and that were last written more than
    /// `min_age` ago. Returns how many files and bytes went.
    pub fn sweep(&self, known: &HashSet<String>, min_age: Duration) -> io::Result<(u64, u64)> {
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
