//! Process-level tests: the real `selah` binary, started as a child process on a free port with
//! a temporary data directory, driven over HTTP and with signals.

mod basics;
mod common;
mod doctor;
mod durability;
mod healthcheck;
mod lifecycle;
mod secrets;
