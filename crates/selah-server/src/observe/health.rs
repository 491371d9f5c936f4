//! Health checks and the `/health` report.
//!
//! Checks live in a registry so that each capability adds its own: implement [`HealthCheck`]
//! and call [`HealthState::register`] while the server is assembled (`Server::assemble` in
//! `lib.rs` registers the built-in ones from [`crate::observe::checks`]). The jobs module is
//! expected to register its `background_jobs` check there the same way.
//!
//! With `health.enabled` (the default) a background task runs every check each
//! `health.interval_secs` and caches the results; `/health` then serves the cached checks
//! with fresh window figures, so watchdogs polling it do not load the database. With it off,
//! checks run when `/health` is asked.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use selah_core::health::{Status, overall, score};
use serde::Serialize;
use tokio::task::JoinHandle;
use utoipa::ToSchema;

use crate::observe::process::resident_memory_bytes;
use crate::observe::window::WindowSnapshot;
use crate::state::AppState;

/// A check that does not answer within this long is unhealthy.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// What one check found.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    /// Healthy, degraded or unhealthy.
    pub status: Status,
    /// A short sentence for operators. Never secrets or filesystem paths: `/health` is public.
    pub message: String,
}

impl CheckResult {
    /// A healthy result.
    pub fn healthy(message: impl Into<String>) -> Self {
        Self {
            status: Status::Healthy,
            message: message.into(),
        }
    }

    /// A degraded result.
    pub fn degraded(message: impl Into<String>) -> Self {
        Self {
            status: Status::Degraded,
            message: message.into(),
        }
    }

    /// An unhealthy result.
    pub fn unhealthy(message: impl Into<String>) -> Self {
        Self {
            status: Status::Unhealthy,
            message: message.into(),
        }
    }
}

/// The future a check returns (boxed, so the trait stays object-safe without `async-trait`).
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = CheckResult> + Send + 'a>>;

/// One health check.
pub trait HealthCheck: Send + Sync + 'static {
    /// Stable name shown in the report (`database`, `disk`, ...).
    fn name(&self) -> &str;
    /// Runs the check. The registry times it and bounds it by [`CHECK_TIMEOUT`].
    fn check<'a>(&'a self, state: &'a AppState) -> CheckFuture<'a>;
}

/// One check's line in the report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckReport {
    /// Check name.
    pub name: String,
    /// Its state.
    pub status: Status,
    /// What it found.
    pub message: String,
    /// How long it took.
    pub latency_ms: f64,
}

/// Latency percentiles over the error window, in milliseconds (`null` without requests).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LatencyReport {
    /// Median.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
}

/// The body of `GET /health`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HealthReport {
    /// Overall state: unhealthy answers 503.
    pub status: Status,
    /// 0–100: 100, minus 2 per 1% error rate (at most 30), minus 20 per unhealthy and 10 per
    /// degraded check.
    pub score: i32,
    /// Every registered check.
    pub checks: Vec<CheckReport>,
    /// 5xx responses over all requests in the window (0–1).
    pub error_rate: f64,
    /// Requests counted in the window (`/health` and `/metrics` themselves are not).
    pub requests_in_window: u64,
    /// Latency percentiles over the window.
    pub latency_ms: LatencyReport,
    /// Resident memory of the process.
    pub resident_memory_bytes: u64,
    /// Seconds since the server started.
    pub uptime_secs: u64,
    /// Selah's version.
    pub version: String,
}

/// Builds the report from check results and window figures; score and status follow
/// `selah_core::health`.
pub fn build_report(
    checks: Vec<CheckReport>,
    window: &WindowSnapshot,
    resident_memory_bytes: u64,
    uptime_secs: u64,
) -> HealthReport {
    let statuses: Vec<Status> = checks.iter().map(|c| c.status).collect();
    let error_rate = window.error_rate();
    let score = score(error_rate, &statuses);
    HealthReport {
        status: overall(score, &statuses),
        score,
        checks,
        error_rate,
        requests_in_window: window.total,
        latency_ms: LatencyReport {
            p50: window.percentile_ms(0.50),
            p90: window.percentile_ms(0.90),
            p95: window.percentile_ms(0.95),
            p99: window.percentile_ms(0.99),
        },
        resident_memory_bytes,
        uptime_secs,
        version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// The check registry and the cached results.
#[derive(Default)]
pub struct HealthState {
    checks: RwLock<Vec<Arc<dyn HealthCheck>>>,
    cached: RwLock<Option<Arc<Vec<CheckReport>>>>,
    periodic: Mutex<Option<JoinHandle<()>>>,
}

impl HealthState {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a check; it appears in every report from now on.
    pub fn register(&self, check: impl HealthCheck) {
        self.checks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::new(check));
    }

    /// Names of the registered checks, in registration order.
    pub fn check_names(&self) -> Vec<String> {
        let checks = self.checks.read().unwrap_or_else(|p| p.into_inner());
        checks.iter().map(|c| c.name().to_string()).collect()
    }

    /// Runs every check concurrently, each in its own task (a panicking check is reported
    /// unhealthy instead of taking the report down) and bounded by [`CHECK_TIMEOUT`].
    pub async fn run_checks(&self, state: &AppState) -> Vec<CheckReport> {
        let checks: Vec<Arc<dyn HealthCheck>> = self
            .checks
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let tasks: Vec<(String, JoinHandle<(CheckResult, Duration)>)> = checks
            .into_iter()
            .map(|check| {
                let state = state.clone();
                let name = check.name().to_string();
                let task = tokio::spawn(async move {
                    let started = Instant::now();
                    let result = tokio::time::timeout(CHECK_TIMEOUT, check.check(&state))
                        .await
                        .unwrap_or_else(|_| {
                            CheckResult::unhealthy(format!(
                                "did not answer within {} s",
                                CHECK_TIMEOUT.as_secs()
                            ))
                        });
                    (result, started.elapsed())
                });
                (name, task)
            })
            .collect();
        let mut reports = Vec::with_capacity(tasks.len());
        for (name, task) in tasks {
            let (result, took) = task.await.unwrap_or_else(|e| {
                tracing::error!(check = %name, error = %e, "health check failed to run");
                (
                    CheckResult::unhealthy("the check itself failed"),
                    Duration::ZERO,
                )
            });
            reports.push(CheckReport {
                name,
                status: result.status,
                message: result.message,
                latency_ms: took.as_secs_f64() * 1000.0,
            });
        }
        reports
    }

    /// The checks for a report: the cached results when the periodic task has produced some,
    /// otherwise a fresh run.
    pub async fn current_checks(&self, state: &AppState) -> Vec<CheckReport> {
        let cached = self
            .cached
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match cached {
            Some(c) => c.as_ref().clone(),
            None => self.run_checks(state).await,
        }
    }

    /// The full report as `/health` serves it.
    pub async fn report(&self, state: &AppState) -> HealthReport {
        let checks = self.current_checks(state).await;
        build_report(
            checks,
            &state.metrics.window(),
            resident_memory_bytes(),
            state.started.elapsed().as_secs(),
        )
    }

    /// Starts the periodic checks (first run at once). The task holds only a weak reference to
    /// the state, so it ends by itself once the server is gone; [`HealthState::stop`] ends it
    /// at shutdown.
    pub fn start_periodic(&self, state: &AppState) {
        let every = Duration::from_secs(state.config.health.interval_secs.max(1));
        let weak = Arc::downgrade(&state.0);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                let state = AppState(inner);
                let checks = state.health.run_checks(&state).await;
                for c in checks.iter().filter(|c| c.status != Status::Healthy) {
                    tracing::warn!(check = %c.name, status = ?c.status, message = %c.message, "health check not healthy");
                }
                *state
                    .health
                    .cached
                    .write()
                    .unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(checks));
            }
        });
        if let Some(old) = self
            .periodic
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(task)
        {
            old.abort();
        }
    }

    /// Stops the periodic checks.
    pub fn stop(&self) {
        if let Some(task) = self
            .periodic
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::window::ErrorWindow;

    fn check(name: &str, status: Status) -> CheckReport {
        CheckReport {
            name: name.into(),
            status,
            message: String::new(),
            latency_ms: 0.1,
        }
    }

    #[test]
    fn the_seeds_example_21_percent_errors_and_no_failing_check_is_70_degraded() {
        let w = ErrorWindow::new(60);
        for i in 0..100 {
            w.record(10, i < 21, Duration::from_millis(3));
        }
        let checks = vec![
            check("database", Status::Healthy),
            check("disk", Status::Healthy),
            check("migrations", Status::Healthy),
        ];
        let r = build_report(checks, &w.snapshot(10), 1, 2);
        assert!((r.error_rate - 0.21).abs() < 1e-9);
        assert_eq!(r.score, 70);
        assert_eq!(r.status, Status::Degraded);
        assert_eq!(r.requests_in_window, 100);
        assert!(r.latency_ms.p50.is_some_and(|p| p > 2.0 && p <= 3.0));
    }

    #[test]
    fn an_unhealthy_check_makes_the_report_unhealthy() {
        let w = ErrorWindow::new(60);
        let r = build_report(
            vec![
                check("database", Status::Unhealthy),
                check("disk", Status::Healthy),
            ],
            &w.snapshot(0),
            0,
            0,
        );
        assert_eq!((r.score, r.status), (80, Status::Unhealthy));
        assert_eq!(r.requests_in_window, 0);
        assert_eq!(r.latency_ms.p99, None);
        let r = build_report(vec![check("disk", Status::Degraded)], &w.snapshot(0), 0, 0);
        assert_eq!((r.score, r.status), (90, Status::Healthy));
    }
}
