//! Archiving old records to `<dir>/audit-<first>-<last>.jsonl.gz` and checking archive files.
//!
//! Only a prefix of the chain is archived: the records before the oldest one still inside the
//! retention window (times are stamped when events are made, so they are not strictly in seq
//! order; a prefix keeps the live chain contiguous). The segment is checked while it is written,
//! so a broken chain is never archived. The file is written under a temporary name, fsynced and
//! renamed; only then, in one transaction, is the anchor moved to the last archived record and
//! the records deleted. A crash in between leaves a file whose records are still live; the next
//! run replaces it.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::Serialize;
use sqlx::Row;
use tokio::io::AsyncWriteExt;

use super::{AuditRecord, ChainPoint, GENESIS_HASH, RECORD_COLUMNS, read_point, record_from_row};
use crate::{Result, Store, StoreError};

/// Records read per query while archiving.
const PAGE: i64 = 1000;

/// What an archive run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchiveReport {
    /// Records moved.
    pub archived: u64,
    /// First and last seq moved.
    pub first_seq: i64,
    /// Last seq moved (the new anchor).
    pub last_seq: i64,
    /// The file written (its name only, inside the archive directory).
    pub file: String,
}

fn invalid(msg: String) -> StoreError {
    StoreError::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, msg))
}

impl Store {
    /// Moves records stamped before `cutoff_ms` (as a prefix of the chain) into a new archive
    /// file in `dir`. Returns None when there is nothing to archive.
    pub async fn archive_audit(&self, dir: &Path, cutoff_ms: i64) -> Result<Option<ArchiveReport>> {
        let anchor = read_point(self.reader(), "audit_anchor")
            .await?
            .unwrap_or_else(ChainPoint::genesis);
        let bounds = sqlx::query(
            "SELECT (SELECT MIN(seq) FROM audit_log) AS first, \
                    (SELECT MAX(seq) FROM audit_log) AS last, \
                    (SELECT MIN(seq) FROM audit_log WHERE ts >= $1) AS keep",
        )
        .bind(cutoff_ms)
        .fetch_one(self.reader())
        .await?;
        let first: Option<i64> = bounds.try_get("first")?;
        let last: Option<i64> = bounds.try_get("last")?;
        let keep: Option<i64> = bounds.try_get("keep")?;
        let (Some(first), Some(last)) = (first, last) else {
            return Ok(None);
        };
        let end = keep.map_or(last, |k| k - 1);
        if end < first {
            return Ok(None);
        }
        if first != anchor.seq + 1 {
            return Err(invalid(format!(
                "the audit chain does not start after the anchor (first record {first}, anchor {}); \
                 run `selah audit verify`",
                anchor.seq
            )));
        }

        tokio::fs::create_dir_all(dir).await?;
        let name = format!("audit-{first}-{end}.jsonl.gz");
        let tmp = dir.join(format!(".{name}.tmp"));
        let path = dir.join(&name);
        // Any file starting at `first` is left over from a run that did not commit.
        remove_leftovers(dir, first).await?;
        let written = match self.write_segment(&tmp, &anchor, end).await {
            Ok(p) => p,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e);
            }
        };
        tokio::fs::rename(&tmp, &path).await?;
        if let Ok(d) = tokio::fs::File::open(dir).await {
            let _ = d.sync_all().await;
        }

        let committed = async {
            let mut tx = self.writer().begin().await?;
            // The anchor must not have moved since we started (another instance archiving).
            let now = read_point(&mut *tx, "audit_anchor")
                .await?
                .unwrap_or_else(ChainPoint::genesis);
            if now != anchor {
                return Err(StoreError::Conflict(
                    "another archive run moved the anchor".into(),
                ));
            }
            sqlx::query(
                "INSERT INTO audit_anchor (id, seq, hash) VALUES (1, $1, $2) \
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            )
            .bind(written.seq)
            .bind(&written.hash)
            .execute(&mut *tx)
            .await?;
            let n = sqlx::query("DELETE FROM audit_log WHERE seq <= $1")
                .bind(end)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n != (end - first + 1) as u64 {
                return Err(invalid(format!(
                    "expected to delete {} archived records, found {n}",
                    end - first + 1
                )));
            }
            tx.commit().await?;
            Ok(n)
        }
        .await;
        match committed {
            Ok(n) => Ok(Some(ArchiveReport {
                archived: n,
                first_seq: first,
                last_seq: end,
                file: name,
            })),
            Err(e) => {
                let _ = tokio::fs::remove_file(&path).await;
                Err(e)
            }
        }
    }

    /// Writes records after `anchor` up to `end` to `tmp`, checking the chain as it goes, and
    /// fsyncs it. Returns the last record written. Memory stays bounded by one page.
    async fn write_segment(&self, tmp: &Path, anchor: &ChainPoint, end: i64) -> Result<ChainPoint> {
        let mut file = tokio::fs::File::create(tmp).await?;
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        let mut last = anchor.clone();
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM audit_log t WHERE t.seq > $1 AND t.seq <= $2 ORDER BY t.seq LIMIT $3"
        );
        while last.seq < end {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(last.seq)
                .bind(end)
                .bind(PAGE)
                .fetch_all(self.reader())
                .await?;
            if rows.is_empty() {
                return Err(invalid(format!("record {} is missing", last.seq + 1)));
            }
            for row in &rows {
                let rec = record_from_row(row)?;
                if let Some(why) = link_error(&last, &rec) {
                    return Err(invalid(format!(
                        "the audit chain is broken ({why}); nothing was archived (run `selah audit verify`)"
                    )));
                }
                serde_json::to_writer(&mut gz, &rec).map_err(|e| invalid(e.to_string()))?;
                gz.write_all(b"\n")?;
                last = ChainPoint {
                    seq: rec.seq,
                    hash: rec.hash,
                };
            }
            file.write_all(&std::mem::take(gz.get_mut())).await?;
        }
        file.write_all(&gz.finish()?).await?;
        file.sync_all().await?;
        Ok(last)
    }
}

/// Why `rec` does not directly follow `last` unchanged, if it does not.
fn link_error(last: &ChainPoint, rec: &AuditRecord) -> Option<String> {
    if rec.seq != last.seq + 1 {
        Some(format!("record {} is missing", last.seq + 1))
    } else if rec.prev_hash != last.hash {
        Some(format!(
            "record {} does not link to record {}",
            rec.seq, last.seq
        ))
    } else if !rec.hash_is_valid() {
        Some(format!("record {} was changed", rec.seq))
    } else {
        None
    }
}

async fn remove_leftovers(dir: &Path, first: i64) -> Result<()> {
    let prefix = format!("audit-{first}-");
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(e) = entries.next_entry().await? {
        if e.file_name().to_string_lossy().starts_with(&prefix) {
            tokio::fs::remove_file(e.path()).await?;
        }
    }
    Ok(())
}

/// The archive files in `dir` in chain order: (first seq, last seq, path).
pub fn archive_files(dir: &Path) -> std::io::Result<Vec<(i64, i64, PathBuf)>> {
    let mut files = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
        Err(e) => return Err(e),
    };
    for e in entries {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(range) = name
            .strip_prefix("audit-")
            .and_then(|r| r.strip_suffix(".jsonl.gz"))
        else {
            continue;
        };
        if let Some((a, b)) = range.split_once('-')
            && let (Ok(a), Ok(b)) = (a.parse(), b.parse())
        {
            files.push((a, b, e.path()));
        }
    }
    files.sort();
    Ok(files)
}

/// Reads every record of one archive file (for tests and tools; files are bounded by one run).
pub fn read_archive(path: &Path) -> std::io::Result<Vec<AuditRecord>> {
    let reader = std::io::BufReader::new(GzDecoder::new(std::fs::File::open(path)?));
    reader
        .lines()
        .map(|line| {
            serde_json::from_str(&line?)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        })
        .collect()
}

/// Checks that the archive files in `dir` chain from genesis into each other, and returns the
/// last archived point (which the live table's anchor must equal) and the records checked.
/// Streams each file line by line.
pub fn verify_archive_files(dir: &Path) -> std::result::Result<(ChainPoint, u64), String> {
    let mut last = ChainPoint {
        seq: 0,
        hash: GENESIS_HASH.to_string(),
    };
    let mut checked = 0u64;
    let files = archive_files(dir).map_err(|e| format!("cannot list the archive: {e}"))?;
    for (a, b, path) in files {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if a != last.seq + 1 {
            return Err(format!(
                "{name} starts at record {a}, but the previous archive ends at {}",
                last.seq
            ));
        }
        let file = std::fs::File::open(&path).map_err(|e| format!("cannot open {name}: {e}"))?;
        for line in std::io::BufReader::new(GzDecoder::new(file)).lines() {
            let line = line.map_err(|e| format!("{name} is damaged: {e}"))?;
            let rec: AuditRecord = serde_json::from_str(&line)
                .map_err(|e| format!("{name} has an unreadable line: {e}"))?;
            if let Some(why) = link_error(&last, &rec) {
                return Err(format!("{name}: {why}"));
            }
            last = ChainPoint {
                seq: rec.seq,
                hash: rec.hash,
            };
            checked += 1;
        }
        if last.seq != b {
            return Err(format!("{name} ends at record {}, not {b}", last.seq));
        }
    }
    Ok((last, checked))
}
