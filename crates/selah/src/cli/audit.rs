//! `selah audit verify [--archive]`: checks the audit log's hash chain directly in the database
//! (SQLite in the data directory, or `--database-url`), with or without a running server.
//! Exit 0 when intact, 1 with the first bad seq and the reason otherwise.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use selah_store::Store;
use selah_store::audit::archive::verify_archive_files;

use crate::settings::GlobalArgs;

/// Audit tools.
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain (exit 0 when intact, 1 otherwise).
    Verify(VerifyArgs),
}

/// Options for `audit verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// Also check that the archive files in <data-dir>/archive chain into each other and into
    /// the live log.
    #[arg(long)]
    pub archive: bool,
}

/// Runs the command.
pub async fn run(g: &GlobalArgs, cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    let AuditCommand::Verify(args) = cmd;
    let (settings, _) = g.load(&[])?;
    let (store, _) = Store::open(settings.config.database_url.expose(), &settings.data_dir)
        .await
        .context("cannot open the database")?;
    let report = store.verify_audit().await;
    store.close().await;
    let report = report.context("cannot read the audit log")?;

    let mut intact = report.ok;
    if report.ok {
        println!(
            "audit log intact: {} record(s) checked from seq {} to {}",
            report.checked,
            report.anchor_seq + 1,
            report.head_seq.unwrap_or(report.anchor_seq)
        );
    } else {
        let at = report
            .first_bad_seq
            .map_or_else(String::new, |s| format!(" at seq {s}"));
        println!(
            "audit log BROKEN{at}: {}",
            report.reason.as_deref().unwrap_or("unknown reason")
        );
    }

    if args.archive {
        let dir = settings.data_dir.join("archive");
        match verify_archive_files(&dir) {
            Ok((end, checked))
                if end.seq == report.anchor_seq && end.hash == report.anchor_hash =>
            {
                println!(
                    "archive intact: {checked} record(s) in files, ending at seq {} where the live log starts",
                    end.seq
                );
            }
            Ok((end, _)) => {
                intact = false;
                println!(
                    "archive BROKEN: the files end at seq {}, but the live log continues from seq {} \
                     (or the hashes there differ)",
                    end.seq, report.anchor_seq
                );
            }
            Err(why) => {
                intact = false;
                println!("archive BROKEN: {why}");
            }
        }
    }
    Ok(if intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
