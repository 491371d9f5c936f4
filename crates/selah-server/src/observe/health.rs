//! Health checks and the `/health` report (owner: observability).

/// Cached health report.
#[derive(Default)]
pub struct HealthState {}

impl HealthState {
    /// Empty state.
    pub fn new() -> Self {
        Self::default()
    }
}
