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

/// How long to sleep when it is `now_secs` past local midnight, and whether the jobs are due
/// when that sleep ends (otherwise the clock is consulted again).
fn plan(at: TimeOfDay, now_secs: u32) -> (Duration, bool) {
    let wait = Duration::from_secs(u64::from(at.secs_until(now_secs)));
    (wait.min(RECHECK), wait <= RECHECK)
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
            let (wait, due) = plan(at, chrono::Local::now().num_seconds_from_midnight());
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            if due {
                tracing::info!("running scheduled jobs");
                jobs.run_all().await;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeps_in_bounded_steps_and_runs_at_the_time() {
        let at = TimeOfDay { hour: 2, minute: 0 };
        let h = |h: u32, m: u32, s: u32| h * 3600 + m * 60 + s;
        assert_eq!(plan(at, h(1, 59, 0)), (Duration::from_secs(60), true));
        assert_eq!(plan(at, h(1, 50, 0)), (Duration::from_secs(600), true));
        assert_eq!(plan(at, h(1, 0, 0)), (RECHECK, false));
        // Just run: the next run is a day away, approached in steps.
        assert_eq!(plan(at, h(2, 0, 0)), (RECHECK, false));
        assert_eq!(plan(at, h(23, 59, 59)), (RECHECK, false));
    }
}
