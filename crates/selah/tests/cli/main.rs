//! Tests of the `selah` binary: each spawns the real executable with its own data directory.

mod audit;
mod models;
mod user;
