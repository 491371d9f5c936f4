//! The document library: the embedding model (loaded once, in the background), the in-memory
//! vector and full-text indexes over every searchable passage, and the handle that wakes the
//! ingestion worker.
//!
//! The store is the source of truth: the indexes are rebuilt from it at start, and kept in step
//! as documents become ready or are deleted (the full-text side is in `fulltext`). Until the
//! model has loaded (or when it is missing) search answers from full text alone.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use selah_ai::Embedder;
use selah_search::{TextIndex, VectorIndex};
use selah_store::Store;
use selah_store::passages::StoredVector;
use tokio::sync::{Mutex, Notify};

use super::ingest::vector_model;

/// Who may see a passage, read by the search filters of both indexes.
#[derive(Debug, Clone)]
pub struct PassageMeta {
    /// The passage's owner.
    pub owner: Arc<str>,
    /// Its team.
    pub team: Option<Arc<str>>,
    /// Its document.
    pub document: Option<Arc<str>>,
}

impl PassageMeta {
    /// From the store's columns.
    pub fn new(owner: String, team: Option<String>, document: Option<String>) -> Self {
        Self {
            owner: owner.into(),
            team: team.map(Into::into),
            document: document.map(Into::into),
        }
    }
}

/// The embedding model, or why there is none.
pub type EmbedderSlot = Result<Arc<Embedder>, String>;

/// How long a failed model load is remembered before it is tried again (the user may have
/// installed the model meanwhile).
const RETRY_LOAD_AFTER: Duration = Duration::from_secs(60);

/// The last failure to load the model (the lock also makes loads one at a time).
type LoadFailure = Option<(Instant, String)>;

/// Shared state of documents and search.
pub struct Library {
    pub(super) store: Store,
    pub(super) data_dir: PathBuf,
    pub(super) model_dir: PathBuf,
    pub(super) passage_tokens: usize,
    pub(super) overlap_tokens: usize,
    embedder: RwLock<Option<Arc<Embedder>>>,
    load: Mutex<LoadFailure>,
    index: RwLock<VectorIndex<PassageMeta>>,
    /// The full-text index (see `fulltext`).
    pub(super) text: RwLock<TextIndex<PassageMeta>>,
    /// Done once the full-text index holds every searchable passage.
    pub(super) text_loaded: tokio::sync::OnceCell<()>,
    /// Set once the index holds every stored vector of the current model.
    index_loaded: std::sync::atomic::AtomicBool,
    /// The index changed since its graph was last saved.
    graph_dirty: std::sync::atomic::AtomicBool,
    pub(super) wake: Notify,
    /// Passages embedded since start.
    pub(super) embedded: AtomicU64,
    /// Documents committed as ready whose passages the indexes have not taken in yet: searches
    /// wait for none (see [`Library::indexes_caught_up`]).
    finishing: tokio::sync::watch::Sender<usize>,
}

/// Counts one document between its "ready" commit and its passages reaching the indexes; the
/// count drops when this is dropped, on success or error alike.
pub(super) struct Finishing<'a>(&'a tokio::sync::watch::Sender<usize>);

impl Drop for Finishing<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

impl Library {
    /// Marks a document as being finished: from before the store reports it ready until the
    /// indexes hold its passages.
    pub(super) fn finishing(&self) -> Finishing<'_> {
        self.finishing.send_modify(|n| *n += 1);
        Finishing(&self.finishing)
    }

    /// Waits (at most [`CATCH_UP_WAIT`]) until every document the store reports ready is in
    /// the indexes, so a client that saw "ready" finds its passages. Without this, a search in
    /// the moment between the commit and the refresh missed them (after a restart the refresh
    /// also waits for the full-text load, which made that moment long).
    pub(super) async fn indexes_caught_up(&self) {
        let mut rx = self.finishing.subscribe();
        let _ = tokio::time::timeout(CATCH_UP_WAIT, rx.wait_for(|n| *n == 0)).await;
    }
}

/// Longest a search waits for documents being finished; a stuck one must not stall search.
const CATCH_UP_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl Library {
    /// A library over the store; nothing is loaded until [`Library::embedder`] is first awaited.
    pub fn new(store: Store, config: &selah_core::Config, data_dir: PathBuf) -> Self {
        let model_dir = if config.docs.embedding_model.as_os_str().is_empty() {
            selah_ai::registry::models_dir(&config.ai.models_dir, &data_dir)
                .join("all-MiniLM-L6-v2")
        } else {
            config.docs.embedding_model.clone()
        };
        Self {
            store,
            data_dir,
            model_dir,
            passage_tokens: config.docs.passage_tokens as usize,
            overlap_tokens: config.docs.passage_overlap_tokens as usize,
            embedder: RwLock::new(None),
            load: Mutex::new(None),
            index: RwLock::new(VectorIndex::new(0)),
            text: RwLock::new(TextIndex::new()),
            text_loaded: tokio::sync::OnceCell::new(),
            finishing: tokio::sync::watch::channel(0).0,
            index_loaded: false.into(),
            graph_dirty: false.into(),
            wake: Notify::new(),
            embedded: AtomicU64::new(0),
        }
    }

    /// Where uploaded files are kept (`<data>/documents/<id>`).
    pub fn files_dir(&self) -> PathBuf {
        self.data_dir.join("documents")
    }

    /// The stored file of a document.
    pub fn file_path(&self, id: &str) -> PathBuf {
        self.files_dir().join(id)
    }

    /// The embedding model, loading it on first use (off the executor). A failure is
    /// remembered for a minute, then loading is tried again.
    pub async fn embedder(&self) -> EmbedderSlot {
        let mut failed = self.load.lock().await;
        if let Some(e) = self.embedder_now() {
            return Ok(e);
        }
        if let Some((at, why)) = &*failed
            && at.elapsed() < RETRY_LOAD_AFTER
        {
            return Err(why.clone());
        }
        let dir = self.model_dir.clone();
        let loaded = tokio::task::spawn_blocking(move || Embedder::load(&dir)).await;
        let result = match loaded {
            Ok(Ok(e)) => {
                tracing::info!(model = e.model_id(), "embedding model loaded");
                Ok(Arc::new(e))
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "no embedding model: search uses full text only");
                Err(e.to_string())
            }
            Err(e) => Err(format!("the embedding model's loader failed: {e}")),
        };
        match &result {
            Ok(e) => *self.embedder.write().expect("model lock") = Some(e.clone()),
            Err(why) => *failed = Some((Instant::now(), why.clone())),
        }
        result
    }

    /// The embedding model if it is loaded (never waits, never loads).
    pub fn embedder_now(&self) -> Option<Arc<Embedder>> {
        self.embedder.read().expect("model lock").clone()
    }

    /// Wakes the ingestion worker (a document was queued).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Where the vector graph of a model is saved (`<data>/index/<model id>.graph`).
    fn graph_path(&self, model: &str) -> PathBuf {
        let name: String = model
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.data_dir.join("index").join(format!("{name}.graph"))
    }

    /// Fills the index with every stored vector of the model, once, reusing the saved graph
    /// when it matches the store exactly and rebuilding it otherwise (off the executor).
    pub(super) async fn load_index(&self, e: &Embedder) -> selah_store::Result<()> {
        if self.index_loaded.load(Ordering::Acquire) {
            return Ok(());
        }
        let vectors: Vec<(i64, Vec<f32>, PassageMeta)> = self
            .store
            .all_vectors(&vector_model(e))
            .await?
            .into_iter()
            .map(|v| {
                let meta = PassageMeta::new(v.owner_id, v.team_id, v.document_id);
                (v.passage_id, v.vector, meta)
            })
            .collect();
        let (dim, path) = (e.dimensions(), self.graph_path(&vector_model(e)));
        let n = vectors.len();
        let started = Instant::now();
        let built = tokio::task::spawn_blocking(move || {
            let mut file = std::fs::File::open(&path).ok();
            VectorIndex::load_graph(
                dim,
                vectors,
                file.as_mut().map(|f| f as &mut dyn std::io::Read),
            )
        })
        .await;
        let Ok((idx, reused)) = built else {
            tracing::warn!("building the vector index failed; vector search is off");
            return Ok(());
        };
        let graph = idx.has_graph();
        *self.index.write().expect("index lock") = idx;
        self.index_loaded.store(true, Ordering::Release);
        self.graph_dirty.store(graph && !reused, Ordering::Release);
        tracing::info!(
            vectors = n,
            graph,
            reused_saved_graph = reused,
            ms = started.elapsed().as_millis() as u64,
            "vector index loaded from the store"
        );
        Ok(())
    }

    /// Saves the vector graph if it changed since it was last saved (the worker calls this when
    /// idle). A failure is logged: the graph is rebuilt from the store at the next start.
    pub(super) async fn save_index_if_changed(&self, e: &Embedder) {
        if !self.graph_dirty.swap(false, Ordering::AcqRel) {
            return;
        }
        let path = self.graph_path(&vector_model(e));
        let mut bytes = Vec::new();
        let saved = self.with_index(|idx| idx.save_graph(&mut bytes));
        if !matches!(saved, Ok(true)) {
            return;
        }
        let write = async {
            tokio::fs::create_dir_all(path.parent().expect("graph path has a parent")).await?;
            let tmp = path.with_extension("graph.partial");
            tokio::fs::write(&tmp, &bytes).await?;
            tokio::fs::rename(&tmp, &path).await
        };
        if let Err(err) = write.await {
            tracing::warn!(error = %err, "could not save the vector graph");
        }
    }

    /// Adds vectors of passages that just became searchable.
    pub(super) fn index_add(&self, vectors: Vec<StoredVector>) {
        let mut idx = self.index.write().expect("index lock");
        for v in vectors {
            add(&mut idx, v);
        }
        self.graph_dirty.store(idx.has_graph(), Ordering::Release);
    }

    /// Drops passages from both indexes (deleted documents and sessions, superseded
    /// generations).
    pub async fn index_remove(&self, ids: &[i64]) -> anyhow::Result<()> {
        {
            let mut idx = self.index.write().expect("index lock");
            for id in ids {
                idx.remove(*id);
            }
            self.graph_dirty.store(idx.has_graph(), Ordering::Release);
        }
        self.text_remove(ids).await
    }

    /// Vectors in the index.
    pub fn index_len(&self) -> usize {
        self.index.read().expect("index lock").len()
    }

    /// Runs `f` on the index under its read lock.
    pub(super) fn with_index<T>(&self, f: impl FnOnce(&VectorIndex<PassageMeta>) -> T) -> T {
        f(&self.index.read().expect("index lock"))
    }

    /// Passages embedded since start.
    pub fn embedded_total(&self) -> u64 {
        self.embedded.load(Ordering::Relaxed)
    }
}

fn add(idx: &mut VectorIndex<PassageMeta>, v: StoredVector) {
    let meta = PassageMeta::new(v.owner_id, v.team_id, v.document_id);
    idx.insert_stored(v.passage_id, &v.vector, meta);
}
