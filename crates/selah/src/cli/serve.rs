//! `selah serve`: loads the configuration, sets up logging, runs the server until SIGTERM or
//! SIGINT and exits 0 after a clean stop (non-zero, with the reason logged, otherwise).

use std::process::ExitCode;

use anyhow::Context;

use clap::Args;

use crate::settings::GlobalArgs;

/// Flags for `serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:5000.
    #[arg(long)]
    pub bind: Option<String>,
    /// Port to listen on (keeps the configured host).
    #[arg(long)]
    pub port: Option<u16>,
}

/// Runs the server until SIGTERM or SIGINT.
pub async fn run(g: &GlobalArgs, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut flags = Vec::new();
    if let Some(b) = &args.bind {
        flags.push(("bind", toml::Value::String(b.clone())));
    }
    let (mut settings, warnings) = g.load(&flags)?;
    if let Some(port) = args.port {
        let host = settings
            .config
            .bind
            .rsplit_once(':')
            .map(|(h, _)| h.to_string())
            .unwrap_or_default();
        settings.config.bind = format!("{host}:{port}");
    }
    let shutdown = shutdown_signal()?;
    let _log_guard = crate::cli::logging::init(&settings.config, &settings.data_dir)?;
    for w in warnings {
        tracing::warn!("{w}");
    }
    // Failures are logged (so the log file says why Selah did not start or stopped) rather
    // than returned, which would print them a second time.
    let server = match selah_server::Server::build(settings.config, settings.data_dir).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("cannot start: {e:#}");
            return Ok(ExitCode::FAILURE);
        }
    };
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        addr = %server.local_addr(),
        "Selah is listening on http://{}",
        server.local_addr()
    );
    if let Err(e) = server.run(shutdown).await {
        tracing::error!("stopped on an error: {e:#}");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Registers the SIGTERM and SIGINT handlers now and returns a future that completes on the
/// first of them. Registering before the listener is bound matters: a signal that arrives while
/// the server starts (systemd stopping a unit that is still starting, a test) must lead to a
/// clean stop, not to the default action that kills the process.
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    Ok(async move {
        tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
    })
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
