//! Selah's storage: SQLite (the default, one file in the data directory) or PostgreSQL (a team
//! server), behind one [`Store`]. Queries are written once in portable SQL (`$1` placeholders,
//! `BIGINT` milliseconds for times, `TEXT` ids, `BIGINT` 0/1 for flags) and run through sqlx's
//! `Any` driver.
//!
//! Storage knows nothing about permissions, but every query for a user's resources takes a
//! [`Scope`] and never returns rows of another scope.

pub mod audit;
pub mod chat_messages;
pub mod chat_preferences;
pub mod chat_sessions;
pub mod documents;
pub mod hot_slots;
pub mod invitations;
pub mod jobs;
pub mod live;
pub mod message_passages;
pub mod migrate;
pub mod passage_texts;
pub mod passages;
pub mod permissions;
pub mod scope;
mod session_cache;
pub mod sessions;
pub mod teams;
#[doc(hidden)]
pub mod testing;
pub mod users;
pub mod vault_identities;
pub mod vault_items;
pub mod vault_versions;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use migrate::{MIGRATIONS_KNOWN, MigrationReport};
pub use scope::Scope;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One file, WAL mode.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The name shown in health checks and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Storage errors. `Display` is safe to log but is never sent to clients as is.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database was written by a newer Selah.
    #[error(
        "the database is at schema version {found}, newer than this Selah knows ({known}); \
         upgrade Selah or restore the copy made before the last upgrade"
    )]
    NewerSchema {
        /// Version in the database.
        found: i64,
        /// Newest version this binary knows.
        known: i64,
    },
    /// A uniqueness or foreign-key constraint refused the write.
    #[error("constraint violated: {0}")]
    Conflict(String),
    /// Anything else from the database.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// Filesystem trouble around the SQLite file.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// Maps unique/foreign-key violations to [`StoreError::Conflict`].
    pub(crate) fn from_sqlx(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && (db.is_unique_violation() || db.is_foreign_key_violation())
        {
            return StoreError::Conflict(db.message().to_string());
        }
        StoreError::Db(e)
    }
}

/// Result alias for store calls.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database handle. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
    sessions: std::sync::Arc<session_cache::SessionCache>,
}

/// Milliseconds since the Unix epoch: the store's one time representation.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A new random, time-ordered id (UUID v7, text).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    ///
    /// `database_url` empty means SQLite at `<data_dir>/selah.db`. Before migrating an existing
    /// SQLite file, a consistent copy is written to `<data_dir>/backups/`.
    pub async fn open(database_url: &str, data_dir: &Path) -> Result<(Self, MigrationReport)> {
        sqlx::any::install_default_drivers();
        let store = if database_url.starts_with("postgres") {
            Self::connect_postgres(database_url).await?
        } else {
            let path = match database_url.strip_prefix("sqlite:") {
                Some(p) => PathBuf::from(p.trim_start_matches("//")),
                None => data_dir.join("selah.db"),
            };
            Self::connect_sqlite(&path).await?
        };
        let report = migrate::run(&store, data_dir).await?;
        Ok((store, report))
    }

    async fn connect_postgres(url: &str) -> Result<Self> {
        let opts = AnyConnectOptions::from_str(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(Self {
            read: pool.clone(),
            write: pool,
            backend: Backend::Postgres,
            sessions: Default::default(),
        })
    }

    async fn connect_sqlite(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let opts = AnyConnectOptions::from_str(&url)?;
        // One writer connection serialises writes inside the process, so transactions never
        // fail with SQLITE_BUSY; readers run in parallel thanks to WAL.
        let write = AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(sqlite_pragmas)
            .connect_with(opts.clone())
            .await?;
        let read = AnyPoolOptions::new()
            .max_connections(8)
            .after_connect(sqlite_pragmas)
            .connect_with(opts)
            .await?;
        Ok(Self {
            read,
            write,
            backend: Backend::Sqlite,
            sessions: Default::default(),
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for queries that only read.
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// The pool for anything that writes (one connection on SQLite).
    pub fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// Round-trips a trivial query; used by the health check.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// Connection pool figures for `/metrics`: (open connections, idle connections).
    pub fn pool_stats(&self) -> (u32, usize) {
        if self.backend == Backend::Sqlite {
            (
                self.read.size() + self.write.size(),
                self.read.num_idle() + self.write.num_idle(),
            )
        } else {
            (self.read.size(), self.read.num_idle())
        }
    }

    /// Waits for in-flight queries and closes every connection (checkpointing the WAL).
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Per-connection settings: WAL (readers never block the writer), NORMAL sync (durable across a
/// process crash, which is what kill -9 is), foreign keys, and a busy timeout for other processes
/// (the CLI) writing at the same time.
fn sqlite_pragmas(
    conn: &mut sqlx::AnyConnection,
    _: sqlx::pool::PoolConnectionMetadata,
) -> BoxFuture<'_, Result<(), sqlx::Error>> {
    Box::pin(async move {
        conn.execute(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
        )
        .await?;
        Ok(())
    })
}
