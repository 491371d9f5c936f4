//! Vault items: files, notes and folders whose names, tags and contents the server cannot read.
//! A row holds opaque ids, times, sizes and the client-encrypted metadata; `vault_recipients`
//! lists the users the item's keys are wrapped to.
//!
//! Every query takes a [`Scope`] and checks inside its SQL (alias `t`) that the acting user is
//! a recipient and, for a team item, a member of the team ([`visible`]); changes additionally
//! need the owner of a personal item or a recipient of a team item ([`manageable`]).

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::scope::Scope;
use crate::{Result, Store, StoreError, new_id, now_ms};

/// An item as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VaultItem {
    /// Opaque id.
    pub id: String,
    /// `file`, `note` or `folder`.
    pub kind: String,
    /// Who made it.
    pub owner_id: String,
    /// Its team; none for a personal item.
    pub team_id: Option<String>,
    /// The folder it is in.
    pub parent_id: Option<String>,
    /// Encrypted metadata (an age file).
    pub meta: Vec<u8>,
    /// Users its keys are wrapped to, sorted.
    pub recipients: Vec<String>,
    /// The current version's file size (header and payload), if it has content.
    pub size: Option<i64>,
    /// The current version.
    pub current_version_id: Option<String>,
    /// Made (ms since the epoch).
    pub created_at: i64,
    /// Last changed.
    pub updated_at: i64,
    /// In the trash since.
    pub trashed_at: Option<i64>,
    /// Counts changes; a change names the version it read.
    pub row_version: i64,
}

/// What a new item is.
#[derive(Debug, Clone)]
pub struct NewItem<'a> {
    /// `file`, `note` or `folder`.
    pub kind: &'a str,
    /// The folder to put it in.
    pub parent_id: Option<&'a str>,
    /// Encrypted metadata.
    pub meta: &'a [u8],
    /// Recipients besides the acting user (who is always one).
    pub recipients: &'a [String],
}

/// The outcome of a change to an item.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemWrite {
    /// Done: the item now.
    Done(Box<VaultItem>),
    /// No such item that the acting user may change in this scope.
    NotFound,
    /// The item changed since the caller read `row_version`.
    Stale {
        /// The stored row version.
        current: i64,
    },
    /// The folder named is not a folder the acting user may put things in here, or it is the
    /// item itself or inside it.
    BadParent,
}

/// Filters for [`Store::vault_items`].
#[derive(Debug, Clone, Default)]
pub struct ItemFilter<'a> {
    /// The trash (the items whose trashing put things there) instead of live items.
    pub trashed: bool,
    /// Only this folder's children (`Some(None)`: the root).
    pub parent_id: Option<Option<&'a str>>,
    /// Items with an id lower than this (the previous page's last id).
    pub before: Option<&'a str>,
    /// At most this many items.
    pub limit: i64,
}

/// Condition: `$u` may see item `t` in the context `$t` (bound at `u` and `u + 1`).
pub(crate) fn visible(u: usize) -> String {
    let t = u + 1;
    format!(
        "(EXISTS (SELECT 1 FROM vault_recipients rv WHERE rv.item_id = t.id AND rv.user_id = ${u}) \
          AND ((${t} IS NULL AND t.team_id IS NULL) \
               OR (${t} IS NOT NULL AND t.team_id = ${t} AND EXISTS \
                   (SELECT 1 FROM team_members m WHERE m.team_id = t.team_id AND m.user_id = ${u}))))"
    )
}

/// Condition: `$u` may change item `t`: visible, and the owner unless it is a team item.
pub(crate) fn manageable(u: usize) -> String {
    format!(
        "({} AND (t.team_id IS NOT NULL OR t.owner_id = ${u}))",
        visible(u)
    )
}

const COLUMNS: &str = "t.id, t.kind, t.owner_id, t.team_id, t.parent_id, t.meta, \
     t.current_version_id, t.created_at, t.updated_at, t.trashed_at, t.row_version, \
     CAST(length(v.header) + v.blob_size - v.payload_offset AS BIGINT) AS size";

/// `SELECT` of the items matching `cond`, one row per item and recipient, items newest first.
fn select_with_recipients(cond: &str, limit: Option<&str>) -> String {
    format!(
        "WITH page AS (SELECT {COLUMNS} FROM vault_items t \
           LEFT JOIN vault_versions v ON v.id = t.current_version_id \
           WHERE {cond} ORDER BY t.id DESC {}) \
         SELECT page.*, r.user_id AS recipient FROM page \
           JOIN vault_recipients r ON r.item_id = page.id ORDER BY page.id DESC, r.user_id",
        limit.unwrap_or("")
    )
}

/// Folds rows of [`select_with_recipients`] into items.
fn fold_items(rows: &[AnyRow]) -> Result<Vec<VaultItem>> {
    let mut items: Vec<VaultItem> = Vec::new();
    for row in rows {
        let id: String = row.try_get("id")?;
        let recipient: String = row.try_get("recipient")?;
        match items.last_mut() {
            Some(last) if last.id == id => last.recipients.push(recipient),
            _ => items.push(VaultItem {
                id,
                kind: row.try_get("kind")?,
                owner_id: row.try_get("owner_id")?,
                team_id: row.try_get("team_id")?,
                parent_id: row.try_get("parent_id")?,
                meta: row.try_get("meta")?,
                recipients: vec![recipient],
                size: row.try_get("size")?,
                current_version_id: row.try_get("current_version_id")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
                trashed_at: row.try_get("trashed_at")?,
                row_version: row.try_get("row_version")?,
            }),
        }
    }
    Ok(items)
}

impl Store {
    /// Creates an item in the scope, with the acting user and `recipients` as recipients.
    /// [`ItemWrite::BadParent`] when the parent is not a live folder the user may change in the
    /// same scope.
    pub async fn create_vault_item(&self, scope: &Scope, new: &NewItem<'_>) -> Result<ItemWrite> {
        let (user, team) = (scope.user_id(), scope.team_id());
        let mut tx = self.writer().begin().await?;
        if let Some(parent) = new.parent_id
            && !parent_ok(&mut tx, scope, parent, None).await?
        {
            return Ok(ItemWrite::BadParent);
        }
        let id = new_id();
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO vault_items (id, owner_id, team_id, kind, parent_id, meta, \
               created_at, updated_at, row_version) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $7, 1 WHERE $3 IS NULL \
               OR EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = $3 AND m.user_id = $2)",
        )
        .bind(&id)
        .bind(user)
        .bind(team)
        .bind(new.kind)
        .bind(new.parent_id)
        .bind(new.meta)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_sqlx)?
        .rows_affected();
        if inserted == 0 {
            return Ok(ItemWrite::NotFound);
        }
        set_recipients(&mut tx, &id, user, new.recipients).await?;
        tx.commit().await?;
        Ok(match self.vault_item(scope, &id).await? {
            Some(item) => ItemWrite::Done(Box::new(item)),
            None => ItemWrite::NotFound,
        })
    }

    /// The items the acting user sees in the scope, newest first. One query.
    pub async fn vault_items(&self, scope: &Scope, f: &ItemFilter<'_>) -> Result<Vec<VaultItem>> {
        let mut cond = visible(1);
        cond.push_str(if f.trashed {
            " AND t.trashed_at IS NOT NULL AND t.trash_root = t.id"
        } else {
            " AND t.trashed_at IS NULL"
        });
        match f.parent_id {
            Some(Some(_)) => cond.push_str(" AND t.parent_id = $3"),
            Some(None) => cond.push_str(" AND t.parent_id IS NULL AND $3 IS NULL"),
            None => cond.push_str(" AND $3 IS NULL"),
        }
        cond.push_str(" AND ($4 IS NULL OR t.id < $4)");
        let sql = select_with_recipients(&cond, Some("LIMIT $5"));
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.user_id())
            .bind(scope.team_id())
            .bind(f.parent_id.flatten())
            .bind(f.before)
            .bind(f.limit)
            .fetch_all(self.reader())
            .await?;
        fold_items(&rows)
    }

    /// One item the acting user sees in the scope (live or trashed).
    pub async fn vault_item(&self, scope: &Scope, id: &str) -> Result<Option<VaultItem>> {
        let sql = select_with_recipients(&format!("t.id = $3 AND {}", visible(1)), None);
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.user_id())
            .bind(scope.team_id())
            .bind(id)
            .fetch_all(self.reader())
            .await?;
        Ok(fold_items(&rows)?.pop())
    }

    /// Whether the acting user may change the item (see [`manageable`]).
    pub async fn vault_item_manageable(&self, scope: &Scope, id: &str) -> Result<bool> {
        let sql = format!(
            "SELECT 1 FROM vault_items t WHERE t.id = $3 AND {}",
            manageable(1)
        );
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.user_id())
            .bind(scope.team_id())
            .bind(id)
            .fetch_optional(self.reader())
            .await?
            .is_some())
    }

    /// Renames/retags (new `meta`) and/or moves (`parent`: `Some(None)` is the root) a live item
    /// at `row_version`.
    pub async fn update_vault_item(
        &self,
        scope: &Scope,
        id: &str,
        meta: Option<&[u8]>,
        parent: Option<Option<&str>>,
        row_version: i64,
    ) -> Result<ItemWrite> {
        let mut tx = self.writer().begin().await?;
        if parent.is_some() {
            lock_moves(&mut tx, scope).await?;
        }
        let Some(current) = locked_row_version(&mut tx, scope, id, true).await? else {
            return Ok(ItemWrite::NotFound);
        };
        if current != row_version {
            return Ok(ItemWrite::Stale { current });
        }
        if let Some(Some(p)) = parent
            && !parent_ok(&mut tx, scope, p, Some(id)).await?
        {
            return Ok(ItemWrite::BadParent);
        }
        sqlx::query(
            "UPDATE vault_items SET meta = COALESCE($1, meta), \
               parent_id = CASE WHEN $2 = 1 THEN $3 ELSE parent_id END, \
               updated_at = $4, row_version = row_version + 1 WHERE id = $5",
        )
        .bind(meta)
        .bind(i64::from(parent.is_some()))
        .bind(parent.flatten())
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.item_write_result(scope, id).await
    }

    /// Moves a live item and everything under it to the trash. False when there is no such
    /// live item the user may change.
    pub async fn trash_vault_item(&self, scope: &Scope, id: &str) -> Result<bool> {
        let mut tx = self.writer().begin().await?;
        if locked_row_version(&mut tx, scope, id, true)
            .await?
            .is_none()
        {
            return Ok(false);
        }
        sqlx::query(
            "WITH RECURSIVE sub(id) AS (SELECT CAST($1 AS TEXT) \
               UNION ALL SELECT i.id FROM vault_items i JOIN sub ON i.parent_id = sub.id) \
             UPDATE vault_items SET trashed_at = $2, trash_root = $1, \
               row_version = row_version + 1 \
             WHERE id IN (SELECT id FROM sub) AND trashed_at IS NULL",
        )
        .bind(id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Brings back what trashing `id` moved to the trash; to the root if its folder is itself
    /// in the trash or gone. False when `id` is not the root of a trashing the user may undo.
    pub async fn restore_vault_item(&self, scope: &Scope, id: &str) -> Result<bool> {
        let mut tx = self.writer().begin().await?;
        let sql = format!(
            "SELECT t.parent_id FROM vault_items t WHERE t.id = $3 AND t.trash_root = t.id AND {}",
            manageable(1)
        );
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.user_id())
            .bind(scope.team_id())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(false);
        };
        let parent: Option<String> = row.try_get("parent_id")?;
        if let Some(p) = parent {
            let live =
                sqlx::query("SELECT 1 FROM vault_items WHERE id = $1 AND trashed_at IS NULL")
                    .bind(&p)
                    .fetch_optional(&mut *tx)
                    .await?
                    .is_some();
            if !live {
                sqlx::query("UPDATE vault_items SET parent_id = NULL WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query(
            "UPDATE vault_items SET trashed_at = NULL, trash_root = NULL, updated_at = $2, \
               row_version = row_version + 1 WHERE trash_root = $1",
        )
        .bind(id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes an item, its subtree, versions, recipients and uploads. Returns the ids of the
    /// versions and uploads deleted (their blob and partial files are the caller's to remove),
    /// or None when there is no such item the user may change.
    pub async fn purge_vault_item(&self, scope: &Scope, id: &str) -> Result<Option<Purged>> {
        let mut tx = self.writer().begin().await?;
        if locked_row_version(&mut tx, scope, id, false)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let purged = purge_subtrees(&mut tx, &[id.to_string()]).await?;
        tx.commit().await?;
        Ok(Some(purged))
    }

    /// Purges every trashing done before `before` (the cleanup job). Items only.
    pub async fn purge_vault_trash(&self, before: i64) -> Result<Purged> {
        let mut tx = self.writer().begin().await?;
        let roots: Vec<String> = sqlx::query(
            "SELECT id FROM vault_items WHERE trash_root = id AND trashed_at < $1 LIMIT 1000",
        )
        .bind(before)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<std::result::Result<_, _>>()?;
        let purged = purge_subtrees(&mut tx, &roots).await?;
        tx.commit().await?;
        Ok(purged)
    }

    pub(crate) async fn item_write_result(&self, scope: &Scope, id: &str) -> Result<ItemWrite> {
        // The writer's view: the change just committed must be in it.
        let sql = select_with_recipients(&format!("t.id = $3 AND {}", visible(1)), None);
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.user_id())
            .bind(scope.team_id())
            .bind(id)
            .fetch_all(self.writer())
            .await?;
        Ok(match fold_items(&rows)?.pop() {
            Some(item) => ItemWrite::Done(Box::new(item)),
            None => ItemWrite::NotFound,
        })
    }
}

/// What a purge deleted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Purged {
    /// Items deleted.
    pub items: u64,
    /// Their versions (blob names).
    pub versions: Vec<String>,
    /// Their uploads in progress (partial file names).
    pub uploads: Vec<String>,
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// The row version of an item the user may change, read inside the writing transaction (on
/// PostgreSQL the row is locked until it ends). `live_only`: not in the trash.
pub(crate) async fn locked_row_version(
    tx: &mut Tx<'_>,
    scope: &Scope,
    id: &str,
    live_only: bool,
) -> Result<Option<i64>> {
    let live = if live_only {
        " AND t.trashed_at IS NULL"
    } else {
        ""
    };
    // FOR UPDATE is PostgreSQL's; SQLite's single writer connection already serialises.
    let lock = if tx.backend_name() == "PostgreSQL" {
        " FOR UPDATE OF t"
    } else {
        ""
    };
    let sql = format!(
        "SELECT t.row_version FROM vault_items t WHERE t.id = $3{live} AND {}{lock}",
        manageable(1)
    );
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(scope.user_id())
        .bind(scope.team_id())
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.try_get("row_version"))
        .transpose()?)
}

/// Serialises the moves within one vault (a person's, or a team's) until the transaction ends.
/// Two moves can each pass the cycle check alone and close a loop together (A into B while B
/// goes into A; or through longer chains), and on PostgreSQL the pair can also deadlock on the
/// parent's foreign-key lock. Moves are rare, so they wait their turn; the later one then sees
/// the earlier one's result. SQLite's single writer connection serialises them already.
async fn lock_moves(tx: &mut Tx<'_>, scope: &Scope) -> Result<()> {
    if tx.backend_name() != "PostgreSQL" {
        return Ok(());
    }
    let vault = scope.team_id().unwrap_or(scope.user_id());
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(advisory_key("vault-moves", vault))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A stable 64-bit key for an advisory lock (FNV-1a of `kind` and `id`).
fn advisory_key(kind: &str, id: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in kind.bytes().chain([0]).chain(id.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h as i64
}

/// Whether `parent` is a live folder the user may change, in the same scope, and (when moving
/// `moving`) neither that item nor inside it.
async fn parent_ok(
    tx: &mut Tx<'_>,
    scope: &Scope,
    parent: &str,
    moving: Option<&str>,
) -> Result<bool> {
    let sql = format!(
        "SELECT 1 FROM vault_items t WHERE t.id = $3 AND t.kind = 'folder' \
           AND t.trashed_at IS NULL AND {}",
        manageable(1)
    );
    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(scope.user_id())
        .bind(scope.team_id())
        .bind(parent)
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    if !found {
        return Ok(false);
    }
    let Some(moving) = moving else {
        return Ok(true);
    };
    // The new parent's ancestors, itself included, must not contain the item.
    let cycle = sqlx::query(
        "WITH RECURSIVE up(id, parent_id) AS ( \
           SELECT id, parent_id FROM vault_items WHERE id = $1 \
           UNION ALL SELECT i.id, i.parent_id FROM vault_items i JOIN up ON i.id = up.parent_id) \
         SELECT 1 FROM up WHERE id = $2",
    )
    .bind(parent)
    .bind(moving)
    .fetch_optional(&mut **tx)
    .await?
    .is_some();
    Ok(!cycle)
}

/// Replaces an item's recipients with `user` plus `others`.
pub(crate) async fn set_recipients(
    tx: &mut Tx<'_>,
    item: &str,
    user: &str,
    others: &[String],
) -> Result<()> {
    sqlx::query("DELETE FROM vault_recipients WHERE item_id = $1")
        .bind(item)
        .execute(&mut **tx)
        .await?;
    let mut all: Vec<&str> = others.iter().map(String::as_str).collect();
    all.push(user);
    all.sort_unstable();
    all.dedup();
    for r in all {
        sqlx::query("INSERT INTO vault_recipients (item_id, user_id) VALUES ($1, $2)")
            .bind(item)
            .bind(r)
            .execute(&mut **tx)
            .await
            .map_err(StoreError::from_sqlx)?;
    }
    Ok(())
}

/// Deletes the subtrees under `roots` and reports their versions and uploads.
async fn purge_subtrees(tx: &mut Tx<'_>, roots: &[String]) -> Result<Purged> {
    let mut purged = Purged::default();
    for root in roots {
        const SUBTREE: &str = "WITH RECURSIVE sub(id) AS (SELECT CAST($1 AS TEXT) \
               UNION ALL SELECT i.id FROM vault_items i JOIN sub ON i.parent_id = sub.id) ";
        for (table, into) in [
            ("vault_versions", &mut purged.versions),
            ("vault_uploads", &mut purged.uploads),
        ] {
            let sql = format!(
                "{SUBTREE}SELECT x.id FROM {table} x WHERE x.item_id IN (SELECT id FROM sub)"
            );
            for row in sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(root)
                .fetch_all(&mut **tx)
                .await?
            {
                into.push(row.try_get("id")?);
            }
        }
        // Children, versions, recipients and uploads go by ON DELETE CASCADE.
        let n = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SUBTREE}SELECT COUNT(*) AS n FROM sub"
        )))
        .bind(root)
        .fetch_one(&mut **tx)
        .await?
        .try_get::<i64, _>("n")?;
        sqlx::query("DELETE FROM vault_items WHERE id = $1")
            .bind(root)
            .execute(&mut **tx)
            .await?;
        purged.items += n as u64;
    }
    Ok(purged)
}
