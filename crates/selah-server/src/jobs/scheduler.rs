//! The daily scheduler: runs every job at a local time of day.
//!
//! The delay is recomputed from the wall clock at least every ten minutes, so daylight-saving
//! changes and clock adjustments correct themselves instead of shifting the run for a day.

use std::time::Duration;

use chrono::Timelike;
use selah_core::schedule::TimeOfDay;
use tokio::sync::watch;

use super::Jobs;

/// Longest single sleep before the wall clock is consulted again.
const RECHECK: Duration = Duration::from_secs(600);

/// Seconds from the local time now until `at`.
fn secs_until(at: TimeOfDay) -> u64 {
    let now = chrono::Local::now();
    u64::from(at.secs_until(now.num_seconds_from_midnight()))
}

/// Starts the task. `at` is `HH:MM` (validated with the configuration; 02:00 if not).
pub(super) fn start(
    jobs: Jobs,
    at: &str,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let at = TimeOfDay::parse(at).unwrap_or_else(|| {
        tracing::warn!(at, "jobs.cleanup_at is not HH:MM; using 02:00");
        TimeOfDay { hour: 2, minute: 0 }
    });
    tokio::spawn(async move {
        loop {
            let wait = Duration::from_secs(secs_until(at));
            let due = wait <= RECHECK;
            tokio::select! {
                _ = tokio::time::sleep(wait.min(RECHECK)) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            if due {
                tracing::info!("running scheduled jobs");
                jobs.run_all().await;
            }
        }
    })
}
