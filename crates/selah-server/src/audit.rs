//! The audit log's write path (owner: audit).

use selah_core::Config;
use selah_store::Store;

/// Handle for recording audit events.
#[derive(Clone)]
pub struct Audit {}

impl Audit {
    /// Starts the writer.
    pub fn start(_store: Store, _config: &Config) -> Self {
        Self {}
    }

    /// Events waiting to be written (reported by `/metrics`). Placeholder until the audit
    /// writer's queue exists (owner: audit).
    pub fn queue_depth(&self) -> usize {
        0
    }

    /// Waits until every queued event is written.
    pub async fn flush_and_stop(&self) {}
}
