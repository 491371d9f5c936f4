//! Selah's domain core: configuration, the permission policy, error codes, the health score
//! and schedules. Pure types and functions, no I/O, so every other crate can depend on it.

pub mod config;
pub mod error;
pub mod health;
pub mod permissions;
pub mod schedule;
pub mod secret;

pub use config::Config;
pub use error::ErrorCode;
pub use permissions::{Effect, Permission, Role, TeamRole};
pub use secret::Secret;
