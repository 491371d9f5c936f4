//! Request and process metrics (owner: observability).

/// Metrics registry.
#[derive(Default)]
pub struct Metrics {}

impl Metrics {
    /// A fresh registry.
    pub fn new() -> Self {
        Self::default()
    }
}
