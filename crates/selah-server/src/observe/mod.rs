//! Observability and request hygiene: client identification, metrics, health, rate limiting
//! and the middleware stack.

pub mod checks;
pub mod client;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod process;
pub mod rate_limit;
pub mod routes;
pub mod window;
