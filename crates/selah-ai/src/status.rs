//! The engine status document (`GET /api/v1/monitoring/engine`, seeds 4.1 and 4.2) and the
//! rules that derive its overall state.

use serde::Serialize;

use crate::runtime::ERROR_WINDOW;
use crate::{ModelId, Runtime};

/// Idle, processing or error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EngineState {
    /// Nothing running or waiting.
    Idle,
    /// Generating or with requests waiting.
    Processing,
    /// A generation failed in the last minute, or a hot-slot model failed to load.
    Error,
}

/// Queue figures over every model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema, Default)]
pub struct QueueStatus {
    /// Requests waiting.
    pub pending: usize,
    /// Generations running.
    pub in_flight: usize,
    /// Moving average of the wait before a generation starts, ms.
    pub avg_wait_ms: f64,
}

/// One model the engine knows about now (loaded, in a hot slot, or with requests).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ModelStatus {
    /// Model id.
    pub id: String,
    /// Loaded in memory.
    pub loaded: bool,
    /// Its hot slot.
    pub hot_slot: Option<u32>,
    /// Generations running on it.
    pub in_flight: usize,
    /// Requests waiting for it.
    pub pending: usize,
    /// Memory it is counted for (0 when not loaded).
    pub memory_bytes: u64,
}

/// A remote backend's circuit.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BackendStatus {
    /// Backend name.
    pub name: String,
    /// `closed`, `open` or `half_open`.
    pub state: &'static str,
    /// Consecutive failures.
    pub failures: u32,
}

/// The whole document.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EngineStatus {
    /// Overall state.
    pub status: EngineState,
    /// Requests waiting, all models together (the seed's figure).
    pub queue_depth: usize,
    /// Last request or completion, ms since the epoch (null: none yet).
    pub last_activity: Option<i64>,
    /// Queue figures.
    pub queue: QueueStatus,
    /// Models.
    pub models: Vec<ModelStatus>,
    /// Remote backends.
    pub backends: Vec<BackendStatus>,
    /// The fullest model queue, as a fraction of its capacity (0–1); `/health` degrades over 0.8.
    pub queue_fill: f64,
    /// Why the state is `error`, if it is.
    pub error: Option<String>,
}

impl Runtime {
    /// The engine status: overall state, queue figures, models and backend circuits.
    pub fn status(&self) -> EngineStatus {
        let queues: Vec<(ModelId, crate::queue::QueueFigures)> = self
            .queues
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, q)| (k.clone(), q.figures()))
            .collect();
        let mut q = QueueStatus::default();
        let (mut waits, mut last, mut fill) = (Vec::new(), 0i64, 0.0f64);
        for (_, f) in &queues {
            q.pending += f.pending;
            q.in_flight += f.in_flight;
            if f.last_activity_ms > 0 {
                waits.push(f.avg_wait_ms);
            }
            last = last.max(f.last_activity_ms);
            if f.capacity > 0 {
                fill = fill.max(f.pending as f64 / f.capacity as f64);
            }
        }
        if !waits.is_empty() {
            q.avg_wait_ms = (waits.iter().sum::<f64>() / waits.len() as f64 * 10.0).round() / 10.0;
        }
        let hot = self.pool.hot();
        let loaded = self.pool.loaded();
        let mut ids: Vec<ModelId> = loaded.iter().map(|l| l.id.clone()).collect();
        ids.extend(hot.values().cloned());
        ids.extend(
            queues
                .iter()
                .filter(|(_, f)| f.pending + f.in_flight > 0)
                .map(|(k, _)| k.clone()),
        );
        ids.sort();
        ids.dedup();
        let models = ids
            .into_iter()
            .map(|id| {
                let l = loaded.iter().find(|l| l.id == id);
                let f = queues
                    .iter()
                    .find(|(k, _)| *k == id)
                    .map(|(_, f)| *f)
                    .unwrap_or_default();
                ModelStatus {
                    hot_slot: hot.iter().find(|(_, v)| **v == id).map(|(k, _)| *k),
                    loaded: l.is_some(),
                    in_flight: f.in_flight,
                    pending: f.pending,
                    memory_bytes: l.map(|l| l.memory_bytes).unwrap_or(0),
                    id: id.0,
                }
            })
            .collect();
        let backends = self
            .backends
            .iter()
            .map(|b| BackendStatus {
                name: b.name.clone(),
                state: b.breaker.state().as_str(),
                failures: b.breaker.failures(),
            })
            .collect();
        let recent_failure = self
            .last_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .filter(|(t, _)| t.elapsed() < ERROR_WINDOW)
            .map(|(_, e)| format!("a generation failed in the last minute: {e}"));
        let hot_failure = self
            .pool
            .hot_failures()
            .first()
            .map(|(id, e)| format!("hot-slot model {id} failed to load: {e}"));
        let error = hot_failure.or(recent_failure);
        let status = if error.is_some() {
            EngineState::Error
        } else if q.pending + q.in_flight > 0 {
            EngineState::Processing
        } else {
            EngineState::Idle
        };
        EngineStatus {
            status,
            queue_depth: q.pending,
            last_activity: (last > 0).then_some(last),
            queue: q,
            models,
            backends,
            queue_fill: fill,
            error,
        }
    }
}
