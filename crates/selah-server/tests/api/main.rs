//! HTTP tests against the real server: one test binary, one module per area.

mod audit;
mod common;
mod jobs;
mod smoke;
