//! The library's full-text side: the in-memory BM25 index ([`selah_search::TextIndex`]) built
//! from the store's searchable passages at start, and refreshed after every store write that
//! changes what full text should find.
//!
//! Ordering is what keeps it exact: every refresh runs after its store write has committed and
//! first waits for the initial load, so a write that lands while the load is reading the store
//! is applied on top of the loaded index, never overwritten by it. Passages removed by cascades
//! the library does not hear of (a user or a team deleted, one chat message deleted) stay in the
//! index until the next start; search re-checks every hit against the store, so they are never
//! returned.

use std::time::Instant;

use selah_search::{TextFields, TextIndex};
use selah_store::passage_texts::{PassageSet, PassageText};

use super::library::{Library, PassageMeta};

/// Passages read from the store per query while loading.
const LOAD_PAGE: i64 = 2_000;

fn insert(idx: &mut TextIndex<PassageMeta>, p: PassageText) {
    let fields = TextFields {
        title: &p.title,
        heading: p.heading.as_deref(),
        text: &p.text,
    };
    idx.insert(
        p.id,
        fields,
        PassageMeta::new(p.owner_id, p.team_id, p.document_id),
    );
}

impl Library {
    /// Waits until the full-text index holds every searchable passage, loading it on first
    /// call (the worker calls this at start; a search arriving earlier waits for it).
    pub async fn text_ready(&self) -> anyhow::Result<()> {
        self.text_loaded
            .get_or_try_init(|| self.load_text())
            .await
            .map(|_| ())
    }

    async fn load_text(&self) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut idx = TextIndex::new();
        let mut after = 0;
        loop {
            let page = self
                .store
                .searchable_texts(PassageSet::Page {
                    after,
                    limit: LOAD_PAGE,
                })
                .await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            // Tokenizing is CPU work: off the executor, a page at a time.
            idx = tokio::task::spawn_blocking(move || {
                for p in page {
                    insert(&mut idx, p);
                }
                idx
            })
            .await?;
        }
        let n = idx.len();
        *self.text.write().expect("text index lock") = idx;
        tracing::info!(
            passages = n,
            ms = started.elapsed().as_millis() as u64,
            "full-text index loaded from the store"
        );
        Ok(())
    }

    /// Re-reads the searchable passages of `set` into the full-text index (replacing what it
    /// held under their ids).
    pub async fn text_refresh(&self, set: PassageSet<'_>) -> anyhow::Result<()> {
        self.text_ready().await?;
        let passages = self.store.searchable_texts(set).await?;
        let mut idx = self.text.write().expect("text index lock");
        for p in passages {
            insert(&mut idx, p);
        }
        Ok(())
    }

    /// The ids of the searchable passages of `set` (read before a delete that cascades to them).
    pub async fn passage_ids(&self, set: PassageSet<'_>) -> selah_store::Result<Vec<i64>> {
        Ok(self
            .store
            .searchable_texts(set)
            .await?
            .iter()
            .map(|p| p.id)
            .collect())
    }

    /// Drops passages from the full-text index.
    pub(super) async fn text_remove(&self, ids: &[i64]) -> anyhow::Result<()> {
        self.text_ready().await?;
        let mut idx = self.text.write().expect("text index lock");
        for id in ids {
            idx.remove(*id);
        }
        Ok(())
    }

    /// Runs `f` on the full-text index under its read lock (after the initial load).
    pub(super) async fn with_text<T>(
        &self,
        f: impl FnOnce(&TextIndex<PassageMeta>) -> T,
    ) -> anyhow::Result<T> {
        self.text_ready().await?;
        Ok(f(&self.text.read().expect("text index lock")))
    }

    /// Passages in the full-text index.
    pub fn text_len(&self) -> usize {
        self.text.read().expect("text index lock").len()
    }
}
