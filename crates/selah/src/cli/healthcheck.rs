//! `selah healthcheck` (owner: observability).

use std::process::ExitCode;

use clap::Args;

use crate::settings::GlobalArgs;

/// Flags for healthcheck.
#[derive(Args)]
pub struct HealthcheckArgs {}

/// Runs the command.
pub async fn run(_g: &GlobalArgs, _args: HealthcheckArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
