//! HTTP tests against the real server: one test binary, one module per area.

mod admin_users;
mod auth;
mod common;
mod observe;
mod openapi;
mod smoke;
