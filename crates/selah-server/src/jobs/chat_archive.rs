//! The `chat_archive` job: chat sessions idle for `ai.archive_idle_days` are archived (hidden
//! from the default list, kept in full).

use serde_json::json;

use super::{Job, JobContext, JobFuture, JobStats};

/// Archives chat sessions with no activity for `ai.archive_idle_days` days.
pub struct ChatArchive;

impl Job for ChatArchive {
    fn name(&self) -> &'static str {
        "chat_archive"
    }

    fn run<'a>(&'a self, ctx: &'a JobContext) -> JobFuture<'a> {
        Box::pin(async move {
            let days = i64::try_from(ctx.config.ai.archive_idle_days).unwrap_or(i64::MAX);
            let cutoff = selah_store::now_ms().saturating_sub(days.saturating_mul(86_400_000));
            let archived = ctx.store.archive_idle_chat_sessions(cutoff).await?;
            let mut stats = JobStats::new();
            stats.insert("archived".into(), json!(archived));
            Ok(stats)
        })
    }
}
