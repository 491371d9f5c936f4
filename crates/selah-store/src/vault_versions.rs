//! Vault item versions (each an uploaded age file: its current header here, its bytes in a blob
//! file named by the version id) and resumable uploads in progress (named by the id the version
//! will have). Sharing rewrites every version's header at once.

use std::collections::HashSet;

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::scope::Scope;
use crate::vault_items::{ItemWrite, locked_row_version, manageable, set_recipients, visible};
use crate::{Result, Store, new_id, now_ms};

/// A version as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VaultVersion {
    /// Opaque id (also the blob's name).
    pub id: String,
    /// The file's size with its current header.
    pub size: i64,
    /// SHA-256 of the file as uploaded, hex.
    pub sha256: String,
    /// Uploaded (ms since the epoch).
    pub created_at: i64,
    /// Who uploaded it.
    pub created_by: Option<String>,
}

/// What serving a version's bytes needs.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionBlob {
    /// The version (the blob's name).
    pub id: String,
    /// The current header, sent in place of the blob's first `payload_offset` bytes.
    pub header: Vec<u8>,
    /// Where the payload starts in the blob.
    pub payload_offset: i64,
    /// The blob's length.
    pub blob_size: i64,
    /// SHA-256 of the blob, hex.
    pub sha256: String,
}

/// A resumable upload in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct VaultUpload {
    /// Opaque id: the partial file's name, and the version's id once complete.
    pub id: String,
    /// The item it will be a version of.
    pub item_id: String,
    /// Who is uploading.
    pub user_id: String,
    /// Total bytes announced.
    pub length: i64,
    /// SHA-256 announced at creation, hex; None when the client sends it with the completing
    /// PATCH instead (so that it can hash while it sends).
    pub sha256: Option<String>,
    /// Forgotten after this (ms since the epoch) unless more bytes arrive.
    pub expires_at: i64,
}

/// The outcome of [`Store::share_vault_item`].
#[derive(Debug, Clone, PartialEq)]
pub enum Share {
    /// As for any change.
    Write(ItemWrite),
    /// The headers sent are not exactly one per version.
    VersionsDiffer,
}

fn upload(row: &AnyRow) -> Result<VaultUpload> {
    Ok(VaultUpload {
        id: row.try_get("id")?,
        item_id: row.try_get("item_id")?,
        user_id: row.try_get("user_id")?,
        length: row.try_get("length")?,
        sha256: Some(row.try_get::<String, _>("sha256")?).filter(|s| !s.is_empty()),
        expires_at: row.try_get("expires_at")?,
    })
}

const UPLOAD_COLUMNS: &str = "id, item_id, user_id, length, sha256, expires_at";

impl Store {
    /// Starts an upload of a new version of a live file or note the user may change. None
    /// when there is no such item. `sha256` is the one announced, if any.
    pub async fn create_vault_upload(
        &self,
        scope: &Scope,
        item_id: &str,
        length: i64,
        sha256: Option<&str>,
        expires_at: i64,
    ) -> Result<Option<VaultUpload>> {
        let id = new_id();
        let sql = format!(
            "INSERT INTO vault_uploads (id, item_id, user_id, length, sha256, created_at, expires_at) \
             SELECT $4, t.id, $1, $5, $6, $7, $8 FROM vault_items t \
             WHERE t.id = $3 AND t.kind <> 'folder' AND t.trashed_at IS NULL AND {}",
            manageable(1)
        );
        let n = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.user_id())
            .bind(scope.team_id())
            .bind(item_id)
            .bind(&id)
            .bind(length)
            // An empty text: not announced (the column predates optional announcements).
            .bind(sha256.unwrap_or_default())
            .bind(now_ms())
            .bind(expires_at)
            .execute(self.writer())
            .await?
            .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        self.vault_upload(scope.user_id(), &id).await
    }

    /// The user's own upload.
    pub async fn vault_upload(&self, user_id: &str, id: &str) -> Result<Option<VaultUpload>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {UPLOAD_COLUMNS} FROM vault_uploads WHERE id = $1 AND user_id = $2"
        )))
        .bind(id)
        .bind(user_id)
        .fetch_optional(self.writer())
        .await?
        .as_ref()
        .map(upload)
        .transpose()
    }

    /// Pushes an upload's expiry back (bytes arrived).
    pub async fn touch_vault_upload(&self, id: &str, expires_at: i64) -> Result<()> {
        sqlx::query("UPDATE vault_uploads SET expires_at = $1 WHERE id = $2")
            .bind(expires_at)
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Forgets the user's upload; false if there was none.
    pub async fn delete_vault_upload(&self, user_id: &str, id: &str) -> Result<bool> {
        Ok(
            sqlx::query("DELETE FROM vault_uploads WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user_id)
                .execute(self.writer())
                .await?
                .rows_affected()
                > 0,
        )
    }

    /// Forgets uploads that expired before `now`; returns their ids.
    pub async fn delete_expired_vault_uploads(&self, now: i64) -> Result<Vec<String>> {
        let ids: Vec<String> = sqlx::query("SELECT id FROM vault_uploads WHERE expires_at < $1")
            .bind(now)
            .fetch_all(self.writer())
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
        for id in &ids {
            sqlx::query("DELETE FROM vault_uploads WHERE id = $1")
                .bind(id)
                .execute(self.writer())
                .await?;
        }
        Ok(ids)
    }

    /// Turns a complete upload, whose bytes hash to `sha256` (hex, checked by the caller),
    /// into the item's current version (same id). None when the upload is gone (abandoned,
    /// or its item purged).
    pub async fn complete_vault_upload(
        &self,
        upload: &VaultUpload,
        header: &[u8],
        sha256: &str,
    ) -> Result<Option<VaultVersion>> {
        let now = now_ms();
        let mut tx = self.writer().begin().await?;
        let gone = sqlx::query("DELETE FROM vault_uploads WHERE id = $1")
            .bind(&upload.id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 0;
        if gone {
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO vault_versions \
               (id, item_id, header, payload_offset, blob_size, sha256, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&upload.id)
        .bind(&upload.item_id)
        .bind(header)
        .bind(header.len() as i64)
        .bind(upload.length)
        .bind(sha256)
        .bind(now)
        .bind(&upload.user_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE vault_items SET current_version_id = $1, updated_at = $2, \
               row_version = row_version + 1 WHERE id = $3",
        )
        .bind(&upload.id)
        .bind(now)
        .bind(&upload.item_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(VaultVersion {
            id: upload.id.clone(),
            size: upload.length,
            sha256: sha256.to_string(),
            created_at: now,
            created_by: Some(upload.user_id.clone()),
        }))
    }

    /// An item's versions, oldest first, if the user sees the item.
    pub async fn vault_versions(&self, scope: &Scope, item_id: &str) -> Result<Vec<VaultVersion>> {
        let sql = format!(
            "SELECT v.id, CAST(length(v.header) + v.blob_size - v.payload_offset AS BIGINT) AS size, \
               v.sha256, v.created_at, v.created_by \
             FROM vault_versions v JOIN vault_items t ON t.id = v.item_id \
             WHERE t.id = $3 AND {} ORDER BY v.created_at, v.id",
            visible(1)
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.user_id())
            .bind(scope.team_id())
            .bind(item_id)
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(|r| {
                Ok(VaultVersion {
                    id: r.try_get("id")?,
                    size: r.try_get("size")?,
                    sha256: r.try_get("sha256")?,
                    created_at: r.try_get("created_at")?,
                    created_by: r.try_get("created_by")?,
                })
            })
            .collect()
    }

    /// What serving a version of an item needs (the current one when `version` is None), if
    /// the user sees the item.
    pub async fn vault_version_blob(
        &self,
        scope: &Scope,
        item_id: &str,
        version: Option<&str>,
    ) -> Result<Option<VersionBlob>> {
        let sql = format!(
            "SELECT v.id, v.header, v.payload_offset, v.blob_size, v.sha256 \
             FROM vault_versions v JOIN vault_items t ON t.id = v.item_id \
             WHERE t.id = $3 AND v.id = COALESCE($4, t.current_version_id) AND {}",
            visible(1)
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.user_id())
            .bind(scope.team_id())
            .bind(item_id)
            .bind(version)
            .fetch_optional(self.reader())
            .await?
            .map(|r| {
                Ok(VersionBlob {
                    id: r.try_get("id")?,
                    header: r.try_get("header")?,
                    payload_offset: r.try_get("payload_offset")?,
                    blob_size: r.try_get("blob_size")?,
                    sha256: r.try_get("sha256")?,
                })
            })
            .transpose()
    }

    /// Every version's current header, oldest first, if the user sees the item.
    pub async fn vault_headers(
        &self,
        scope: &Scope,
        item_id: &str,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let sql = format!(
            "SELECT v.id, v.header FROM vault_versions v JOIN vault_items t ON t.id = v.item_id \
             WHERE t.id = $3 AND {} ORDER BY v.created_at, v.id",
            visible(1)
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.user_id())
            .bind(scope.team_id())
            .bind(item_id)
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("header")?)))
            .collect()
    }

    /// Shares or unshares: sets the recipients (the acting user always stays one), the
    /// metadata and every version's header, at `row_version`, all or nothing.
    pub async fn share_vault_item(
        &self,
        scope: &Scope,
        item_id: &str,
        recipients: &[String],
        meta: &[u8],
        headers: &[(String, Vec<u8>)],
        row_version: i64,
    ) -> Result<Share> {
        let mut tx = self.writer().begin().await?;
        let Some(current) = locked_row_version(&mut tx, scope, item_id, true).await? else {
            return Ok(Share::Write(ItemWrite::NotFound));
        };
        if current != row_version {
            return Ok(Share::Write(ItemWrite::Stale { current }));
        }
        let stored: HashSet<String> =
            sqlx::query("SELECT id FROM vault_versions WHERE item_id = $1")
                .bind(item_id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<std::result::Result<_, _>>()?;
        let sent: HashSet<String> = headers.iter().map(|(id, _)| id.clone()).collect();
        if stored != sent || sent.len() != headers.len() {
            return Ok(Share::VersionsDiffer);
        }
        for (id, header) in headers {
            sqlx::query("UPDATE vault_versions SET header = $1 WHERE id = $2 AND item_id = $3")
                .bind(header)
                .bind(id)
                .bind(item_id)
                .execute(&mut *tx)
                .await?;
        }
        set_recipients(&mut tx, item_id, scope.user_id(), recipients).await?;
        sqlx::query(
            "UPDATE vault_items SET meta = $1, updated_at = $2, row_version = row_version + 1 \
             WHERE id = $3",
        )
        .bind(meta)
        .bind(now_ms())
        .bind(item_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Share::Write(self.item_write_result(scope, item_id).await?))
    }

    /// Every version id (blob names), for publishing at start the files a crash left behind.
    pub async fn vault_version_ids(&self) -> Result<HashSet<String>> {
        sqlx::query("SELECT id FROM vault_versions")
            .fetch_all(self.writer())
            .await?
            .iter()
            .map(|r| Ok(r.try_get("id")?))
            .collect()
    }

    /// Every version id (blob names) and upload id (partial file names), for the sweep that
    /// removes files nothing refers to.
    pub async fn vault_file_names(&self) -> Result<HashSet<String>> {
        sqlx::query("SELECT id FROM vault_versions UNION ALL SELECT id FROM vault_uploads")
            .fetch_all(self.writer())
            .await?
            .iter()
            .map(|r| Ok(r.try_get("id")?))
            .collect()
    }
}
