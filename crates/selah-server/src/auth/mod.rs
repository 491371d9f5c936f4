//! Accounts and sessions: first-run setup, passwords, login, sessions and tokens, CSRF,
//! failed-login back-off, step-up.

pub mod backoff;
pub mod current;
pub mod password;
pub mod routes;
pub mod token;

pub use current::{AuthVia, CurrentUser};
