//! Embedded schema migrations, one SQL file per version and backend.
//!
//! All pending migrations run in one transaction: either the database moves to the new version
//! or it stays as it was. A database at a newer version than this binary knows is refused
//! (starting would risk writing rows an older schema misreads). Before an existing SQLite file
//! is migrated, a consistent copy (`VACUUM INTO`) is written to `<data_dir>/backups/`.

use std::path::Path;

use sqlx::{AssertSqlSafe, Executor, Row};

use crate::{Backend, Result, Store, StoreError, now_ms};

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
    let pool = store.writer();
    pool.execute(
        "CREATE TABLE IF NOT EXISTS selah_schema (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let current: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM selah_schema")
        .fetch_one(pool)
        .await?
        .try_get("v")?;
    if current > MIGRATIONS_KNOWN {
        return Err(StoreError::NewerSchema {
            found: current,
            known: MIGRATIONS_KNOWN,
        });
    }
    let pending: Vec<&Migration> = MIGRATIONS.iter().filter(|m| m.version > current).collect();
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
    report.to = MIGRATIONS_KNOWN;
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
