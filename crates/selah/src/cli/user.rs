//! `selah user …` (owner: auth).

use std::process::ExitCode;

use clap::Subcommand;

use crate::settings::GlobalArgs;

/// User management.
#[derive(Subcommand)]
pub enum UserCommand {
    /// List users.
    List,
}

/// Runs the command.
pub async fn run(_g: &GlobalArgs, _cmd: UserCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
