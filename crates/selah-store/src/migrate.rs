//! Embedded schema migrations, one SQL file per version and backend.
//!
//! All pending migrations run in one transaction: either the database moves to the new version
//! or it stays as it was. A database at a newer version than this binary knows is refused
//! (starting would risk writing rows an older schema misreads). Before an existing SQLite file
//! is migrated, a consistent copy (`VACUUM INTO`) is written to `<data_dir>/backups/`.

use std::path::Path;

use sqlx::{AssertSqlSafe, Executor, Row};

use crate::{Backend, Result, Store, StoreError, now_ms};

#[derive(Clone, Copy)]
struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

macro_rules! migration {
    ($v:literal, $name:literal) => {
        Migration {
            version: $v,
            name: $name,
            sqlite: include_str!(concat!("../migrations/sqlite/", $name, ".sql")),
            postgres: include_str!(concat!("../migrations/postgres/", $name, ".sql")),
        }
    };
}

const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_foundation"),
    migration!(2, "0002_ai_runtime"),
    migration!(3, "0003_chat"),
    migration!(4, "0004_documents"),
    migration!(5, "0005_fulltext_in_memory"),
    migration!(6, "0006_vault_identity"),
    migration!(7, "0007_vault_items"),
    migration!(8, "0008_live"),
    migration!(9, "0009_live_attendance"),
];

/// The newest schema version this binary knows.
pub const MIGRATIONS_KNOWN: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// What [`run`] did.
#[derive(Debug, Clone, Default)]
pub struct MigrationReport {
    /// Schema version before.
    pub from: i64,
    /// Schema version after.
    pub to: i64,
    /// Where the pre-migration copy went, if one was made.
    pub backup: Option<std::path::PathBuf>,
}

pub(crate) async fn run(store: &Store, data_dir: &Path) -> Result<MigrationReport> {
    run_with(store, data_dir, MIGRATIONS).await
}

/// [`run`] over a given migration list (the real one, or a longer one in tests to simulate an
/// upgrade).
async fn run_with(
    store: &Store,
    data_dir: &Path,
    migrations: &[Migration],
) -> Result<MigrationReport> {
    let known = migrations.last().map_or(0, |m| m.version);
    let pool = store.writer();
    pool.execute(
        "CREATE TABLE IF NOT EXISTS selah_schema (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let current: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM selah_schema")
        .fetch_one(pool)
        .await?
        .try_get("v")?;
    if current > known {
        return Err(StoreError::NewerSchema {
            found: current,
            known,
        });
    }
    let pending: Vec<&Migration> = migrations.iter().filter(|m| m.version > current).collect();
    let mut report = MigrationReport {
        from: current,
        to: current,
        backup: None,
    };
    if pending.is_empty() {
        return Ok(report);
    }
    if store.backend() == Backend::Sqlite && current > 0 {
        report.backup = Some(backup_sqlite(store, data_dir, current).await?);
    }

    let mut tx = pool.begin().await?;
    for m in &pending {
        let sql = match store.backend() {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        tx.execute(AssertSqlSafe(sql)).await?;
        sqlx::query("INSERT INTO selah_schema (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.name)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    tx.commit().await?;
    report.to = known;
    Ok(report)
}

impl Store {
    /// The schema version recorded in the database (0 before the first migration); the health
    /// check compares it with [`MIGRATIONS_KNOWN`].
    pub async fn schema_version(&self) -> Result<i64> {
        let v: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM selah_schema")
            .fetch_one(self.reader())
            .await?
            .try_get("v")?;
        Ok(v)
    }
}

async fn backup_sqlite(store: &Store, data_dir: &Path, version: i64) -> Result<std::path::PathBuf> {
    let dir = data_dir.join("backups");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!(
        "selah.db.v{version}.{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S")
    ));
    let target = path.display().to_string().replace('\'', "''");
    store
        .writer()
        .execute(AssertSqlSafe(format!("VACUUM INTO '{target}'")))
        .await?;
    tracing::info!(path = %path.display(), "copied the database aside before migrating");
    Ok(path)
}

/// Test support: sets the recorded schema version, to simulate a database from another release.
#[doc(hidden)]
pub async fn force_schema_version(store: &Store, version: i64) -> Result<()> {
    sqlx::query("INSERT INTO selah_schema (version, name, applied_at) VALUES ($1, 'test', $2)")
        .bind(version)
        .bind(now_ms())
        .execute(store.writer())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The upgrade path, simulated with a second migration: an existing SQLite file is copied to
    //! `<data>/backups/` before migrating, a failing migration leaves the database as it was, and
    //! a newer database is refused. (Migration 1 is not idempotent, so this cannot be simulated
    //! from outside by deleting its `selah_schema` row.)

    use super::*;

    /// The version after the newest real one.
    const NEXT: i64 = MIGRATIONS_KNOWN + 1;

    const V2: Migration = Migration {
        version: NEXT,
        name: "0002_test",
        sqlite: "CREATE TABLE upgrade_probe (id TEXT PRIMARY KEY);",
        postgres: "CREATE TABLE upgrade_probe (id TEXT PRIMARY KEY);",
    };
    const V2_BROKEN: Migration = Migration {
        version: NEXT,
        name: "0002_broken",
        sqlite: "CREATE TABLE upgrade_probe (id TEXT); INSERT INTO no_such_table VALUES (1);",
        postgres: "CREATE TABLE upgrade_probe (id TEXT); INSERT INTO no_such_table VALUES (1);",
    };

    /// The real migrations and one more.
    fn with(next: Migration) -> Vec<Migration> {
        let mut v = MIGRATIONS.to_vec();
        v.push(next);
        v
    }

    async fn version(store: &Store) -> i64 {
        sqlx::query("SELECT MAX(version) AS v FROM selah_schema")
            .fetch_one(store.reader())
            .await
            .unwrap()
            .try_get("v")
            .unwrap()
    }

    async fn table_exists(store: &Store, name: &str) -> bool {
        let n: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM sqlite_master WHERE type='table' AND name=$1")
                .bind(name)
                .fetch_one(store.reader())
                .await
                .unwrap()
                .try_get("n")
                .unwrap();
        n == 1
    }

    #[tokio::test]
    async fn an_existing_sqlite_file_is_copied_aside_before_an_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let (store, first) = Store::open("", dir.path()).await.unwrap();
        assert_eq!((first.from, first.to), (0, MIGRATIONS_KNOWN));
        assert!(first.backup.is_none(), "a new database has nothing to keep");
        sqlx::query("CREATE TABLE marker (v TEXT)")
            .execute(store.writer())
            .await
            .unwrap();
        sqlx::query("INSERT INTO marker (v) VALUES ('before')")
            .execute(store.writer())
            .await
            .unwrap();

        let migrations = with(V2);
        let report = run_with(&store, dir.path(), &migrations).await.unwrap();
        assert_eq!((report.from, report.to), (MIGRATIONS_KNOWN, NEXT));
        assert_eq!(version(&store).await, NEXT);
        assert!(table_exists(&store, "upgrade_probe").await);

        // The copy is in <data>/backups and is the database as it was before the upgrade.
        let backup = report.backup.expect("a copy was made");
        assert_eq!(backup.parent().unwrap(), dir.path().join("backups"));
        let copy = Store::connect_sqlite(&backup).await.unwrap();
        assert_eq!(version(&copy).await, MIGRATIONS_KNOWN);
        assert!(!table_exists(&copy, "upgrade_probe").await);
        let v: String = sqlx::query("SELECT v FROM marker")
            .fetch_one(copy.reader())
            .await
            .unwrap()
            .try_get("v")
            .unwrap();
        assert_eq!(v, "before");

        // Running again changes nothing and copies nothing.
        let again = run_with(&store, dir.path(), &migrations).await.unwrap();
        assert_eq!((again.from, again.to), (NEXT, NEXT));
        assert!(again.backup.is_none());
    }

    #[tokio::test]
    async fn a_failing_migration_leaves_the_database_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open("", dir.path()).await.unwrap();
        let migrations = with(V2_BROKEN);
        assert!(run_with(&store, dir.path(), &migrations).await.is_err());
        assert_eq!(version(&store).await, MIGRATIONS_KNOWN);
        assert!(!table_exists(&store, "upgrade_probe").await);
        // The copy was made before the attempt.
        assert_eq!(
            std::fs::read_dir(dir.path().join("backups"))
                .unwrap()
                .count(),
            1
        );
    }

    #[tokio::test]
    async fn a_newer_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open("", dir.path()).await.unwrap();
        force_schema_version(&store, 999).await.unwrap();
        match run(&store, dir.path()).await {
            Err(StoreError::NewerSchema { found, known }) => {
                assert_eq!((found, known), (999, MIGRATIONS_KNOWN));
            }
            other => panic!("{other:?}"),
        }
    }
}
