//! Subcommand implementations.

pub mod audit;
pub mod config;
pub mod doctor;
pub mod healthcheck;
pub mod logging;
pub mod login;
pub mod models;
pub mod prompt;
pub mod serve;
pub mod user;
pub mod vault;

use std::process::ExitCode;

use crate::{Cli, Command};

/// Runs the chosen subcommand.
pub async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let g = cli.global;
    match cli.command {
        Command::Serve(args) => serve::run(&g, args).await,
        Command::User(cmd) => user::run(&g, cmd).await,
        Command::Config(cmd) => config::run(cmd),
        Command::Doctor => doctor::run(&g).await,
        Command::Healthcheck(args) => healthcheck::run(&g, args).await,
        Command::Audit(cmd) => audit::run(&g, cmd).await,
        Command::Login(args) => login::run(args).await,
        Command::Models(cmd) => models::run(&g, cmd).await,
        Command::Vault(args) => vault::run(args).await,
    }
}

/// Records an audit event for a change made from the command line (there is no signed-in user:
/// the details say `"via": "cli"`, plus `extra`). A failure is reported, not fatal: the change
/// itself is already made.
pub async fn record_cli_event(
    store: &selah_store::Store,
    event: &str,
    action: &str,
    resource: (&str, &str),
    mut details: serde_json::Value,
) {
    if let Some(d) = details.as_object_mut() {
        d.insert("via".into(), "cli".into());
    }
    let input = selah_store::audit::AuditInput {
        ts: selah_store::now_ms(),
        event_type: event.into(),
        action: action.into(),
        resource_type: Some(resource.0.into()),
        resource_id: Some(resource.1.into()),
        details: Some(details.to_string()),
        user_agent: Some(format!("selah-cli/{}", env!("CARGO_PKG_VERSION"))),
        ..Default::default()
    };
    if let Err(e) = store.append_audit(&[input]).await {
        eprintln!("warning: the change was made but could not be audited: {e}");
    }
}
