//! The audit log: append-only and hash-chained. Each record's hash covers its fields and the
//! previous record's hash, so changing or deleting any record breaks the chain from there on.
//!
//! Three single-row tables frame the chain: `audit_anchor` (the last record moved to an archive
//! file; the live chain continues from it, or from [`GENESIS_HASH`] at seq 0), and `audit_head`
//! (the newest record, updated in the same transaction as every append, so deleting the newest
//! records is detected as well). [`verify`] walks the chain, [`query`] reads it page by page and
//! [`archive`] moves old records to compressed files.

pub mod archive;
pub mod query;
pub mod verify;

pub use archive::ArchiveReport;
pub use query::AuditFilter;
pub use verify::VerifyReport;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError};

/// The hash that precedes the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event to append (seq, hashes are assigned on write).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditInput {
    /// When it happened, ms.
    pub ts: i64,
    /// Who did it (None for the system or an anonymous caller).
    pub user_id: Option<String>,
    /// Dotted type, e.g. `auth.login_failed`.
    pub event_type: String,
    /// What was done, e.g. `create`.
    pub action: String,
    /// Kind of resource affected.
    pub resource_type: Option<String>,
    /// Its id.
    pub resource_id: Option<String>,
    /// JSON object with extra facts (never secrets).
    pub details: Option<String>,
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
}

/// A stored record: the event, its position in the chain and its hashes (one archive line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the chain, from 1, contiguous.
    pub seq: i64,
    /// The event.
    #[serde(flatten)]
    pub event: AuditInput,
    /// The previous record's hash.
    pub prev_hash: String,
    /// This record's hash ([`record_hash`]).
    pub hash: String,
}

impl AuditRecord {
    /// Whether the stored hash matches the record's contents and the given previous hash.
    pub fn hash_is_valid(&self) -> bool {
        record_hash(self.seq, &self.event, &self.prev_hash) == self.hash
    }
}

/// The columns of `audit_log`, in [`record_from_row`]'s order, on alias `t`.
pub(crate) const RECORD_COLUMNS: &str = "t.seq, t.ts, t.user_id, t.event_type, t.action, t.resource_type, t.resource_id, t.details, t.ip, t.user_agent, t.prev_hash, t.hash";

pub(crate) fn record_from_row(r: &AnyRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        seq: r.try_get("seq")?,
        event: AuditInput {
            ts: r.try_get("ts")?,
            user_id: r.try_get("user_id")?,
            event_type: r.try_get("event_type")?,
            action: r.try_get("action")?,
            resource_type: r.try_get("resource_type")?,
            resource_id: r.try_get("resource_id")?,
            details: r.try_get("details")?,
            ip: r.try_get("ip")?,
            user_agent: r.try_get("user_agent")?,
        },
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// A (seq, hash) point of the chain: the anchor or the head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainPoint {
    /// Sequence number (0 before the first record).
    pub seq: i64,
    /// That record's hash ([`GENESIS_HASH`] at 0).
    pub hash: String,
}

impl ChainPoint {
    fn genesis() -> Self {
        ChainPoint {
            seq: 0,
            hash: GENESIS_HASH.to_string(),
        }
    }
}

/// Reads one of the single-row tables (`audit_anchor`, `audit_head`).
pub(crate) async fn read_point<'e, E>(exec: E, table: &'static str) -> Result<Option<ChainPoint>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT seq, hash FROM {table} WHERE id = 1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_optional(exec)
        .await?;
    Ok(match row {
        Some(r) => Some(ChainPoint {
            seq: r.try_get("seq")?,
            hash: r.try_get("hash")?,
        }),
        None => None,
    })
}

/// The hash of a record: SHA-256 over a JSON array of its fields and the previous hash, which is
/// unambiguous however the fields are spelled.
pub fn record_hash(seq: i64, e: &AuditInput, prev_hash: &str) -> String {
    let canonical = serde_json::json!([
        seq,
        e.ts,
        e.user_id,
        e.event_type,
        e.action,
        e.resource_type,
        e.resource_id,
        e.details,
        e.ip,
        e.user_agent,
        prev_hash
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

impl Store {
    /// Appends events in order, in one transaction, continuing the chain from the newest record
    /// (or the archive anchor). Retries when another instance appended concurrently.
    pub async fn append_audit(&self, events: &[AuditInput]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_append_audit(events).await {
                Err(StoreError::Conflict(_)) if attempt < 10 => continue,
                other => return other,
            }
        }
    }

    async fn try_append_audit(&self, events: &[AuditInput]) -> Result<()> {
        let mut tx = self.writer().begin().await?;
        // The head is the authority on where the chain continues: continuing from the table's
        // newest row instead would let a deleted tail go unnoticed once something new is written.
        // Without a head (it was deleted), fall back to the newest row or the anchor; verification
        // reports the missing head.
        let start = match read_point(&mut *tx, "audit_head").await? {
            Some(p) => p,
            None => match sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?
            {
                Some(r) => ChainPoint {
                    seq: r.try_get("seq")?,
                    hash: r.try_get("hash")?,
                },
                None => read_point(&mut *tx, "audit_anchor")
                    .await?
                    .unwrap_or_else(ChainPoint::genesis),
            },
        };
        let (mut seq, mut prev) = (start.seq, start.hash);
        for e in events {
            seq += 1;
            let hash = record_hash(seq, e, &prev);
            sqlx::query(
                "INSERT INTO audit_log (seq, ts, user_id, event_type, action, resource_type, resource_id, details, ip, user_agent, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(seq)
            .bind(e.ts)
            .bind(&e.user_id)
            .bind(&e.event_type)
            .bind(&e.action)
            .bind(&e.resource_type)
            .bind(&e.resource_id)
            .bind(&e.details)
            .bind(&e.ip)
            .bind(&e.user_agent)
            .bind(&prev)
            .bind(&hash)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
            prev = hash;
        }
        sqlx::query(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        )
        .bind(seq)
        .bind(&prev)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
