//! The health score (LocalForge "Health Score Calculation"): 100, minus 2 points per 1% error
//! rate (at most 30), minus 20 per unhealthy check, minus 10 per degraded check.

use serde::Serialize;
use utoipa::ToSchema;

/// The state of one check, or of the whole service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Working as it should.
    Healthy,
    /// Working, but something needs attention.
    Degraded,
    /// Not working.
    Unhealthy,
}

/// Score at or above which the service is healthy.
pub const HEALTHY_FROM: i32 = 90;
/// Score below which the service is unhealthy even with no unhealthy check.
pub const UNHEALTHY_BELOW: i32 = 50;

/// The score for an error rate (0.0–1.0) and the checks' states, clamped to 0–100.
pub fn score(error_rate: f64, checks: &[Status]) -> i32 {
    let percent = (error_rate.clamp(0.0, 1.0) * 100.0).floor() as i32;
    let mut s = 100 - (2 * percent).min(30);
    for c in checks {
        s -= match c {
            Status::Healthy => 0,
            Status::Degraded => 10,
            Status::Unhealthy => 20,
        };
    }
    s.clamp(0, 100)
}

/// The overall status: unhealthy if any check is unhealthy or the score is very low,
/// healthy from 90, degraded between.
pub fn overall(score: i32, checks: &[Status]) -> Status {
    if checks.contains(&Status::Unhealthy) || score < UNHEALTHY_BELOW {
        Status::Unhealthy
    } else if score >= HEALTHY_FROM {
        Status::Healthy
    } else {
        Status::Degraded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn the_seeds_own_example_21_percent_errors_is_70_degraded() {
        let s = score(0.2125, &[Healthy, Healthy]);
        assert_eq!(s, 70);
        assert_eq!(overall(s, &[Healthy, Healthy]), Degraded);
    }

    #[test]
    fn error_penalty_is_capped_and_checks_subtract() {
        assert_eq!(score(0.0, &[]), 100);
        assert_eq!(score(0.05, &[]), 90);
        assert_eq!(overall(90, &[]), Healthy);
        assert_eq!(score(0.9, &[]), 70);
        assert_eq!(score(0.0, &[Degraded]), 90);
        assert_eq!(score(0.0, &[Unhealthy, Degraded]), 70);
        assert_eq!(overall(80, &[Unhealthy]), Unhealthy);
        assert_eq!(score(1.0, &[Unhealthy; 5]), 0);
    }
}
