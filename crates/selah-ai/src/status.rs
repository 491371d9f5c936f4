//! The engine status document (`GET /api/v1/monitoring/engine`, seeds 4.1 and 4.2) and the
//! rules that derive its overall state.

use serde::Serialize;

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
