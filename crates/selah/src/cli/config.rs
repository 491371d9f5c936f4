//! `selah config default`.

use std::process::ExitCode;

use clap::Subcommand;

/// Configuration helpers.
#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Print a commented selah.toml with every default.
    Default,
}

/// Runs the command.
pub fn run(cmd: ConfigCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ConfigCommand::Default => print!("{}", selah_core::Config::default_toml()),
    }
    Ok(ExitCode::SUCCESS)
}
