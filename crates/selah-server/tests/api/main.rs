//! HTTP tests against the real server: one test binary, one module per area.

mod common;
mod openapi;
mod smoke;
