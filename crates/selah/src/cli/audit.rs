//! `selah audit …` (owner: audit).

use std::process::ExitCode;

use clap::Subcommand;

use crate::settings::GlobalArgs;

/// Audit tools.
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain.
    Verify,
}

/// Runs the command.
pub async fn run(_g: &GlobalArgs, _cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
