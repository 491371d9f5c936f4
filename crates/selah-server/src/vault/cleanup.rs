//! The `vault_cleanup` job: purges what has been in the trash longer than `vault.trash_days`
//! (items, versions, keys and blobs), forgets uploads past their expiry, and removes files under
//! `<data>/vault` that nothing in the database names (left by a crash between a purge's commit
//! and its file removals). Reports counts.

use std::time::Duration;

use serde_json::json;

use super::blobs::Blobs;
use crate::jobs::{Job, JobContext, JobFuture, JobStats};

/// Files younger than this are never swept: they may belong to an upload being created or a
/// version being committed right now.
const SWEEP_MIN_AGE: Duration = Duration::from_secs(3600);

/// The job, over the vault's blobs.
pub struct VaultCleanup(pub Blobs);

impl Job for VaultCleanup {
    fn name(&self) -> &'static str {
        "vault_cleanup"
    }

    fn run<'a>(&'a self, ctx: &'a JobContext) -> JobFuture<'a> {
        Box::pin(async move {
            let blobs = &self.0;
            let days = i64::from(ctx.config.vault.trash_days);
            let cutoff = selah_store::now_ms() - days * 86_400_000;
            let (mut items, mut versions) = (0u64, 0usize);
            loop {
                let purged = ctx.store.purge_vault_trash(cutoff).await?;
                if purged.items == 0 {
                    break;
                }
                items += purged.items;
                versions += purged.versions.len();
                blobs.remove_purged(&purged).await;
            }
            let expired = ctx
                .store
                .delete_expired_vault_uploads(selah_store::now_ms())
                .await?;
            // The files of expired uploads, like any unnamed file, go with the sweep below once
            // an hour old; an expired upload is older than that by definition.
            let known = ctx.store.vault_file_names().await?;
            let (files, bytes) = blobs.sweep(&known, SWEEP_MIN_AGE).await?;
            let mut stats = JobStats::new();
            stats.insert("purged_items".into(), json!(items));
            stats.insert("purged_versions".into(), json!(versions));
            stats.insert("expired_uploads".into(), json!(expired.len()));
            stats.insert("files_removed".into(), json!(files));
            stats.insert("bytes_removed".into(), json!(bytes));
            Ok(stats)
        })
    }
}
