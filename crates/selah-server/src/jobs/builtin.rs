//! Built-in jobs: expired sessions and audit archiving.

use anyhow::Context;
use serde_json::json;

use super::{Job, JobContext, JobFuture, JobStats};

fn stats(v: serde_json::Value) -> JobStats {
    match v {
        serde_json::Value::Object(m) => m,
        _ => JobStats::new(),
    }
}

/// Deletes sessions past their absolute lifetime or idle timeout.
pub struct ExpiredSessions;

impl Job for ExpiredSessions {
    fn name(&self) -> &'static str {
        "expired_sessions"
    }

    fn run<'a>(&'a self, ctx: &'a JobContext) -> JobFuture<'a> {
        Box::pin(async move {
            let idle_ms = (ctx.config.auth.session_idle_secs as i64).saturating_mul(1000);
            let removed = ctx.store.delete_expired_sessions(idle_ms).await?;
            Ok(stats(json!({ "removed": removed })))
        })
    }
}

/// Moves audit records older than `jobs.audit_retention_days` to `<data>/archive`.
pub struct AuditArchive;

impl Job for AuditArchive {
    fn name(&self) -> &'static str {
        "audit_archive"
    }

    fn run<'a>(&'a self, ctx: &'a JobContext) -> JobFuture<'a> {
        Box::pin(async move {
            let days = i64::try_from(ctx.config.jobs.audit_retention_days).unwrap_or(i64::MAX);
            let cutoff = selah_store::now_ms().saturating_sub(days.saturating_mul(86_400_000));
            let dir = ctx.data_dir.join("archive");
            let report = ctx
                .store
                .archive_audit(&dir, cutoff)
                .await
                .context("archiving audit records")?;
            Ok(stats(match report {
                Some(r) => json!({
                    "archived": r.archived,
                    "first_seq": r.first_seq,
                    "last_seq": r.last_seq,
                    "file": r.file,
                }),
                None => json!({ "archived": 0 }),
            }))
        })
    }
}
