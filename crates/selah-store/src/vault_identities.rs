//! Vault identities: per user, the public key items are encrypted to and the private key
//! wrapped under the vault passphrase (an opaque age file here). Personal in every context.
//! Public keys are readable by the owner and by the people they share a team with (to share
//! items with them); the wrapped identity only by its owner.

use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store, StoreError, now_ms};

/// A stored vault identity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VaultIdentity {
    /// The owner.
    pub user_id: String,
    /// The X25519 public key (`age1…`).
    pub public_key: String,
    /// The private key as an age file encrypted to the vault passphrase.
    pub wrapped_identity: Vec<u8>,
    /// 1 when made, one more at each re-wrap.
    pub version: i64,
    /// When it was made (ms since the epoch).
    pub created_at: i64,
    /// When it was last re-wrapped.
    pub updated_at: i64,
}

/// What [`Store::put_vault_identity`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum PutIdentity {
    /// Stored: the new row.
    Stored(VaultIdentity),
    /// Refused: the stored identity is not at the version the caller re-wrapped (another
    /// device changed it first), or one exists and the caller meant to create one.
    VersionMismatch {
        /// The stored version (0: none).
        current: i64,
    },
    /// Refused: the public key differs from the stored one (items are encrypted to it).
    PublicKeyChanged,
}

const SELECT_IDENTITY: &str = "SELECT user_id, public_key, wrapped_identity, version, created_at, updated_at \
     FROM vault_identities WHERE user_id = $1";

fn identity(row: &sqlx::any::AnyRow) -> Result<VaultIdentity> {
    Ok(VaultIdentity {
        user_id: row.try_get("user_id")?,
        public_key: row.try_get("public_key")?,
        wrapped_identity: row.try_get("wrapped_identity")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// The user's own vault identity, if they made one.
    pub async fn vault_identity(&self, user_id: &str) -> Result<Option<VaultIdentity>> {
        sqlx::query(SELECT_IDENTITY)
            .bind(user_id)
            .fetch_optional(self.reader())
            .await?
            .map(|r| identity(&r))
            .transpose()
    }

    /// Creates the identity (`expected_version` 0) or re-wraps it (`expected_version` = the
    /// stored version; the public key must stay the same). The check and the write are one
    /// statement, so of two concurrent re-wraps of the same version exactly one is stored.
    pub async fn put_vault_identity(
        &self,
        user_id: &str,
        public_key: &str,
        wrapped_identity: &[u8],
        expected_version: i64,
    ) -> Result<PutIdentity> {
        let now = now_ms();
        let written = if expected_version == 0 {
            sqlx::query(
                "INSERT INTO vault_identities \
                   (user_id, public_key, wrapped_identity, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, 1, $4, $4) ON CONFLICT (user_id) DO NOTHING",
            )
            .bind(user_id)
            .bind(public_key)
            .bind(wrapped_identity)
            .bind(now)
            .execute(self.writer())
            .await
            .map_err(StoreError::from_sqlx)?
        } else {
            sqlx::query(
                "UPDATE vault_identities SET wrapped_identity = $1, version = version + 1, \
                   updated_at = $2 \
                 WHERE user_id = $3 AND version = $4 AND public_key = $5",
            )
            .bind(wrapped_identity)
            .bind(now)
            .bind(user_id)
            .bind(expected_version)
            .bind(public_key)
            .execute(self.writer())
            .await?
        };
        // Read from the writer: the outcome must see this very write.
        let stored = sqlx::query(SELECT_IDENTITY)
            .bind(user_id)
            .fetch_optional(self.writer())
            .await?
            .map(|r| identity(&r))
            .transpose()?;
        Ok(match stored {
            Some(s) if written.rows_affected() == 1 => PutIdentity::Stored(s),
            Some(s) if s.version == expected_version && s.public_key != public_key => {
                PutIdentity::PublicKeyChanged
            }
            Some(s) => PutIdentity::VersionMismatch { current: s.version },
            None => PutIdentity::VersionMismatch { current: 0 },
        })
    }

    /// `user_id`'s public key, if `viewer` is that user or shares a team with them.
    pub async fn vault_public_key(&self, viewer: &str, user_id: &str) -> Result<Option<String>> {
        Ok(sqlx::query(
            "SELECT v.public_key FROM vault_identities v WHERE v.user_id = $1 AND ($1 = $2 OR \
               EXISTS (SELECT 1 FROM team_members a JOIN team_members b ON a.team_id = b.team_id \
                       WHERE a.user_id = $1 AND b.user_id = $2))",
        )
        .bind(user_id)
        .bind(viewer)
        .fetch_optional(self.reader())
        .await?
        .map(|r| r.try_get("public_key"))
        .transpose()?)
    }
}
