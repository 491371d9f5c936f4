//! HTTP tests against the real server: one test binary, one module per area.

mod admin_users;
mod audit;
mod auth;
mod common;
mod jobs;
mod observe;
mod openapi;
mod smoke;
