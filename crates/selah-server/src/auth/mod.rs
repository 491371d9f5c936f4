//! Accounts and sessions: first-run setup, passwords, login, sessions and tokens, CSRF,
//! failed-login back-off, step-up.

pub mod account;
pub mod backoff;
pub mod current;
pub mod dto;
pub mod effective;
pub mod login;
pub mod password;
pub mod routes;
pub mod security;
pub mod setup;
pub mod token;

pub use current::{AuthVia, CurrentUser};
