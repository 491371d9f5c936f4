//! Accounts and sessions: first-run setup, passwords, login, sessions and tokens, CSRF,
//! failed-login back-off, step-up (owner: auth).

pub mod backoff;
pub mod routes;
