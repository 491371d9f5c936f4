//! Log setup: `tracing` events go to stderr and, when `log.to_file` is on, to
//! `<data>/logs/selah.log.YYYY-MM-DD` (a new file each day). `log.format = "json"` makes both
//! outputs JSON lines; `log.level` is the filter, and the `SELAH_LOG` environment variable, when
//! set, replaces it (handy for one debugging run without editing `selah.toml`).
//!
//! What is logged is decided elsewhere: no code logs request headers or bodies, so passwords,
//! tokens, cookies and `Authorization` headers never reach a log (a process test greps the logs
//! to keep it so).

use std::path::Path;

use anyhow::Context;
use selah_core::Config;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Name of the environment variable that overrides `log.level`.
pub const LEVEL_ENV: &str = "SELAH_LOG";

/// File name prefix of the daily log files in `<data>/logs`.
pub const FILE_PREFIX: &str = "selah.log";

/// Keeps the background file writer alive; dropping it flushes what is queued. Hold it until
/// the process is about to exit.
pub struct LogGuard {
    _file: Option<WorkerGuard>,
}

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// One formatting layer writing to `writer`, in the configured format.
fn layer<W>(json: bool, ansi: bool, writer: W) -> BoxedLayer
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let base = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(ansi);
    if json {
        base.json().with_current_span(false).boxed()
    } else {
        base.boxed()
    }
}

/// The level filter: `SELAH_LOG` if set and non-empty, else `log.level`.
fn filter(config: &Config) -> anyhow::Result<EnvFilter> {
    let spec = std::env::var(LEVEL_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| config.log.level.clone());
    EnvFilter::try_new(&spec).with_context(|| format!("log level {spec:?} is not a valid filter"))
}

/// Installs the global subscriber. Call once, early, and keep the guard until exit.
pub fn init(config: &Config, data_dir: &Path) -> anyhow::Result<LogGuard> {
    let json = config.log.format == "json";
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr()) && !json;
    let mut layers: Vec<BoxedLayer> = vec![layer(json, ansi, std::io::stderr)];
    let mut guard = None;
    if config.log.to_file {
        let dir = data_dir.join("logs");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the log directory {}", dir.display()))?;
        let appender = tracing_appender::rolling::RollingFileAppender::builder()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix(FILE_PREFIX)
            .build(&dir)
            .with_context(|| format!("cannot open a log file in {}", dir.display()))?;
        let (writer, g) = tracing_appender::non_blocking(appender);
        layers.push(layer(json, false, writer));
        guard = Some(g);
    }
    tracing_subscriber::registry()
        .with(layers.with_filter(filter(config)?))
        .try_init()
        .context("a log subscriber is already installed")?;
    Ok(LogGuard { _file: guard })
}
