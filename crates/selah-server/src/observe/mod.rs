//! Observability and request hygiene: client identification, metrics, health, rate limiting
//! and the middleware stack.

pub mod client;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod rate_limit;
