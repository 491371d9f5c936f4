//! The document library: the embedding model (loaded once, in the background), the in-memory
//! vector index over every ready passage, and the handle that wakes the ingestion worker.
//!
//! The store is the source of truth: the index is rebuilt from the stored vectors at start, and
//! kept in step as documents become ready or are deleted. Until the model has loaded (or when it
//! is missing) search answers from full text alone.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use selah_ai::Embedder;
use selah_search::VectorIndex;
use selah_store::Store;
use selah_store::passages::StoredVector;
use tokio::sync::{Mutex, Notify};

/// Who may see a vector, read by the search filter.
#[derive(Debug, Clone)]
pub struct VectorMeta {
    /// The passage's owner.
    pub owner: Arc<str>,
    /// Its team.
    pub team: Option<Arc<str>>,
    /// Its document.
    pub document: Option<Arc<str>>,
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
    index: RwLock<VectorIndex<VectorMeta>>,
    /// Set once the index holds every stored vector of the current model.
    index_loaded: std::sync::atomic::AtomicBool,
    pub(super) wake: Notify,
    /// Passages embedded since start.
    pub(super) embedded: AtomicU64,
}

impl Library {
    /// A library over the store; nothing is loaded until [`Library::embedder`] is first awaited.
    pub fn new(store: Store, config: &selah_core::Config, data_dir: PathBuf) -> Self {
        let model_dir = if config.docs.embedding_model.as_os_str().is_empty() {
            selah_ai::registry::models_dir(&config.ai.models_dir, &data_dir).join("all-MiniLM-L6-v2")
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
            index_loaded: false.into(),
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

    /// Fills the index with every stored vector of the model, once.
    pub(super) async fn load_index(&self, e: &Embedder) -> selah_store::Result<()> {
        if self.index_loaded.load(Ordering::Acquire) {
            return Ok(());
        }
        let vectors = self.store.all_vectors(e.model_id()).await?;
        let mut idx = VectorIndex::new(e.dimensions());
        let n = vectors.len();
        for v in vectors.into_iter().filter(|v| v.searchable) {
            add(&mut idx, v);
        }
        *self.index.write().expect("index lock") = idx;
        self.index_loaded.store(true, Ordering::Release);
        tracing::info!(vectors = n, "vector index loaded from the store");
        Ok(())
    }

    /// Adds vectors of passages that just became searchable.
    pub(super) fn index_add(&self, vectors: Vec<StoredVector>) {
        let mut idx = self.index.write().expect("index lock");
        for v in vectors {
            add(&mut idx, v);
        }
    }

    /// Drops passages from the index (deleted documents, superseded generations).
    pub fn index_remove(&self, ids: &[i64]) {
        let mut idx = self.index.write().expect("index lock");
        for id in ids {
            idx.remove(*id);
        }
    }

    /// Vectors in the index.
    pub fn index_len(&self) -> usize {
        self.index.read().expect("index lock").len()
    }

    /// Runs `f` on the index under its read lock.
    pub(super) fn with_index<T>(&self, f: impl FnOnce(&VectorIndex<VectorMeta>) -> T) -> T {
        f(&self.index.read().expect("index lock"))
    }

    /// Passages embedded since start.
    pub fn embedded_total(&self) -> u64 {
        self.embedded.load(Ordering::Relaxed)
    }
}

fn add(idx: &mut VectorIndex<VectorMeta>, v: StoredVector) {
    let meta = VectorMeta {
        owner: v.owner_id.into(),
        team: v.team_id.map(Into::into),
        document: v.document_id.map(Into::into),
    };
    idx.insert(v.passage_id, &v.vector, meta);
}
