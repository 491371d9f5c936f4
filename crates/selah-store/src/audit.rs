//! The audit log: append-only and hash-chained. Each record's hash covers its fields and the
//! previous record's hash, so changing or deleting any record breaks the chain from there on.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Result, Store, StoreError};

/// The hash that precedes the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event to append (seq, hashes are assigned on write).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
        let head = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        let (mut seq, mut prev): (i64, String) = match head {
            Some(r) => (r.try_get("seq")?, r.try_get("hash")?),
            None => match sqlx::query("SELECT seq, hash FROM audit_anchor WHERE id = 1")
                .fetch_optional(&mut *tx)
                .await?
            {
                Some(r) => (r.try_get("seq")?, r.try_get("hash")?),
                None => (0, GENESIS_HASH.to_string()),
            },
        };
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
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(())
    }
}
