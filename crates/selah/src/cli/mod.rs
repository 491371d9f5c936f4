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
    }
}
