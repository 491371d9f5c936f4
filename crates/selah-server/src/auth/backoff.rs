//! Failed-login back-off per account and per IP (owner: auth).

use selah_core::Config;

/// Tracks failures.
pub struct LoginGuard {}

impl LoginGuard {
    /// A guard for the configuration.
    pub fn new(_config: &Config) -> Self {
        Self {}
    }
}
