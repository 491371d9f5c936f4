//! HTTP tests against the real server: one test binary, one module per area.

mod admin_users;
mod audit;
mod auth;
mod chat_sessions;
mod common;
mod jobs;
mod observe;
mod openapi;
mod policy;
mod scope;
mod smoke;
mod team_invitations;
mod teams;
