//! The `background_jobs` health check: degraded when a job's last run failed, unhealthy when
//! the scheduler task has died.

use crate::observe::health::{CheckFuture, CheckResult, HealthCheck};
use crate::state::AppState;

/// Reports [`super::Jobs::health`].
pub struct BackgroundJobsCheck;

impl HealthCheck for BackgroundJobsCheck {
    fn name(&self) -> &str {
        "background_jobs"
    }

    fn check<'a>(&'a self, state: &'a AppState) -> CheckFuture<'a> {
        Box::pin(async move {
            let (status, message) = state.jobs.health();
            CheckResult { status, message }
        })
    }
}
