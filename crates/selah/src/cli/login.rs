//! `selah login` (owner: auth).

use std::process::ExitCode;

use clap::Args;

/// Flags for login.
#[derive(Args)]
pub struct LoginArgs {}

/// Runs the command.
pub async fn run(_args: LoginArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
