//! The `temp_files` job: removes files under `<data>/tmp` older than `jobs.temp_max_age_days`
//! that this process does not have open.
//!
//! "Open" is read from `/proc/self/fd` (Linux): a file an upload or export is still writing is
//! left alone however old its modification time. Elsewhere no file counts as open. Symbolic links
//! are not followed, so nothing outside the temporary directory is touched.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::json;

use super::{Job, JobContext, JobFuture, JobStats};

/// The job.
pub struct TempFiles;

impl Job for TempFiles {
    fn name(&self) -> &'static str {
        "temp_files"
    }

    fn run<'a>(&'a self, ctx: &'a JobContext) -> JobFuture<'a> {
        let dir = ctx.data_dir.join("tmp");
        let max_age = Duration::from_secs(ctx.config.jobs.temp_max_age_days.saturating_mul(86_400));
        Box::pin(async move {
            // Directory walking is blocking file-system work: keep it off the async workers.
            let (removed, bytes, kept_open) =
                tokio::task::spawn_blocking(move || sweep(&dir, max_age)).await??;
            let mut stats = JobStats::new();
            stats.insert("removed".into(), json!(removed));
            stats.insert("bytes".into(), json!(bytes));
            stats.insert("skipped_open".into(), json!(kept_open));
            Ok(stats)
        })
    }
}

/// Paths this process has open.
fn open_files() -> HashSet<PathBuf> {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return HashSet::new();
    };
    entries
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .collect()
}

/// Removes old, unopened regular files under `dir`: (files removed, bytes freed, old files kept
/// because they are open).
fn sweep(dir: &Path, max_age: Duration) -> std::io::Result<(u64, u64, u64)> {
    let mut totals = (0, 0, 0);
    if !dir.exists() {
        return Ok(totals);
    }
    // /proc shows canonical paths; compare against the canonical directory.
    let dir = dir.canonicalize()?;
    let open = open_files();
    let now = SystemTime::now();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let meta = entry.metadata()?; // does not follow symlinks
            let path = entry.path();
            if meta.is_dir() {
                stack.push(path);
                continue;
            }
            if !meta.is_file() {
                continue;
            }
            let age = now
                .duration_since(meta.modified()?)
                .unwrap_or(Duration::ZERO);
            if age <= max_age {
                continue;
            }
            if open.contains(&path) {
                totals.2 += 1;
                continue;
            }
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    totals.0 += 1;
                    totals.1 += meta.len();
                }
                // Someone else removed it first: fine.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(totals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    #[test]
    fn removes_only_old_closed_files() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp");
        std::fs::create_dir_all(tmp.join("sub")).unwrap();
        let old = SystemTime::now() - Duration::from_secs(10 * 86_400);
        let age = |p: &Path| {
            File::options()
                .write(true)
                .open(p)
                .unwrap()
                .set_modified(old)
                .unwrap()
        };
        std::fs::write(tmp.join("old"), b"12345").unwrap();
        age(&tmp.join("old"));
        std::fs::write(tmp.join("sub/old2"), b"1").unwrap();
        age(&tmp.join("sub/old2"));
        std::fs::write(tmp.join("new"), b"x").unwrap();
        std::fs::write(tmp.join("open"), b"x").unwrap();
        age(&tmp.join("open"));
        let _held = File::open(tmp.join("open")).unwrap();
        let (removed, bytes, open) = sweep(&tmp, Duration::from_secs(7 * 86_400)).unwrap();
        assert_eq!((removed, bytes, open), (2, 6, 1));
        assert!(tmp.join("new").exists() && tmp.join("open").exists());
        assert!(!tmp.join("old").exists() && !tmp.join("sub/old2").exists());
        assert_eq!(
            sweep(&dir.path().join("none"), Duration::ZERO).unwrap(),
            (0, 0, 0)
        );
    }
}
