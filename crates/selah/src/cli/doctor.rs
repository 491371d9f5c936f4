//! `selah doctor` (owner: observability).

use std::process::ExitCode;

use crate::settings::GlobalArgs;

/// Runs the checks.
pub async fn run(_g: &GlobalArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
