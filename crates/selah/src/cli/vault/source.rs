//! What an upload sends: an age file that can be produced again from any byte offset, so that
//! an interrupted upload can continue from the server's offset without keeping the
//! ciphertext, and whose SHA-256 the server can check.
//!
//! - [`PlannedFile`], for a regular file: nothing is stored. An
//!   [`selah_vault::EncryptionPlan`] fixes the file key, header and nonce, and the file is
//!   encrypted and hashed in one pass as it is sent; the SHA-256 goes to the server with the
//!   last request (`Selah-Upload-Sha256`). A resume regenerates the identical bytes (STREAM
//!   output depends only on key, nonce and plaintext): the part already sent is encrypted
//!   again for the hash only. The file must stay unchanged meanwhile, which is checked (size
//!   and modification time) and, failing that, caught by the server's SHA-256 check.
//! - [`Spooled`], for standard input (which cannot be read twice) and for content
//!   re-encrypted under a new key: the ciphertext is written once to a private temporary file
//!   in the user's cache directory while being hashed, and sent from there. Only ciphertext
//!   ever touches the disk.
//! - [`Reheadered`], for imports: an age file on disk with its header replaced by one for the
//!   vault's key; the payload is sent as it is.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, bail};
use selah_vault::age::{Recipient, x25519};
use selah_vault::{EncryptionPlan, Options};

use super::progress::Progress;

/// An age file an upload can send from any offset.
pub trait Source: Send + Sync + 'static {
    /// Bytes of the whole file.
    fn len(&self) -> u64;
    /// Writes the file from byte `offset` (at most [`Source::len`]) to its end. A source that
    /// hashes as it goes returns the whole file's SHA-256 (hex); the others return None, their
    /// hash being known beforehand.
    fn write_from(
        &self,
        offset: u64,
        out: &mut (dyn Write + Send),
    ) -> anyhow::Result<Option<String>>;
}

/// A regular file encrypted on the fly by a plan (see the module docs).
pub struct PlannedFile {
    plan: EncryptionPlan,
    path: PathBuf,
    plain_len: u64,
    modified: Option<SystemTime>,
}

impl PlannedFile {
    /// Plans the encryption of the file at `path` to `recipients`.
    pub fn new(path: &Path, recipients: &[x25519::Recipient]) -> anyhow::Result<PlannedFile> {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if !meta.is_file() {
            bail!("{} is not a regular file", path.display());
        }
        let to: Vec<&dyn Recipient> = recipients.iter().map(|r| r as &dyn Recipient).collect();
        let plan = EncryptionPlan::new(&to).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(PlannedFile {
            plan,
            path: path.to_path_buf(),
            plain_len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

impl Source for PlannedFile {
    fn len(&self) -> u64 {
        self.plan.ciphertext_len(self.plain_len)
    }

    fn write_from(
        &self,
        offset: u64,
        out: &mut (dyn Write + Send),
    ) -> anyhow::Result<Option<String>> {
        let changed = || {
            format!(
                "{} changed while it was being uploaded",
                self.path.display()
            )
        };
        let file = File::open(&self.path)
            .with_context(|| format!("cannot read {}", self.path.display()))?;
        let meta = file.metadata()?;
        if meta.len() != self.plain_len || meta.modified().ok() != self.modified {
            bail!(changed());
        }
        // The whole plaintext every time: the hash covers the bytes already sent too.
        let sealed = self
            .plan
            .write_hashed(offset, file.take(self.plain_len), out, Options::default())
            .map_err(vault_io)?;
        if sealed.plaintext_len != self.plain_len {
            bail!(changed());
        }
        Ok(Some(hex::encode(sealed.ciphertext_sha256)))
    }
}

/// Turns a selah-vault error back into what it carries when that is an I/O error (so a closed
/// channel is recognised as such).
fn vault_io(e: selah_vault::Error) -> anyhow::Error {
    match e {
        selah_vault::Error::Io(io) => anyhow::Error::new(io),
        other => anyhow::anyhow!("{other}"),
    }
}

/// A ciphertext written once to a private temporary file.
pub struct Spooled {
    file: tempfile::TempPath,
    len: u64,
}

impl Drop for Spooled {
    fn drop(&mut self) {
        // `TempPath` deletes the file itself.
        super::output::untrack(&self.file);
    }
}

impl Spooled {
    /// A new empty spool file in the user's cache directory.
    pub fn create() -> anyhow::Result<(File, tempfile::TempPath)> {
        let dir = spool_dir();
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let tmp = tempfile::Builder::new()
            .prefix("upload-")
            .suffix(".age")
            .tempfile_in(&dir)
            .with_context(|| format!("cannot create a file in {}", dir.display()))?;
        super::output::track(tmp.path());
        Ok(tmp.into_parts())
    }

    /// Encrypts `input` to `recipients` into a spool file; returns it and its SHA-256 (hex).
    pub fn encrypt<R: Read>(
        input: R,
        recipients: &[x25519::Recipient],
        progress: Option<&Progress>,
    ) -> anyhow::Result<(Spooled, String)> {
        let (file, path) = Spooled::create()?;
        let to: Vec<&dyn Recipient> = recipients.iter().map(|r| r as &dyn Recipient).collect();
        let counted = Counted {
            inner: input,
            progress,
        };
        let sealed = selah_vault::encrypt_with(
            counted,
            io::BufWriter::with_capacity(1 << 20, file),
            &to,
            Options::default(),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok((
            Spooled {
                file: path,
                len: sealed.ciphertext_len,
            },
            hex::encode(sealed.ciphertext_sha256),
        ))
    }
}

/// `$XDG_CACHE_HOME/selah/vault-spool` (else `~/.cache/selah/vault-spool`).
fn spool_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(std::env::temp_dir)
                .join(".cache")
        })
        .join("selah")
        .join("vault-spool")
}

impl Source for Spooled {
    fn len(&self) -> u64 {
        self.len
    }

    fn write_from(
        &self,
        offset: u64,
        out: &mut (dyn Write + Send),
    ) -> anyhow::Result<Option<String>> {
        let mut file = File::open(&self.file)?;
        file.seek(SeekFrom::Start(offset))?;
        copy(&mut file.take(self.len - offset), out)?;
        Ok(None)
    }
}

/// An age file on disk sent with another header in front of its payload.
pub struct Reheadered {
    header: Vec<u8>,
    path: PathBuf,
    payload_start: u64,
    file_len: u64,
}

impl Reheadered {
    /// The file at `path`, whose own header ends at `payload_start`, sent with `header`.
    pub fn new(header: Vec<u8>, path: &Path, payload_start: u64) -> anyhow::Result<Reheadered> {
        let file_len = std::fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        Ok(Reheadered {
            header,
            path: path.to_path_buf(),
            payload_start,
            file_len,
        })
    }
}

impl Source for Reheadered {
    fn len(&self) -> u64 {
        self.header.len() as u64 + self.file_len - self.payload_start
    }

    fn write_from(
        &self,
        offset: u64,
        out: &mut (dyn Write + Send),
    ) -> anyhow::Result<Option<String>> {
        let h = self.header.len() as u64;
        if offset < h {
            out.write_all(&self.header[offset as usize..])?;
        }
        let from = self.payload_start + offset.saturating_sub(h);
        let mut file = File::open(&self.path)?;
        anyhow::ensure!(
            file.metadata()?.len() == self.file_len,
            "{} changed while it was being uploaded",
            self.path.display()
        );
        file.seek(SeekFrom::Start(from))?;
        copy(&mut file.take(self.file_len - from), out)?;
        Ok(None)
    }
}

fn copy(input: &mut dyn Read, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        out.write_all(&buf[..n])?;
    }
}

/// A reader that counts what goes through it on a progress line.
pub struct Counted<'a, R> {
    /// The reader.
    pub inner: R,
    /// Where to count.
    pub progress: Option<&'a Progress>,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = self.progress {
            p.add(n as u64);
        }
        Ok(n)
    }
}
