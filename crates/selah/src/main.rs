//! `selah`: the server and its command-line tools in one binary.

mod cli;
mod client;
mod settings;

use clap::{Parser, Subcommand};

/// Selah: private AI chat, documents, vault and live sessions on your own machine.
#[derive(Parser)]
#[command(name = "selah", version, about, propagate_version = true)]
pub struct Cli {
    /// Flags shared by every command.
    #[command(flatten)]
    pub global: settings::GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(cli::serve::ServeArgs),
    /// Manage user accounts directly in the database (works while the server runs).
    #[command(subcommand)]
    User(cli::user::UserCommand),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(cli::config::ConfigCommand),
    /// Check the data directory, database, port and disk space, and say how to fix problems.
    Doctor,
    /// Exit 0 when a running server's /health is not unhealthy (for watchdogs and containers).
    Healthcheck(cli::healthcheck::HealthcheckArgs),
    /// Audit log tools.
    #[command(subcommand)]
    Audit(cli::audit::AuditCommand),
    /// Sign in to a Selah server and store the session for later commands.
    Login(cli::login::LoginArgs),
    /// Local models: list, import a GGUF, remove.
    #[command(subcommand)]
    Models(cli::models::ModelsCommand),
    /// The end-to-end encrypted vault: files and notes encrypted on this machine.
    Vault(cli::vault::VaultArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
