//! Output files written whole or not at all: bytes go to a private temporary file next to the
//! destination (same directory, so the final rename is atomic) that is renamed over it only
//! by [`Output::commit`]; dropped uncommitted (an error, tampering), the temporary file is
//! deleted and the destination is untouched.
//!
//! While the file is written, the kernel is asked every few MiB to start writing the new bytes
//! to disk ([`start_writeback`]), so the disk works while the next bytes are produced and the
//! fsync before the rename finds little left to do, instead of flushing the whole file at the
//! end.
//!
//! Ctrl-C ends the process without running destructors, so temporary files are also listed in
//! [`PENDING`] and [`on_interrupt`] removes them before exiting.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;

/// Temporary files to delete if the process is interrupted.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Lists a temporary file to delete on Ctrl-C.
pub fn track(path: &Path) {
    if let Ok(mut p) = PENDING.lock() {
        p.push(path.to_path_buf());
    }
}

/// Takes a file off the list (it was published or deleted).
pub fn untrack(path: &Path) {
    if let Ok(mut p) = PENDING.lock() {
        p.retain(|q| q != path);
    }
}

/// From now on, Ctrl-C deletes the listed temporary files and exits with status 130. Started
/// once any passphrase prompt is over (exiting during a prompt would leave the terminal
/// without echo).
pub fn on_interrupt() {
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            if let Ok(p) = PENDING.lock() {
                for path in p.iter() {
                    let _ = std::fs::remove_file(path);
                }
            }
            eprintln!("\ninterrupted; nothing was left half-written");
            std::process::exit(130);
        }
    });
}

/// Bytes written between two requests to start writeback.
const WRITEBACK_STEP: u64 = 8 << 20;

/// A file being written.
pub struct Output {
    /// Always Some until committed.
    tmp: Option<tempfile::NamedTempFile>,
    path: PathBuf,
    /// Bytes written so far.
    written: u64,
    /// Bytes whose writeback has been requested.
    requested: u64,
}

impl Output {
    /// Starts writing `path` (mode 0600 on Unix: vault files are private).
    pub fn create(path: &Path) -> anyhow::Result<Output> {
        let dir = directory_of(path);
        let name = path
            .file_name()
            .with_context(|| format!("{} is not a file name", path.display()))?;
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{}.", name.to_string_lossy()))
            .suffix(".part")
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a file in {}", dir.display()))?;
        track(tmp.path());
        Ok(Output {
            tmp: Some(tmp),
            path: path.to_path_buf(),
            written: 0,
            requested: 0,
        })
    }

    fn file(&mut self) -> &mut tempfile::NamedTempFile {
        self.tmp
            .as_mut()
            .expect("an output is written only before its commit")
    }

    /// Flushes to disk and renames the file into place.
    pub fn commit(mut self) -> anyhow::Result<()> {
        let mut tmp = self.tmp.take().expect("committed once");
        untrack(tmp.path());
        tmp.flush()?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.path)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        // The rename is an entry in the directory: flushing it too makes the new name survive
        // a power cut, not only the bytes. Where a directory cannot be opened or synced
        // (some platforms and file systems), the file is still whole under its name.
        if let Ok(dir) = std::fs::File::open(directory_of(&self.path)) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

/// The directory a path's file lives in (`.` for a bare name).
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // The temporary file itself is deleted by `NamedTempFile`'s own drop.
        if let Some(tmp) = &self.tmp {
            untrack(tmp.path());
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file().write(buf)?;
        self.written += n as u64;
        if self.written - self.requested >= WRITEBACK_STEP {
            let (from, len) = (self.requested, self.written - self.requested);
            start_writeback(self.file().as_file(), from, len);
            self.requested = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file().flush()
    }
}

/// Asks the kernel to start writing `len` bytes of `file` from `offset` to disk, without
/// waiting for it. Only a hint: durability still comes from the fsync in [`Output::commit`].
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn start_writeback(file: &std::fs::File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: the descriptor belongs to `file`, open for the whole call; sync_file_range reads
    // only its integer arguments. A failure (say, a file system without it) changes nothing.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &std::fs::File, _offset: u64, _len: u64) {}

/// Standard output or a file written whole.
pub enum Sink {
    /// `-`.
    Stdout(io::Stdout),
    /// Any other path.
    File(Output),
}

impl Sink {
    /// Standard output for `-`, else a new [`Output`] for `path`.
    pub fn create(path: &Path) -> anyhow::Result<Sink> {
        if path == Path::new("-") {
            return Ok(Sink::Stdout(io::stdout()));
        }
        Ok(Sink::File(Output::create(path)?))
    }

    /// Flushes standard output, or commits the file.
    pub fn commit(self) -> anyhow::Result<()> {
        match self {
            Sink::Stdout(mut s) => Ok(s.flush()?),
            Sink::File(f) => f.commit(),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(s) => s.write(buf),
            Sink::File(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(s) => s.flush(),
            Sink::File(f) => f.flush(),
        }
    }
}
