//! Scheduled and on-demand jobs (owner: jobs).

/// The job registry and scheduler.
#[derive(Default)]
pub struct Jobs {}

impl Jobs {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }
}
