//! Per-IP rate limiting by route class (owner: observability).

use selah_core::Config;

/// The limiter.
pub struct RateLimiter {}

impl RateLimiter {
    /// A limiter for the configuration.
    pub fn new(_config: &Config) -> Self {
        Self {}
    }
}
