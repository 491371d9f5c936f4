//! `selah doctor`: checks what a start needs and says how to fix each problem.
//!
//! Checks: the configuration (warnings about unknown keys), the data directory (exists or can be
//! created, and is writable), the database (opens, schema version not newer than this binary),
//! the configured port (free), and free disk space in the data directory. Doctor changes
//! nothing: it opens the database read-only and never migrates it. Exit status 0 when there is
//! no problem (warnings allowed), 1 otherwise.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use selah_core::Config;
use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, ConnectOptions, Connection, Row};

use crate::settings::GlobalArgs;

/// How one check came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Fine; the text says what was found.
    Pass(String),
    /// Works, but deserves attention: (what, fix).
    Warn(String, String),
    /// Will stop Selah from working: (what, fix).
    Fail(String, String),
}

/// One printed line.
struct Check {
    name: &'static str,
    outcome: Outcome,
}

impl Check {
    fn print(&self) {
        match &self.outcome {
            Outcome::Pass(what) => println!("✓ {}: {what}", self.name),
            Outcome::Warn(what, fix) => println!("⚠ {}: {what} — {fix}", self.name),
            Outcome::Fail(what, fix) => println!("✗ {}: {what} — {fix}", self.name),
        }
    }
}

/// Runs the checks, prints one line each and a summary.
pub async fn run(g: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let mut checks = Vec::new();
    let (settings, warnings) = match g.load(&[]) {
        Ok(loaded) => loaded,
        Err(e) => {
            Check {
                name: "config",
                outcome: Outcome::Fail(
                    format!("{e:#}"),
                    "correct selah.toml or the SELAH_* variable named above".into(),
                ),
            }
            .print();
            println!("1 problem found.");
            return Ok(ExitCode::FAILURE);
        }
    };
    if warnings.is_empty() {
        checks.push(Check {
            name: "config",
            outcome: Outcome::Pass("loaded without warnings".into()),
        });
    }
    for w in warnings {
        checks.push(Check {
            name: "config",
            outcome: Outcome::Warn(w, "remove it or correct its spelling".into()),
        });
    }
    let (config, data_dir) = (&settings.config, &settings.data_dir);
    checks.push(Check {
        name: "data directory",
        outcome: data_dir_check(data_dir),
    });
    checks.push(Check {
        name: "database",
        outcome: database_check(config, data_dir).await,
    });
    checks.push(Check {
        name: "port",
        outcome: port_check(&config.bind),
    });
    checks.push(Check {
        name: "disk space",
        outcome: disk_check(data_dir, config.health.min_free_disk_mb),
    });

    for c in &checks {
        c.print();
    }
    let problems = checks
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Fail(..)))
        .count();
    if problems == 0 {
        println!("No problems found.");
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "{problems} problem{} found.",
            if problems == 1 { "" } else { "s" }
        );
        Ok(ExitCode::FAILURE)
    }
}

/// The directory exists and is writable, or its nearest existing ancestor would let Selah
/// create it.
fn data_dir_check(dir: &Path) -> Outcome {
    let fix_perm = format!(
        "make it writable by this user (chown/chmod) or choose another with --data-dir (now {})",
        dir.display()
    );
    if dir.exists() {
        if !dir.is_dir() {
            return Outcome::Fail(
                format!("{} exists but is not a directory", dir.display()),
                "move that file away or choose another --data-dir".into(),
            );
        }
        return match probe_write(dir) {
            Ok(()) => Outcome::Pass(format!("{} is writable", dir.display())),
            Err(e) => Outcome::Fail(format!("{} is not writable ({e})", dir.display()), fix_perm),
        };
    }
    let Some(parent) = nearest_existing(dir) else {
        return Outcome::Fail(
            format!("{} cannot be created (no existing parent)", dir.display()),
            fix_perm,
        );
    };
    if !parent.is_dir() {
        return Outcome::Fail(
            format!(
                "{} cannot be created: {} is a file",
                dir.display(),
                parent.display()
            ),
            "choose another --data-dir".into(),
        );
    }
    match probe_write(&parent) {
        Ok(()) => Outcome::Pass(format!(
            "{} does not exist yet; it will be created at first start",
            dir.display()
        )),
        Err(e) => Outcome::Fail(
            format!(
                "{} cannot be created: {} is not writable ({e})",
                dir.display(),
                parent.display()
            ),
            fix_perm,
        ),
    }
}

/// The path itself or its closest ancestor that exists.
fn nearest_existing(path: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(path).ok()?;
    abs.ancestors().find(|p| p.exists()).map(Path::to_path_buf)
}

/// Creates and removes a file in `dir`.
fn probe_write(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".selah-doctor-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}

/// Opens the database read-only (SQLite) or connects (PostgreSQL) and compares its schema
/// version with the one this binary knows.
async fn database_check(config: &Config, data_dir: &Path) -> Outcome {
    sqlx::any::install_default_drivers();
    let url = config.database_url.expose();
    let postgres = url.starts_with("postgres");
    let (what, conn_url) = if postgres {
        // The URL may carry a password: it is never printed.
        ("PostgreSQL".to_string(), url.to_string())
    } else {
        let path = match url.strip_prefix("sqlite:") {
            Some(p) => PathBuf::from(p.trim_start_matches("//")),
            None => data_dir.join("selah.db"),
        };
        if !path.exists() {
            return Outcome::Pass(format!(
                "no database yet at {}; it will be created at first start",
                path.display()
            ));
        }
        (
            format!("SQLite {}", path.display()),
            format!("sqlite://{}?mode=ro", path.display()),
        )
    };
    let fix_open = if postgres {
        "check that PostgreSQL is running and that database_url is right"
    } else {
        "check the file's permissions, or restore a copy from the backups directory"
    };
    let conn = async {
        let opts = AnyConnectOptions::from_str(&conn_url)?.disable_statement_logging();
        AnyConnection::connect_with(&opts).await
    };
    let mut conn = match tokio::time::timeout(Duration::from_secs(5), conn).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Outcome::Fail(format!("{what} does not open ({e})"), fix_open.into()),
        Err(_) => {
            return Outcome::Fail(format!("{what} did not answer within 5 s"), fix_open.into());
        }
    };
    let version = schema_version(&mut conn, postgres).await;
    let _ = conn.close().await;
    let known = selah_store::MIGRATIONS_KNOWN;
    match version {
        Err(e) => Outcome::Fail(
            format!("{what} opens but its schema version cannot be read ({e})"),
            fix_open.into(),
        ),
        Ok(v) if v > known => Outcome::Fail(
            format!("{what} is at schema version {v}, newer than this Selah knows ({known})"),
            "upgrade Selah, or restore the copy in <data>/backups made before the upgrade".into(),
        ),
        Ok(0) => Outcome::Pass(format!(
            "{what} opens; it will be initialised at first start"
        )),
        Ok(v) if v < known => Outcome::Pass(format!(
            "{what} opens at schema version {v}; it will be upgraded to {known} at next start \
             (SQLite files are copied to <data>/backups first)"
        )),
        Ok(v) => Outcome::Pass(format!("{what} opens at schema version {v} (current)")),
    }
}

/// The recorded schema version; 0 when Selah never initialised this database.
async fn schema_version(conn: &mut AnyConnection, postgres: bool) -> Result<i64, sqlx::Error> {
    let exists_sql = if postgres {
        "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = 'selah_schema'"
    } else {
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'selah_schema'"
    };
    let n: i64 = sqlx::query(exists_sql)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    if n == 0 {
        return Ok(0);
    }
    sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM selah_schema")
        .fetch_one(&mut *conn)
        .await?
        .try_get("v")
}

/// The configured address can be bound right now.
fn port_check(bind: &str) -> Outcome {
    match std::net::TcpListener::bind(bind) {
        Ok(_) => Outcome::Pass(format!("{bind} is free")),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Outcome::Fail(
            format!("{bind} is in use"),
            "is Selah already running? stop it or choose --port".into(),
        ),
        Err(e) => Outcome::Fail(
            format!("cannot listen on {bind} ({e})"),
            "choose another address with --bind or --port".into(),
        ),
    }
}

/// Free space on the file system holding the data directory: a warning below `min_mb`, a
/// problem below a tenth of it (the same thresholds as the health check).
fn disk_check(data_dir: &Path, min_mb: u64) -> Outcome {
    let Some(here) = nearest_existing(data_dir).and_then(|p| p.canonicalize().ok()) else {
        return Outcome::Warn(
            "cannot tell which disk holds the data directory".into(),
            "check free space by hand (df -h)".into(),
        );
    };
    let disks = sysinfo::Disks::new_with_refreshed_list();
    let disk = disks
        .list()
        .iter()
        .filter(|d| here.starts_with(d.mount_point()))
        .max_by_key(|d| d.mount_point().as_os_str().len());
    let Some(disk) = disk else {
        return Outcome::Warn(
            format!("no mounted file system found for {}", here.display()),
            "check free space by hand (df -h)".into(),
        );
    };
    let free_mb = disk.available_space() / (1024 * 1024);
    let what = format!("{free_mb} MiB free on {}", disk.mount_point().display());
    let fix =
        format!("free some space or move the data directory (health.min_free_disk_mb = {min_mb})");
    if free_mb < min_mb / 10 {
        Outcome::Fail(what, fix)
    } else if free_mb < min_mb {
        Outcome::Warn(what, fix)
    } else {
        Outcome::Pass(what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_directory_under_a_writable_parent_passes() {
        let tmp = tempfile::tempdir().unwrap();
        let out = data_dir_check(&tmp.path().join("a/b"));
        assert!(
            matches!(out, Outcome::Pass(ref s) if s.contains("will be created")),
            "{out:?}"
        );
        assert!(
            !tmp.path().join("a").exists(),
            "doctor must not create anything"
        );
    }

    #[test]
    fn a_file_in_place_of_the_directory_fails_with_a_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        std::fs::write(&file, "x").unwrap();
        assert!(matches!(data_dir_check(&file), Outcome::Fail(..)));
        assert!(matches!(
            data_dir_check(&file.join("sub")),
            Outcome::Fail(..)
        ));
    }

    #[test]
    fn disk_thresholds_follow_the_configured_minimum() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(matches!(disk_check(tmp.path(), 0), Outcome::Pass(_)));
        assert!(matches!(
            disk_check(tmp.path(), u64::MAX),
            Outcome::Fail(..)
        ));
    }

    #[test]
    fn a_bound_port_is_reported_in_use() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        match port_check(&addr) {
            Outcome::Fail(what, fix) => {
                assert!(what.contains("in use"));
                assert!(fix.contains("is Selah already running"));
            }
            other => panic!("{other:?}"),
        }
        drop(l);
        assert!(matches!(port_check(&addr), Outcome::Pass(_)));
    }
}
