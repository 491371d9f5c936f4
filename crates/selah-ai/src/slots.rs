//! Loaded models: hot slots, on-demand loading, keep-alive and LRU eviction under the budget.
//!
//! - Hot-slot models (`ai.hot_slots` slots, assignments persisted in `hot_slots`) are loaded in
//!   the background at start and never evicted or unloaded for idleness.
//! - Other models load when first used and unload after `ai.keep_alive_secs` without use.
//! - Everything loaded stays within the hard budget (`ai.memory_budget_fraction` × total RAM):
//!   before a load, least recently used idle non-hot models are unloaded until the new one fits;
//!   if it still cannot fit, the load is refused with [`AiError::WouldNotFit`].
//! - Loads in progress reserve their estimate, so two concurrent loads cannot both squeeze in.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::engine::{EngineOptions, LocalModel};
use crate::memory::{GB, MemoryProbe};
use crate::registry::{LocalSource, effective_context};
use crate::{AiError, ModelId};

struct Loaded {
    model: Arc<LocalModel>,
    bytes: u64,
    last_used: Instant,
}

#[derive(Default)]
struct PoolState {
    loaded: HashMap<ModelId, Loaded>,
    /// Estimates of loads in progress.
    reserved: u64,
    /// Slot number → model.
    hot: BTreeMap<u32, ModelId>,
    /// Hot-slot models that failed to load, with the reason.
    hot_failures: HashMap<ModelId, String>,
}

/// A loaded model as the status shows it.
#[derive(Debug, Clone)]
pub struct LoadedView {
    /// Id.
    pub id: ModelId,
    /// Memory it is counted for.
    pub memory_bytes: u64,
    /// Generations running.
    pub active_sequences: usize,
}

/// The loaded models and the hot-slot map.
pub struct ModelPool {
    opts: EngineOptions,
    budget_fraction: f64,
    keep_alive: Duration,
    probe: Arc<MemoryProbe>,
    state: Mutex<PoolState>,
    load_locks: Mutex<HashMap<ModelId, Arc<tokio::sync::Mutex<()>>>>,
}

impl ModelPool {
    /// An empty pool.
    pub fn new(
        opts: EngineOptions,
        budget_fraction: f64,
        keep_alive: Duration,
        probe: Arc<MemoryProbe>,
    ) -> Self {
        Self {
            opts,
            budget_fraction: budget_fraction.clamp(0.05, 1.0),
            keep_alive,
            probe,
            state: Mutex::new(PoolState::default()),
            load_locks: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The memory a model is expected to need loaded: weights, overhead, and a KV cache of the
    /// configured context for each of the `max_sequences` sequences the engine decodes together.
    pub fn estimate(&self, src: &LocalSource) -> u64 {
        let n_ctx = effective_context(self.opts.context_size, src.info.context_length);
        let extra_sequences = u64::from(self.opts.max_sequences.max(1) - 1);
        src.info.estimated_runtime_bytes(n_ctx).saturating_add(
            src.info
                .kv_cache_bytes(n_ctx)
                .saturating_mul(extra_sequences),
        )
    }

    /// The loaded model for `src`, loading it first if needed (memory-guarded, off the
    /// executor). Concurrent callers for one model share one load.
    pub async fn get(&self, src: &LocalSource) -> Result<Arc<LocalModel>, AiError> {
        if let Some(m) = self.touch(&src.id) {
            return Ok(m);
        }
        let lock = self
            .load_locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(src.id.clone())
            .or_default()
            .clone();
        let _one_loader = lock.lock().await;
        if let Some(m) = self.touch(&src.id) {
            return Ok(m);
        }
        let estimate = self.estimate(src);
        let evicted = self.make_room(&src.id, estimate)?;
        drop_off_executor(evicted);
        let (path, opts) = (src.path.clone(), self.opts.clone());
        let result = tokio::task::spawn_blocking(move || LocalModel::load(&path, &opts))
            .await
            .map_err(|e| AiError::Engine(format!("the loading task failed: {e}")));
        let mut s = self.lock();
        s.reserved = s.reserved.saturating_sub(estimate);
        let model = Arc::new(result??);
        let bytes = model.memory_bytes().max(1);
        tracing::info!(model = %src.id, memory_mb = bytes >> 20, "model loaded");
        s.hot_failures.remove(&src.id);
        s.loaded.insert(
            src.id.clone(),
            Loaded {
                model: model.clone(),
                bytes,
                last_used: Instant::now(),
            },
        );
        Ok(model)
    }

    fn touch(&self, id: &ModelId) -> Option<Arc<LocalModel>> {
        let mut s = self.lock();
        let l = s.loaded.get_mut(id)?;
        l.last_used = Instant::now();
        Some(l.model.clone())
    }

    /// Marks a model used now (at the end of a generation, so keep-alive counts from there).
    pub fn mark_used(&self, id: &ModelId) {
        let _ = self.touch(id);
    }

    /// Unloads least recently used idle non-hot models until `needed` more bytes fit the
    /// budget, and reserves them. Returns the unloaded models (to be dropped off the executor).
    fn make_room(&self, id: &ModelId, needed: u64) -> Result<Vec<Arc<LocalModel>>, AiError> {
        let total = self.probe.figures().total_bytes;
        let budget = (total as f64 * self.budget_fraction) as u64;
        let mut s = self.lock();
        let hot: Vec<ModelId> = s.hot.values().cloned().collect();
        let mut evicted = Vec::new();
        loop {
            let used: u64 = s.loaded.values().map(|l| l.bytes).sum::<u64>() + s.reserved;
            if used.saturating_add(needed) <= budget {
                s.reserved += needed;
                return Ok(evicted);
            }
            let victim = s
                .loaded
                .iter()
                .filter(|(k, l)| !hot.contains(k) && idle(l))
                .min_by_key(|(_, l)| l.last_used)
                .map(|(k, _)| k.clone());
            match victim {
                Some(v) => {
                    tracing::info!(model = %v, for_model = %id, "unloading the least recently used model to make room");
                    if let Some(l) = s.loaded.remove(&v) {
                        evicted.push(l.model);
                    }
                }
                None => {
                    return Err(AiError::WouldNotFit(format!(
                        "{id} needs about {:.1} GB but loaded models already use {:.1} GB of the \
                         {:.1} GB memory budget ({:.0}% of {:.1} GB RAM) and none of them can be \
                         unloaded now",
                        needed as f64 / GB,
                        used as f64 / GB,
                        budget as f64 / GB,
                        self.budget_fraction * 100.0,
                        total as f64 / GB
                    )));
                }
            }
        }
    }

    /// Unloads non-hot models idle longer than the keep-alive.
    pub fn unload_idle(&self) -> usize {
        let victims: Vec<Arc<LocalModel>> = {
            let mut s = self.lock();
            let hot: Vec<ModelId> = s.hot.values().cloned().collect();
            let ids: Vec<ModelId> = s
                .loaded
                .iter()
                .filter(|(k, l)| {
                    !hot.contains(k) && idle(l) && l.last_used.elapsed() >= self.keep_alive
                })
                .map(|(k, _)| k.clone())
                .collect();
            ids.iter()
                .filter_map(|k| {
                    tracing::info!(model = %k, "unloading a model after its keep-alive");
                    s.loaded.remove(k).map(|l| l.model)
                })
                .collect()
        };
        let n = victims.len();
        drop_off_executor(victims);
        n
    }

    /// Unloads one model if it is idle (a busy one unloads at its keep-alive).
    pub fn unload(&self, id: &ModelId) {
        let victim = {
            let mut s = self.lock();
            match s.loaded.get(id) {
                Some(l) if idle(l) => s.loaded.remove(id).map(|l| l.model),
                _ => None,
            }
        };
        drop_off_executor(victim.into_iter().collect());
    }

    /// Unloads everything (shutdown).
    pub async fn unload_all(&self) {
        let all: Vec<Arc<LocalModel>> = self.lock().loaded.drain().map(|(_, l)| l.model).collect();
        let _ = tokio::task::spawn_blocking(move || drop(all)).await;
    }

    /// Sets the hot-slot map (slot → model).
    pub fn set_hot(&self, hot: BTreeMap<u32, ModelId>) {
        let mut s = self.lock();
        s.hot_failures.retain(|k, _| hot.values().any(|v| v == k));
        s.hot = hot;
    }

    /// The hot-slot map.
    pub fn hot(&self) -> BTreeMap<u32, ModelId> {
        self.lock().hot.clone()
    }

    /// The slot holding a model.
    pub fn hot_slot_of(&self, id: &ModelId) -> Option<u32> {
        self.lock()
            .hot
            .iter()
            .find(|(_, v)| *v == id)
            .map(|(k, _)| *k)
    }

    /// Records a hot-slot model's failed load.
    pub fn hot_failed(&self, id: &ModelId, reason: String) {
        self.lock().hot_failures.insert(id.clone(), reason);
    }

    /// Hot-slot models that failed to load.
    pub fn hot_failures(&self) -> Vec<(ModelId, String)> {
        let s = self.lock();
        s.hot_failures
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Whether a model is loaded.
    pub fn is_loaded(&self, id: &ModelId) -> bool {
        self.lock().loaded.contains_key(id)
    }

    /// The loaded models.
    pub fn loaded(&self) -> Vec<LoadedView> {
        let s = self.lock();
        let mut v: Vec<LoadedView> = s
            .loaded
            .iter()
            .map(|(k, l)| LoadedView {
                id: k.clone(),
                memory_bytes: l.bytes,
                active_sequences: l.model.active_sequences(),
            })
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }
}

/// Nobody is generating with it and nobody holds it for a generation about to start.
fn idle(l: &Loaded) -> bool {
    l.model.active_sequences() == 0 && Arc::strong_count(&l.model) == 1
}

/// Dropping a model joins its worker thread and frees its memory: never on the executor.
fn drop_off_executor(models: Vec<Arc<LocalModel>>) {
    if models.is_empty() {
        return;
    }
    match tokio::runtime::Handle::try_current() {
        Ok(h) => {
            h.spawn_blocking(move || drop(models));
        }
        Err(_) => drop(models),
    }
}
