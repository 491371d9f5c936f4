//! `selah serve`: loads the configuration, sets up logging, runs the server until SIGTERM or
//! SIGINT and exits 0 after a clean stop (non-zero, with the reason logged, otherwise).

use std::process::ExitCode;

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
    if let Err(e) = server.run(shutdown_signal()).await {
        tracing::error!("stopped on an error: {e:#}");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Completes on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
