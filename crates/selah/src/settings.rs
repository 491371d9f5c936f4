//! Loading the configuration for a command: defaults, `selah.toml`, environment, flags.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use selah_core::Config;
use selah_core::config::Loaded;

/// Flags every command accepts.
#[derive(Args, Clone, Default)]
pub struct GlobalArgs {
    /// Path to selah.toml (default: <data-dir>/selah.toml, then ./selah.toml).
    #[arg(long, global = true, env = "SELAH_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory (default: $XDG_DATA_HOME/selah).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL (default: SQLite in the data directory).
    #[arg(long, global = true, hide_env_values = true)]
    pub database_url: Option<String>,
}

/// A loaded configuration with its resolved data directory.
pub struct Settings {
    /// The merged configuration.
    pub config: Config,
    /// Where data lives.
    pub data_dir: PathBuf,
}

/// The default data directory: `$XDG_DATA_HOME/selah`, else `~/.local/share/selah`.
pub fn default_data_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("selah");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/share/selah")
}

impl GlobalArgs {
    /// Loads the configuration, printing warnings about unknown keys and variables to stderr
    /// (and returning them for the log). `extra_flags` are command-specific overrides.
    pub fn load(
        &self,
        extra_flags: &[(&str, toml::Value)],
    ) -> anyhow::Result<(Settings, Vec<String>)> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let mut flags: Vec<(&str, toml::Value)> = extra_flags.to_vec();
        if let Some(d) = &self.data_dir {
            flags.push(("data_dir", toml::Value::String(d.display().to_string())));
        }
        if let Some(u) = &self.database_url {
            flags.push(("database_url", toml::Value::String(u.clone())));
        }

        // The file is looked for where the data directory will be, as far as flags and the
        // environment say before the file is read.
        let early_dir = self
            .data_dir
            .clone()
            .or_else(|| {
                env.get("SELAH_DATA_DIR")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(default_data_dir);
        let path = self.config.clone().or_else(|| {
            [early_dir.join("selah.toml"), PathBuf::from("selah.toml")]
                .into_iter()
                .find(|p| p.is_file())
        });
        let text = match &path {
            Some(p) => Some(
                std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read {}", p.display()))?,
            ),
            None => None,
        };
        let Loaded {
            mut config,
            warnings,
        } = Config::load(text.as_deref(), &env, &flags).map_err(|e| anyhow::anyhow!("{e}"))?;
        for w in &warnings {
            eprintln!("warning: {w}");
        }
        if config.data_dir.as_os_str().is_empty() {
            config.data_dir = default_data_dir();
        }
        let data_dir = config.data_dir.clone();
        Ok((Settings { config, data_dir }, warnings))
    }
}
