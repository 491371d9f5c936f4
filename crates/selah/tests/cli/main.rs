//! Process-level tests: the real `selah` binary, started as a child process with its own
//! temporary data directory (and, for `serve`, a free port), driven over HTTP and with signals.

mod audit;
mod basics;
mod chat_crash;
mod common;
mod docs_crash;
mod doctor;
mod durability;
mod healthcheck;
mod lifecycle;
mod live_crash;
mod logs;
mod models;
mod secrets;
mod user;
mod vault;
mod vault_crash;
mod vault_local;
mod vault_privacy;
#[path = "../../../selah-server/tests/api/ws_client.rs"]
mod ws_client;
#[path = "../../../selah-server/tests/api/yjs_harness.rs"]
mod yjs_harness;
