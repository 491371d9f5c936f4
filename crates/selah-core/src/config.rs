//! Selah's configuration: defaults, then `selah.toml`, then environment variables
//! (`CUSTOM_PORT`, `WATCHDOG_ENABLED`, `HEALTH_CHECK_ENABLED`, then `SELAH_*`), then flags.
//!
//! Layers merge as TOML values, so one mechanism serves the file, the environment and flags,
//! and any key the defaults do not have is reported as unknown. Reading the file and the
//! environment is the caller's job: this module is pure.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use toml::Value;

use crate::secret::Secret;

/// The whole configuration. Every field has a default; see [`Config::default_toml`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub bind: String,
    /// Where Selah keeps its database, logs, temporary files and blobs. Empty: `$XDG_DATA_HOME/selah`.
    pub data_dir: PathBuf,
    /// Empty: SQLite at `<data_dir>/selah.db`. A `postgres://` URL selects PostgreSQL.
    pub database_url: Secret,
    /// Logging.
    pub log: LogConfig,
    /// HTTP surface.
    pub http: HttpConfig,
    /// Accounts and sessions.
    pub auth: AuthConfig,
    /// Request rate limits.
    pub rate_limit: RateLimitConfig,
    /// Scheduled jobs.
    pub jobs: JobsConfig,
    /// Health checks.
    pub health: HealthConfig,
    /// Audit log.
    pub audit: AuditConfig,
    /// Service supervision.
    pub watchdog: WatchdogConfig,
    /// Local AI: models, engine, hot slots, queue, remote backends.
    pub ai: AiConfig,
    /// Documents and search.
    pub docs: DocsConfig,
    /// The end-to-end encrypted vault.
    pub vault: VaultConfig,
    /// Live sessions: the WebSocket hub.
    pub live: LiveConfig,
}

/// Logging settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A `tracing` filter such as `info` or `selah=debug,info`.
    pub level: String,
    /// `text` or `json`.
    pub format: String,
    /// Also write logs to `<data_dir>/logs`, rotated daily.
    pub to_file: bool,
}

/// HTTP settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Largest request body accepted by ordinary JSON endpoints, in bytes.
    pub max_body_bytes: u64,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub shutdown_grace_secs: u64,
    /// Proxies whose `X-Forwarded-For` is believed (IP addresses). Empty: none.
    pub trusted_proxies: Vec<String>,
    /// Origins allowed by CORS. Empty: CORS off (same-origin only).
    pub cors_origins: Vec<String>,
}

/// Account and session settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// A session unused for this long expires.
    pub session_idle_secs: u64,
    /// A session expires this long after login, used or not.
    pub session_absolute_secs: u64,
    /// Shortest password accepted.
    pub min_password_len: usize,
    /// Mark the session cookie `Secure` (set when Selah is served over HTTPS).
    pub secure_cookie: bool,
    /// Failed logins (per account or per IP) before back-off starts.
    pub lockout_threshold: u32,
    /// Longest back-off after repeated failures.
    pub lockout_max_secs: u64,
    /// How long a founder's password re-entry (step-up) stays valid.
    pub step_up_secs: u64,
    /// How long a team invitation code stays valid.
    pub invitation_ttl_secs: u64,
    /// Wrong guesses before an invitation code is burnt.
    pub invitation_max_attempts: u32,
}

/// Rate limits per client IP and route class.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Turn rate limiting on or off.
    pub enabled: bool,
    /// Requests per minute per IP for ordinary routes (the seed's 100).
    pub per_minute: u32,
    /// Requests per minute per IP for login, setup and invitation redemption.
    pub auth_per_minute: u32,
}

/// Scheduled job settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Local time of day (`HH:MM`) at which the cleanup jobs run.
    pub cleanup_at: String,
    /// Temporary files older than this many days are removed.
    pub temp_max_age_days: u64,
    /// Audit records older than this many days are archived to a compressed file.
    pub audit_retention_days: u64,
}

/// Health check settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HealthConfig {
    /// Run the checks periodically in the background (`HEALTH_CHECK_ENABLED`).
    pub enabled: bool,
    /// Seconds between periodic checks.
    pub interval_secs: u64,
    /// Width of the sliding window for the error rate, in seconds.
    pub error_window_secs: u64,
    /// Free disk below this (MiB) makes the disk check degraded; below a tenth of it, unhealthy.
    pub min_free_disk_mb: u64,
}

/// Audit log settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Events waiting to be written before callers wait (back-pressure, never loss).
    pub queue_capacity: usize,
}

/// Supervision settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WatchdogConfig {
    /// Send systemd `sd_notify` readiness and watchdog pings (`WATCHDOG_ENABLED`).
    pub enabled: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:5000".into(),
            data_dir: PathBuf::new(),
            database_url: Secret::default(),
            log: LogConfig::default(),
            http: HttpConfig::default(),
            auth: AuthConfig::default(),
            rate_limit: RateLimitConfig::default(),
            jobs: JobsConfig::default(),
            health: HealthConfig::default(),
            audit: AuditConfig::default(),
            watchdog: WatchdogConfig::default(),
            ai: AiConfig::default(),
            docs: DocsConfig::default(),
            vault: VaultConfig::default(),
            live: LiveConfig::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: "text".into(),
            to_file: true,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            shutdown_grace_secs: 10,
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_idle_secs: 3600,
            session_absolute_secs: 7 * 24 * 3600,
            min_password_len: 12,
            secure_cookie: false,
            lockout_threshold: 5,
            lockout_max_secs: 900,
            step_up_secs: 300,
            invitation_ttl_secs: 48 * 3600,
            invitation_max_attempts: 5,
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            per_minute: 100,
            auth_per_minute: 20,
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            cleanup_at: "02:00".into(),
            temp_max_age_days: 7,
            audit_retention_days: 365,
        }
    }
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_secs: 15,
            error_window_secs: 300,
            min_free_disk_mb: 1024,
        }
    }
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 4096,
        }
    }
}

/// Local AI settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AiConfig {
    /// Where GGUF models live. Empty: `<data_dir>/models`.
    pub models_dir: PathBuf,
    /// The model new chats use (a model id such as `local:SmolLM2-135M-Instruct.Q4_1`). Empty:
    /// the first local model.
    pub default_model: String,
    /// Ollama's model store to list read-only. Empty: `$OLLAMA_MODELS`, else `~/.ollama/models`.
    pub ollama_models_dir: PathBuf,
    /// Threads the embedded engine uses per model. 0: one less than the number of cores (1 to 8),
    /// leaving a core to the server: llama.cpp's spinning threads stall when they compete.
    pub threads: u32,
    /// Threads for batches of several tokens (prompts, several conversations at once). 0: every
    /// core (1 to 16). llama.cpp uses `threads` for a one-token step and these for larger ones:
    /// a big batch has enough work per barrier that all cores pay off.
    pub batch_threads: u32,
    /// Context window for loaded models (tokens; capped by the model's own). 0: the model's own.
    pub context_size: u32,
    /// Sequences a loaded model decodes together (continuous batching).
    pub max_sequences: u32,
    /// Whether a finished conversation's computed prompt is kept for the next prompt that
    /// starts the same way (the conversation's next turn, a shared system prompt). Off, every
    /// prompt is computed whole: slower, but each answer independent of what ran before.
    pub prompt_cache: bool,
    /// Requests waiting per model before new ones are refused with 503.
    pub queue_capacity: u32,
    /// Number of hot slots (models kept loaded).
    pub hot_slots: u32,
    /// Seconds an on-demand model stays loaded after its last use.
    pub keep_alive_secs: u64,
    /// Hard memory budget for all loaded models, as a fraction of total RAM.
    pub memory_budget_fraction: f64,
    /// Tokens reserved for the reply when building a prompt.
    pub reply_reserve_tokens: u32,
    /// Chat sessions idle this many days are archived by the cleanup job.
    pub archive_idle_days: u64,
    /// An Ollama server to use, e.g. `http://127.0.0.1:11434`. Empty: none.
    pub ollama_url: String,
    /// OpenAI-compatible servers, as `name=url` pairs (`lmstudio=http://127.0.0.1:1234/v1`).
    pub openai_backends: Vec<String>,
    /// API key sent to the OpenAI-compatible servers, if they need one.
    pub openai_api_key: Secret,
}

impl Default for AiConfig {
    fn default() -> Self {
        Self {
            models_dir: PathBuf::new(),
            default_model: String::new(),
            ollama_models_dir: PathBuf::new(),
            threads: 0,
            batch_threads: 0,
            context_size: 4096,
            max_sequences: 4,
            prompt_cache: true,
            queue_capacity: 32,
            hot_slots: 4,
            keep_alive_secs: 300,
            memory_budget_fraction: 0.75,
            reply_reserve_tokens: 512,
            archive_idle_days: 90,
            ollama_url: String::new(),
            openai_backends: Vec::new(),
            openai_api_key: Secret::default(),
        }
    }
}

/// Documents and search settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DocsConfig {
    /// Largest document upload, in bytes.
    pub max_upload_bytes: u64,
    /// The sentence-embedding model's directory (a sentence-transformers BERT-family model in
    /// safetensors). Empty: `<models dir>/all-MiniLM-L6-v2`.
    pub embedding_model: PathBuf,
    /// Passage size aimed for, in the embedding model's tokens.
    pub passage_tokens: u32,
    /// Tokens a passage repeats from the end of the one before it.
    pub passage_overlap_tokens: u32,
}

impl Default for DocsConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: 200 * 1024 * 1024,
            embedding_model: PathBuf::new(),
            passage_tokens: 200,
            passage_overlap_tokens: 32,
        }
    }
}

/// Vault settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct VaultConfig {
    /// Largest file, in bytes (ciphertext).
    pub max_file_bytes: u64,
    /// Days an item stays in the trash before the cleanup job purges it.
    pub trash_days: u32,
    /// Hours an unfinished upload is kept after its last byte.
    pub upload_expiry_hours: u32,
    /// Where finished blobs live: empty for `<data>/vault/blobs`, or `s3://bucket/prefix` for
    /// S3-compatible object storage (a team server).
    pub blob_store: String,
    /// The S3 endpoint (`http://127.0.0.1:9000` for a local server); empty for AWS.
    pub s3_endpoint: String,
    /// The S3 region.
    pub s3_region: String,
    /// The S3 access key id.
    pub s3_access_key_id: String,
    /// The S3 secret access key. A secret: never printed.
    pub s3_secret_access_key: Secret,
}

impl Default for VaultConfig {
    fn default() -> Self {
        Self {
            max_file_bytes: 1 << 40,
            trash_days: 30,
            upload_expiry_hours: 24,
            blob_store: String::new(),
            s3_endpoint: String::new(),
            s3_region: "us-east-1".into(),
            s3_access_key_id: String::new(),
            s3_secret_access_key: Secret::default(),
        }
    }
}

/// Live session settings (docs/LIVE.md).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LiveConfig {
    /// Redis, for rooms that span several instances (`redis://127.0.0.1:6379`); empty: this
    /// instance alone. A secret (it may hold a password): never printed.
    pub redis_url: Secret,
    /// Seconds between heartbeat pings; two unanswered pings close the connection.
    pub heartbeat_secs: u64,
    /// Largest JSON message, in bytes.
    pub max_message_bytes: usize,
    /// Largest collaborative-document frame, in bytes.
    pub max_document_bytes: usize,
    /// Messages per second a connection may send (JSON protocol); bursts of twice as many.
    pub messages_per_sec: u32,
    /// Connections one user may hold at once.
    pub max_connections_per_user: usize,
    /// Messages each room keeps for clients resuming after a disconnection.
    pub replay_messages: usize,
    /// Document updates stored before they are compacted into a snapshot.
    pub compact_every: usize,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            redis_url: Secret::default(),
            heartbeat_secs: 15,
            max_message_bytes: 64 * 1024,
            max_document_bytes: 8 * 1024 * 1024,
            messages_per_sec: 20,
            max_connections_per_user: 16,
            replay_messages: 256,
            compact_every: 200,
        }
    }
}

/// Environment variables Selah reads that are not configuration keys (CLI credentials and
/// the seed's variables); they are never reported as unknown.
pub const NON_CONFIG_ENV: &[&str] = &[
    "SELAH_URL",
    "SELAH_TOKEN",
    "SELAH_VAULT_PASSPHRASE",
    "SELAH_VAULT_NEW_PASSPHRASE",
    "SELAH_CONFIG",
    "SELAH_LOG",
];

/// A configuration that loaded, and what was odd about its sources.
#[derive(Debug)]
pub struct Loaded {
    /// The merged configuration.
    pub config: Config,
    /// Human-readable warnings: unknown keys and unknown `SELAH_*` variables.
    pub warnings: Vec<String>,
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML file does not parse.
    #[error("selah.toml is not valid TOML: {0}")]
    Syntax(String),
    /// A value has the wrong type or is out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Merges the layers. `file` is the text of `selah.toml` (if any), `env` the process
    /// environment, `flags` the command-line overrides as dotted keys (`"bind"`, `"log.level"`).
    pub fn load(
        file: Option<&str>,
        env: &BTreeMap<String, String>,
        flags: &[(&str, Value)],
    ) -> Result<Loaded, ConfigError> {
        let defaults = Value::try_from(Config::default()).expect("defaults serialise");
        let mut merged = defaults.clone();
        let mut warnings = Vec::new();

        if let Some(text) = file {
            let parsed: Value =
                toml::from_str(text).map_err(|e| ConfigError::Syntax(e.to_string()))?;
            merge(&mut merged, &defaults, parsed, "", &mut warnings);
        }

        for (key, value) in env_overrides(env, &defaults, &mut warnings)? {
            set_path(&mut merged, &key, value);
        }
        for (key, value) in flags {
            set_path(&mut merged, key, value.clone());
        }

        let config: Config = merged
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
        config.validate()?;
        Ok(Loaded { config, warnings })
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.bind.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::Invalid(format!(
                "bind = {:?} is not an address like 127.0.0.1:5000",
                self.bind
            )));
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err(ConfigError::Invalid(
                "log.format must be \"text\" or \"json\"".into(),
            ));
        }
        if crate::schedule::TimeOfDay::parse(&self.jobs.cleanup_at).is_none() {
            return Err(ConfigError::Invalid("jobs.cleanup_at must be HH:MM".into()));
        }
        let url = self.database_url.expose();
        if !(url.is_empty()
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://")
            || url.starts_with("sqlite:"))
        {
            return Err(ConfigError::Invalid(
                "database_url must be empty, sqlite:PATH or a postgres:// URL".into(),
            ));
        }
        if self.auth.min_password_len < 8 {
            return Err(ConfigError::Invalid(
                "auth.min_password_len must be at least 8".into(),
            ));
        }
        if !(16..=250).contains(&self.docs.passage_tokens)
            || self.docs.passage_overlap_tokens >= self.docs.passage_tokens / 2
        {
            return Err(ConfigError::Invalid(
                "docs.passage_tokens must be 16 to 250 and docs.passage_overlap_tokens less than half of it".into(),
            ));
        }
        let store = self.vault.blob_store.trim();
        if !store.is_empty() && !store.starts_with("s3://") {
            return Err(ConfigError::Invalid(format!(
                "vault.blob_store = {store:?}: leave it empty for the data directory, or give s3://bucket/prefix"
            )));
        }
        let live = &self.live;
        if live.heartbeat_secs == 0
            || live.messages_per_sec == 0
            || live.max_connections_per_user == 0
            || live.replay_messages == 0
            || live.compact_every == 0
            || live.max_message_bytes < 1024
            || live.max_document_bytes < 64 * 1024
        {
            return Err(ConfigError::Invalid(
                "live: heartbeat_secs, messages_per_sec, max_connections_per_user, replay_messages and compact_every must be above 0; max_message_bytes at least 1024 and max_document_bytes at least 65536".into(),
            ));
        }
        let redis = self.live.redis_url.expose().trim();
        if !(redis.is_empty() || redis.starts_with("redis://") || redis.starts_with("rediss://")) {
            return Err(ConfigError::Invalid(
                "live.redis_url must be empty or a redis:// URL".into(),
            ));
        }
        for p in &self.http.trusted_proxies {
            if p.parse::<std::net::IpAddr>().is_err() {
                return Err(ConfigError::Invalid(format!(
                    "http.trusted_proxies: {p:?} is not an IP address"
                )));
            }
        }
        Ok(())
    }

    /// The commented default `selah.toml` printed by `selah config default`.
    pub fn default_toml() -> &'static str {
        include_str!("default_config.toml")
    }
}

/// Overlays `from` onto `into`, warning about keys the defaults do not know.
fn merge(
    into: &mut Value,
    defaults: &Value,
    from: Value,
    prefix: &str,
    warnings: &mut Vec<String>,
) {
    let (Value::Table(into_t), Value::Table(from_t)) = (into, from) else {
        return;
    };
    let Value::Table(def_t) = defaults else {
        return;
    };
    for (k, v) in from_t {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match def_t.get(&k) {
            None => warnings.push(format!("unknown configuration key `{path}` ignored")),
            Some(Value::Table(_)) if v.is_table() => merge(
                into_t.get_mut(&k).expect("present in defaults"),
                &def_t[&k],
                v,
                &path,
                warnings,
            ),
            Some(_) => {
                into_t.insert(k, v);
            }
        }
    }
}

/// Every leaf of the defaults as (dotted path, default value).
fn leaves(v: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    if let Value::Table(t) = v {
        for (k, child) in t {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if child.is_table() {
                leaves(child, &path, out)
            } else {
                out.push((path, child.clone()))
            }
        }
    }
}

/// The environment name of a dotted key: `rate_limit.per_minute` → `SELAH_RATE_LIMIT__PER_MINUTE`.
pub fn env_name(path: &str) -> String {
    format!("SELAH_{}", path.replace('.', "__").to_uppercase())
}

fn env_overrides(
    env: &BTreeMap<String, String>,
    defaults: &Value,
    warnings: &mut Vec<String>,
) -> Result<Vec<(String, Value)>, ConfigError> {
    let mut known = Vec::new();
    leaves(defaults, "", &mut known);
    let mut out = Vec::new();

    // The seed's variables come first so that SELAH_* ones win over them.
    if let Some(port) = env.get("CUSTOM_PORT") {
        let port: u16 = port
            .parse()
            .map_err(|_| ConfigError::Invalid(format!("CUSTOM_PORT={port:?} is not a port")))?;
        let bind = env
            .get("SELAH_BIND")
            .cloned()
            .unwrap_or_else(|| Config::default().bind);
        let host = bind
            .rsplit_once(':')
            .map(|(h, _)| h.to_string())
            .unwrap_or(bind);
        out.push(("bind".into(), Value::String(format!("{host}:{port}"))));
    }
    for (var, key) in [
        ("WATCHDOG_ENABLED", "watchdog.enabled"),
        ("HEALTH_CHECK_ENABLED", "health.enabled"),
    ] {
        if let Some(v) = env.get(var) {
            out.push((key.into(), parse_like(&Value::Boolean(false), v, var)?));
        }
    }

    for (var, raw) in env.iter().filter(|(k, _)| k.starts_with("SELAH_")) {
        if NON_CONFIG_ENV.contains(&var.as_str()) {
            continue;
        }
        match known.iter().find(|(path, _)| env_name(path) == *var) {
            Some((path, default)) => {
                if var == "SELAH_BIND" && env.contains_key("CUSTOM_PORT") {
                    continue; // already combined with CUSTOM_PORT above
                }
                out.push((path.clone(), parse_like(default, raw, var)?))
            }
            None => warnings.push(format!("unknown environment variable `{var}` ignored")),
        }
    }
    Ok(out)
}

/// Parses an environment string as the same TOML type as the default it replaces.
fn parse_like(default: &Value, raw: &str, var: &str) -> Result<Value, ConfigError> {
    let bad = || ConfigError::Invalid(format!("{var}={raw:?} has the wrong type"));
    Ok(match default {
        Value::Boolean(_) => Value::Boolean(match raw.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => true,
            "0" | "false" | "no" | "off" => false,
            _ => return Err(bad()),
        }),
        Value::Integer(_) => Value::Integer(raw.trim().parse().map_err(|_| bad())?),
        Value::Float(_) => Value::Float(raw.trim().parse().map_err(|_| bad())?),
        Value::Array(_) => Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.into()))
                .collect(),
        ),
        _ => Value::String(raw.to_string()),
    })
}

fn set_path(root: &mut Value, dotted: &str, value: Value) {
    let mut cur = root;
    let mut parts = dotted.split('.').peekable();
    while let Some(part) = parts.next() {
        let Value::Table(t) = cur else { return };
        if parts.peek().is_none() {
            t.insert(part.to_string(), value);
            return;
        }
        cur = t
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(Default::default()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_load_and_match_the_seed_port() {
        let l = Config::load(None, &env(&[]), &[]).unwrap();
        assert_eq!(l.config.bind, "127.0.0.1:5000");
        assert!(l.warnings.is_empty());
    }

    #[test]
    fn layers_apply_in_order_file_env_flags() {
        let file =
            "bind = \"127.0.0.1:6000\"\n[log]\nlevel = \"debug\"\n[auth]\nsession_idle_secs = 10\n";
        let e = env(&[
            ("SELAH_LOG__LEVEL", "warn"),
            ("SELAH_AUTH__SECURE_COOKIE", "true"),
        ]);
        let l = Config::load(
            Some(file),
            &e,
            &[("log.level", Value::String("error".into()))],
        )
        .unwrap();
        assert_eq!(l.config.bind, "127.0.0.1:6000");
        assert_eq!(l.config.auth.session_idle_secs, 10);
        assert!(l.config.auth.secure_cookie);
        assert_eq!(l.config.log.level, "error");
    }

    #[test]
    fn custom_port_and_seed_variables() {
        let e = env(&[
            ("CUSTOM_PORT", "5123"),
            ("HEALTH_CHECK_ENABLED", "false"),
            ("WATCHDOG_ENABLED", "1"),
        ]);
        let l = Config::load(None, &e, &[]).unwrap();
        assert_eq!(l.config.bind, "127.0.0.1:5123");
        assert!(!l.config.health.enabled);
        assert!(l.config.watchdog.enabled);
    }

    #[test]
    fn unknown_keys_and_variables_are_warned_about() {
        let file = "colour = \"blue\"\n[log]\nvolume = 11\n";
        let e = env(&[("SELAH_NOPE", "1"), ("SELAH_TOKEN", "x")]);
        let l = Config::load(Some(file), &e, &[]).unwrap();
        assert_eq!(l.warnings.len(), 3, "{:?}", l.warnings);
        assert!(l.warnings.iter().any(|w| w.contains("log.volume")));
        assert!(l.warnings.iter().any(|w| w.contains("SELAH_NOPE")));
    }

    #[test]
    fn bad_values_are_refused_with_the_key_named() {
        let err = Config::load(
            None,
            &env(&[("SELAH_AUTH__SESSION_IDLE_SECS", "soon")]),
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("SELAH_AUTH__SESSION_IDLE_SECS"));
        assert!(Config::load(Some("bind = \"nowhere\""), &env(&[]), &[]).is_err());
        assert!(Config::load(Some("bind = "), &env(&[]), &[]).is_err());
    }

    #[test]
    fn the_printed_default_file_parses_to_the_defaults() {
        let l = Config::load(Some(Config::default_toml()), &env(&[]), &[]).unwrap();
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        assert_eq!(l.config, Config::default());
    }

    #[test]
    fn every_key_has_a_distinct_environment_name() {
        let mut known = Vec::new();
        leaves(&Value::try_from(Config::default()).unwrap(), "", &mut known);
        let mut names: Vec<_> = known.iter().map(|(p, _)| env_name(p)).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), known.len());
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let e = env(&[(
            "SELAH_DATABASE_URL",
            "postgres://selah:hunter2@localhost/selah",
        )]);
        let l = Config::load(None, &e, &[]).unwrap();
        assert!(!format!("{:?}", l.config).contains("hunter2"));
    }
}

#[cfg(test)]
mod readme_tests {
    use super::*;

    /// The README's configuration table names every key and its environment variable.
    #[test]
    fn readme_lists_every_key() {
        let readme = include_str!("../../../README.md");
        let mut known = Vec::new();
        leaves(&Value::try_from(Config::default()).unwrap(), "", &mut known);
        for (path, _) in known {
            assert!(
                readme.contains(&format!("| `{path}` |")),
                "README lacks a row for `{path}`"
            );
            assert!(
                readme.contains(&env_name(&path)),
                "README lacks {}",
                env_name(&path)
            );
        }
    }
}
