//! Verifying the live chain.
//!
//! The walk starts at the anchor (the last archived record, or genesis), reads the table in seq
//! order one page at a time, and checks for every record that its seq follows the previous one,
//! that its `prev_hash` is the previous record's hash and that its own hash matches its contents.
//! The end of the walk must then be exactly the head record. So a changed field, a deleted or
//! reordered record anywhere (including the newest ones), and a record slipped in without going
//! through the writer are all reported, with the first seq where the chain breaks.
//!
//! What this cannot catch: the hashes are not secret, so someone with full write access to the
//! database can rewrite a record and recompute every later hash, the head and the anchor to
//! match, or truncate the log and rewrite the head. The chain proves the log is internally
//! consistent and that it was not edited by anyone who did not also rewrite it from that point
//! on; detecting a full rewrite needs a copy of a recent head (or the archive files) kept
//! somewhere the attacker cannot write, and comparing it with this one.

use serde::Serialize;
use sqlx::Row;

use super::{ChainPoint, RECORD_COLUMNS, read_point, record_from_row};
use crate::{Backend, Result, Store};

/// Records read per query during verification.
const PAGE: i64 = 1000;

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// True when the chain is intact from the anchor to the head.
    pub ok: bool,
    /// Records checked before the walk stopped.
    pub checked: u64,
    /// The first seq where the chain breaks (None when ok, or when the break is not at a record,
    /// e.g. a missing head).
    pub first_bad_seq: Option<i64>,
    /// What is wrong (None when ok).
    pub reason: Option<String>,
    /// Where the live chain starts (the last archived record; seq 0 before any archive).
    pub anchor_seq: i64,
    /// The anchor's hash (what the last archive file must end with).
    pub anchor_hash: String,
    /// The newest record according to the head (None when the head is missing).
    pub head_seq: Option<i64>,
}

impl VerifyReport {
    fn bad(mut self, seq: Option<i64>, reason: String) -> Self {
        self.ok = false;
        self.first_bad_seq = seq;
        self.reason = Some(reason);
        self
    }
}

impl Store {
    /// Walks the live audit chain from the anchor to the head (see the module documentation).
    /// Reads one consistent snapshot, so concurrent appends do not cause false alarms.
    pub async fn verify_audit(&self) -> Result<VerifyReport> {
        let mut tx = self.reader().begin().await?;
        if self.backend() == Backend::Postgres {
            // One snapshot for the whole walk (SQLite's WAL read transactions already are).
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await?;
        }
        let anchor = read_point(&mut *tx, "audit_anchor")
            .await?
            .unwrap_or_else(ChainPoint::genesis);
        let head = read_point(&mut *tx, "audit_head").await?;
        let report = VerifyReport {
            ok: true,
            checked: 0,
            first_bad_seq: None,
            reason: None,
            anchor_seq: anchor.seq,
            anchor_hash: anchor.hash.clone(),
            head_seq: head.as_ref().map(|h| h.seq),
        };

        let below: i64 = sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE seq <= $1")
            .bind(anchor.seq)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        if below > 0 {
            return Ok(report.bad(
                Some(anchor.seq),
                format!(
                    "{below} record(s) at or before the archive anchor (seq {}) are still in the table",
                    anchor.seq
                ),
            ));
        }

        let mut report = report;
        let mut last = anchor;
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM audit_log t WHERE t.seq > $1 ORDER BY t.seq LIMIT $2"
        );
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(last.seq)
                .bind(PAGE)
                .fetch_all(&mut *tx)
                .await?;
            let n = rows.len() as i64;
            for row in &rows {
                let rec = record_from_row(row)?;
                let expected = last.seq + 1;
                if rec.seq != expected {
                    let reason = if rec.seq == expected + 1 {
                        format!("record {expected} is missing")
                    } else {
                        format!("records {expected} to {} are missing", rec.seq - 1)
                    };
                    return Ok(report.bad(Some(expected), reason));
                }
                if rec.prev_hash != last.hash {
                    return Ok(report.bad(
                        Some(rec.seq),
                        format!(
                            "record {} does not link to record {} (prev_hash differs)",
                            rec.seq, last.seq
                        ),
                    ));
                }
                if !rec.hash_is_valid() {
                    return Ok(report.bad(
                        Some(rec.seq),
                        format!(
                            "record {} was changed (its hash does not match its contents)",
                            rec.seq
                        ),
                    ));
                }
                report.checked += 1;
                last = ChainPoint {
                    seq: rec.seq,
                    hash: rec.hash,
                };
            }
            if n < PAGE {
                break;
            }
        }
        tx.commit().await?;

        let Some(head) = head else {
            return Ok(report.bad(
                None,
                "the head record (audit_head) is missing, so deleted newest records cannot be ruled out"
                    .into(),
            ));
        };
        if head.seq > last.seq {
            let reason = if head.seq == last.seq + 1 {
                format!("the newest record ({}) is missing", head.seq)
            } else {
                format!(
                    "the newest records ({} to {}) are missing",
                    last.seq + 1,
                    head.seq
                )
            };
            return Ok(report.bad(Some(last.seq + 1), reason));
        }
        if head.seq < last.seq {
            return Ok(report.bad(
                Some(head.seq + 1),
                format!(
                    "records after {} were not written by the audit writer (the head ends there)",
                    head.seq
                ),
            ));
        }
        if head.hash != last.hash {
            return Ok(report.bad(
                Some(last.seq),
                format!("record {} differs from the head record's hash", last.seq),
            ));
        }
        Ok(report)
    }
}
