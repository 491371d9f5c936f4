//! The built-in health checks: database, disk space in the data directory, migrations.
//!
//! Messages are for operators reading a public endpoint: they state figures, never paths,
//! URLs or database error text (those go to the log).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use selah_store::MIGRATIONS_KNOWN;

use crate::observe::health::{CheckFuture, CheckResult, HealthCheck, HealthState};
use crate::state::AppState;

/// A database round trip slower than this makes the database check degraded.
pub const SLOW_DATABASE: Duration = Duration::from_millis(250);

const MIB: u64 = 1024 * 1024;

/// Registers the built-in checks.
pub fn register_builtin(health: &HealthState) {
    health.register(DatabaseCheck);
    health.register(DiskCheck);
    health.register(MigrationsCheck);
}

/// Pings the database.
pub struct DatabaseCheck;

impl HealthCheck for DatabaseCheck {
    fn name(&self) -> &str {
        "database"
    }

    fn check<'a>(&'a self, state: &'a AppState) -> CheckFuture<'a> {
        Box::pin(async move {
            let backend = state.store.backend().as_str();
            let started = Instant::now();
            match state.store.ping().await {
                Err(e) => {
                    tracing::error!(error = %e, "database health check failed");
                    CheckResult::unhealthy(format!("{backend} does not answer"))
                }
                Ok(()) => {
                    let took = started.elapsed();
                    let msg = format!("{backend} answered in {:.1} ms", took.as_secs_f64() * 1e3);
                    if took > SLOW_DATABASE {
                        CheckResult::degraded(format!("slow: {msg}"))
                    } else {
                        CheckResult::healthy(msg)
                    }
                }
            }
        })
    }
}

/// Free space on the file system holding the data directory.
pub struct DiskCheck;

impl HealthCheck for DiskCheck {
    fn name(&self) -> &str {
        "disk"
    }

    fn check<'a>(&'a self, state: &'a AppState) -> CheckFuture<'a> {
        Box::pin(async move {
            let dir = state.data_dir.clone();
            let min_mb = state.config.health.min_free_disk_mb;
            // Listing mounts and calling statvfs is blocking file-system work.
            match tokio::task::spawn_blocking(move || free_bytes(&dir)).await {
                Ok(Some(free)) => judge_free_space(free, min_mb),
                _ => CheckResult::degraded("free space could not be determined"),
            }
        })
    }
}

/// Degraded below `min_mb` MiB free, unhealthy below a tenth of it.
pub fn judge_free_space(free_bytes: u64, min_mb: u64) -> CheckResult {
    let min = min_mb.saturating_mul(MIB);
    let msg = format!("{} MiB free (minimum {min_mb} MiB)", free_bytes / MIB);
    if free_bytes < min / 10 {
        CheckResult::unhealthy(msg)
    } else if free_bytes < min {
        CheckResult::degraded(msg)
    } else {
        CheckResult::healthy(msg)
    }
}

/// Available bytes on the mount that holds `dir` (the longest mount point it lies under).
fn free_bytes(dir: &Path) -> Option<u64> {
    let dir: PathBuf = dir.canonicalize().ok()?;
    let disks = sysinfo::Disks::new_with_refreshed_list();
    disks
        .list()
        .iter()
        .filter(|d| dir.starts_with(d.mount_point()))
        .max_by_key(|d| d.mount_point().as_os_str().len())
        .map(|d| d.available_space())
}

/// The schema version matches what this binary knows.
pub struct MigrationsCheck;

impl HealthCheck for MigrationsCheck {
    fn name(&self) -> &str {
        "migrations"
    }

    fn check<'a>(&'a self, state: &'a AppState) -> CheckFuture<'a> {
        Box::pin(async move {
            match state.store.schema_version().await {
                Ok(v) if v == MIGRATIONS_KNOWN => {
                    CheckResult::healthy(format!("schema at version {v}"))
                }
                Ok(v) => CheckResult::unhealthy(format!(
                    "schema at version {v}, this Selah expects {MIGRATIONS_KNOWN}"
                )),
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the schema version");
                    CheckResult::unhealthy("the schema version cannot be read")
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use selah_core::health::Status;

    #[test]
    fn free_space_thresholds() {
        assert_eq!(judge_free_space(2048 * MIB, 1024).status, Status::Healthy);
        assert_eq!(judge_free_space(1023 * MIB, 1024).status, Status::Degraded);
        assert_eq!(judge_free_space(102 * MIB, 1024).status, Status::Unhealthy);
        assert_eq!(
            judge_free_space(5 * MIB, u64::MAX).status,
            Status::Unhealthy
        );
        assert_eq!(
            judge_free_space(1023 * MIB, 1024).message,
            "1023 MiB free (minimum 1024 MiB)"
        );
    }

    #[test]
    fn the_data_directory_has_a_mount() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_bytes(dir.path()).is_some_and(|b| b > 0));
    }
}
