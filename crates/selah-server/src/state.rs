//! Shared application state handed to every handler.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use selah_core::Config;
use selah_store::Store;

use crate::audit::Audit;
use crate::auth::backoff::LoginGuard;
use crate::jobs::Jobs;
use crate::observe::health::HealthState;
use crate::observe::metrics::Metrics;
use crate::observe::rate_limit::RateLimiter;

/// Cheap-to-clone handle on everything the server shares.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

/// The shared parts.
pub struct Inner {
    /// Effective configuration.
    pub config: Config,
    /// Resolved data directory.
    pub data_dir: PathBuf,
    /// Database.
    pub store: Store,
    /// Audit log writer.
    pub audit: Audit,
    /// Request and process metrics.
    pub metrics: Metrics,
    /// Per-IP request limits.
    pub limiter: RateLimiter,
    /// Failed-login back-off per account and IP.
    pub login_guard: LoginGuard,
    /// Job scheduler and registry.
    pub jobs: Jobs,
    /// Cached health report.
    pub health: HealthState,
    /// Chat replies being written, one per session.
    pub replies: crate::chat_sessions::reply::Replies,
    /// The AI runtime: models, engine, queues, hot slots, remote backends.
    pub ai: Arc<selah_ai::Runtime>,
    /// Documents: embedding model, vector index, ingestion worker's wake-up.
    pub docs: Arc<crate::docs::Library>,
    /// Live sessions: rooms, connections, documents.
    pub live: Arc<crate::live::Live>,
    /// The vault's files and uploads in progress.
    pub vault: Arc<crate::vault::Vault>,
    /// When the process started serving.
    pub started: Instant,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
