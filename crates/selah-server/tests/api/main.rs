//! HTTP tests against the real server: one test binary, one module per area.

mod admin_users;
mod ai_support;
mod audit;
mod auth;
mod backends;
mod chat_context;
mod chat_messages;
mod chat_sessions;
mod common;
mod compat;
mod docs;
mod docs_input;
mod docs_relevance;
mod docs_scope;
mod docs_support;
mod engine_status;
mod hot_slots;
mod jobs;
mod models;
mod observe;
mod openapi;
mod policy;
mod scope;
mod smoke;
mod team_invitations;
mod teams;
