//! Background jobs: a registry that capabilities add to, a daily scheduler and on-demand runs
//! (`POST /api/v1/admin/cleanup`).
//!
//! A job implements [`Job`] and is added with [`Jobs::register`]. [`Jobs::run_all`] runs every
//! job in its own task, so one failing (or panicking) job does not stop the others, and records
//! a `job_runs` row per job with its duration and statistics or error. Runs never overlap: a
//! scheduled run and an on-demand one take turns.
//!
//! Jobs now: `temp_files`, `expired_sessions`, `audit_archive`, `chat_archive`,
//! `orphan_embeddings` (registered by the documents capability, `docs/orphans.rs`) and
//! `vault_cleanup` (registered by the vault, `vault/cleanup.rs`).

mod builtin;
mod chat_archive;
pub mod health;
mod scheduler;
mod temp_files;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use selah_core::Config;
use selah_core::health::Status;
use selah_store::Store;
use serde::Serialize;
use utoipa::ToSchema;

pub use builtin::{AuditArchive, ExpiredSessions};
pub use chat_archive::ChatArchive;
pub use temp_files::TempFiles;

/// A job's statistics: a JSON object such as `{"removed": 3, "bytes": 1024}`.
pub type JobStats = serde_json::Map<String, serde_json::Value>;

/// The future a job returns.
pub type JobFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<JobStats>> + Send + 'a>>;

/// What a job may use.
#[derive(Clone)]
pub struct JobContext {
    /// The database.
    pub store: Store,
    /// Effective configuration.
    pub config: Arc<Config>,
    /// The data directory.
    pub data_dir: PathBuf,
}

/// A unit of background work.
pub trait Job: Send + Sync + 'static {
    /// Stable name (`snake_case`), shown in results and `job_runs`.
    fn name(&self) -> &'static str;
    /// Does the work once and reports what it did.
    fn run<'a>(&'a self, ctx: &'a JobContext) -> JobFuture<'a>;
}

/// The result of one job in a run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobOutcome {
    /// Job name.
    pub name: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// How long it took.
    pub duration_ms: u64,
    /// What it did (empty on failure).
    #[schema(value_type = Object)]
    pub stats: JobStats,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

struct Inner {
    ctx: JobContext,
    jobs: RwLock<Vec<Arc<dyn Job>>>,
    last: Mutex<BTreeMap<String, JobOutcome>>,
    run_lock: tokio::sync::Mutex<()>,
    scheduler: Mutex<Option<tokio::task::JoinHandle<()>>>,
    stop: tokio::sync::watch::Sender<bool>,
}

/// The job registry and scheduler. Cheap to clone.
#[derive(Clone)]
pub struct Jobs(Arc<Inner>);

impl Jobs {
    /// A registry with the built-in jobs, and the daily scheduler started (at `jobs.cleanup_at`
    /// local time). Must be called inside the runtime.
    pub fn new(store: Store, config: &Config, data_dir: &Path) -> Self {
        let jobs = Jobs(Arc::new(Inner {
            ctx: JobContext {
                store,
                config: Arc::new(config.clone()),
                data_dir: data_dir.to_path_buf(),
            },
            jobs: RwLock::new(Vec::new()),
            last: Mutex::new(BTreeMap::new()),
            run_lock: tokio::sync::Mutex::new(()),
            scheduler: Mutex::new(None),
            stop: tokio::sync::watch::Sender::new(false),
        }));
        jobs.register(TempFiles);
        jobs.register(ExpiredSessions);
        jobs.register(AuditArchive);
        jobs.register(ChatArchive);
        let handle = scheduler::start(
            jobs.clone(),
            &config.jobs.cleanup_at,
            jobs.0.stop.subscribe(),
        );
        *jobs.0.scheduler.lock().expect("scheduler lock") = Some(handle);
        jobs
    }

    /// Adds a job (later capabilities add theirs at start-up). Names must be unique.
    pub fn register(&self, job: impl Job) {
        let mut jobs = self.0.jobs.write().expect("jobs lock");
        assert!(
            jobs.iter().all(|j| j.name() != job.name()),
            "job {} registered twice",
            job.name()
        );
        jobs.push(Arc::new(job));
    }

    /// The registered jobs' names, in run order.
    pub fn names(&self) -> Vec<&'static str> {
        let jobs = self.0.jobs.read().expect("jobs lock");
        jobs.iter().map(|j| j.name()).collect()
    }

    /// Runs every job once, in registration order, each isolated from the others' failures,
    /// and records a `job_runs` row for each.
    pub async fn run_all(&self) -> Vec<JobOutcome> {
        let _turn = self.0.run_lock.lock().await;
        let jobs: Vec<Arc<dyn Job>> = self.0.jobs.read().expect("jobs lock").clone();
        let mut outcomes = Vec::with_capacity(jobs.len());
        for job in jobs {
            let outcome = self.run_one(job).await;
            self.0
                .last
                .lock()
                .expect("last lock")
                .insert(outcome.name.clone(), outcome.clone());
            outcomes.push(outcome);
        }
        outcomes
    }

    async fn run_one(&self, job: Arc<dyn Job>) -> JobOutcome {
        let name = job.name();
        let ctx = self.0.ctx.clone();
        let started_at = selah_store::now_ms();
        let clock = Instant::now();
        // Its own task: a panic is caught as a JoinError instead of unwinding into the caller.
        let result = tokio::spawn(async move { job.run(&ctx).await }).await;
        let duration_ms = clock.elapsed().as_millis() as u64;
        let (stats, error) = match result {
            Ok(Ok(stats)) => (stats, None),
            Ok(Err(e)) => (JobStats::new(), Some(format!("{e:#}"))),
            Err(e) if e.is_panic() => (JobStats::new(), Some("the job panicked".to_string())),
            Err(_) => (JobStats::new(), Some("the job was cancelled".to_string())),
        };
        match &error {
            None => {
                tracing::info!(job = name, duration_ms, stats = %serde_json::Value::Object(stats.clone()), "job finished")
            }
            Some(e) => tracing::error!(job = name, duration_ms, error = %e, "job failed"),
        }
        let stats_text = serde_json::Value::Object(stats.clone()).to_string();
        if let Err(e) = self
            .0
            .ctx
            .store
            .record_job_run(
                name,
                started_at,
                selah_store::now_ms(),
                &stats_text,
                error.as_deref(),
            )
            .await
        {
            tracing::error!(job = name, error = %e, "cannot record the job run");
        }
        JobOutcome {
            name: name.to_string(),
            ok: error.is_none(),
            duration_ms,
            stats,
            error,
        }
    }

    /// For the health check: healthy unless the last run of some job failed (degraded) or the
    /// scheduler task died (unhealthy).
    pub fn health(&self) -> (Status, String) {
        let died = !*self.0.stop.borrow()
            && self
                .0
                .scheduler
                .lock()
                .expect("scheduler lock")
                .as_ref()
                .is_none_or(|h| h.is_finished());
        if died {
            return (
                Status::Unhealthy,
                "the job scheduler has stopped; restart Selah".into(),
            );
        }
        let last = self.0.last.lock().expect("last lock");
        let failed: Vec<&str> = last
            .values()
            .filter(|o| !o.ok)
            .map(|o| o.name.as_str())
            .collect();
        if failed.is_empty() {
            let msg = if last.is_empty() {
                "no job has run yet".to_string()
            } else {
                format!("last runs of {} job(s) succeeded", last.len())
            };
            (Status::Healthy, msg)
        } else {
            (
                Status::Degraded,
                format!("last run failed: {}", failed.join(", ")),
            )
        }
    }

    /// Stops the scheduler (at shutdown). A run in progress is finished, not interrupted.
    pub async fn stop(&self) {
        self.0.stop.send_replace(true);
        let handle = self.0.scheduler.lock().expect("scheduler lock").take();
        if let Some(h) = handle {
            let _ = h.await;
        }
        // An on-demand run holds the lock until it has recorded its rows.
        drop(self.0.run_lock.lock().await);
    }
}
