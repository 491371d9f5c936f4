//! The `orphan_embeddings` job (seed 3.2): removes stored vectors whose passage is gone (anything
//! that bypassed the normal deletion) and vectors of a previous embedding model that the current
//! one has replaced. Reports how many.

use std::sync::Arc;

use serde_json::json;

use super::library::Library;
use crate::jobs::{Job, JobContext, JobFuture, JobStats};

/// Finds and removes orphaned embeddings.
pub struct OrphanEmbeddings(pub Arc<Library>);

impl Job for OrphanEmbeddings {
    fn name(&self) -> &'static str {
        "orphan_embeddings"
    }

    fn run<'a>(&'a self, ctx: &'a JobContext) -> JobFuture<'a> {
        Box::pin(async move {
            let mut stats = JobStats::new();
            let current = match self.0.embedder_now() {
                Some(e) => super::ingest::vector_model(&e),
                // Without the model, only vectors of vanished passages can be judged.
                _ => String::new(),
            };
            let removed = ctx.store.delete_orphan_vectors(&current).await?;
            stats.insert("removed".into(), json!(removed));
            Ok(stats)
        })
    }
}
