//! The AI runtime's HTTP surface: models, hot slots, fit checks and imports (`models.rs`), the
//! engine status (`monitoring.rs`), the `engine` health check, and how AI errors become API
//! errors.

pub mod models;
pub mod monitoring;

use selah_ai::AiError;
use selah_ai::hot::SlotError;
use selah_ai::registry::RegistryError;
use selah_core::ErrorCode;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::observe::health::{CheckFuture, CheckResult, HealthCheck};
use crate::state::AppState;

/// Seconds suggested to wait when a backend's circuit is open.
pub const BACKEND_RETRY_AFTER_SECS: u64 = 30;

/// The AI routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(models::router())
        .merge(monitoring::router())
}

impl From<AiError> for ApiError {
    fn from(e: AiError) -> Self {
        match e {
            AiError::ModelNotFound(_) => ApiError::new(ErrorCode::NotFound, e.to_string()),
            AiError::BadModel(_) => ApiError::validation(e.to_string()),
            AiError::ContextOverflow { .. } => ApiError::bad_request(e.to_string()),
            // Memory is a passing condition (other models may unload): 503, no Retry-After.
            AiError::WouldNotFit(_) => ApiError::new(ErrorCode::Unavailable, e.to_string()),
            AiError::QueueFull { retry_after_secs } => {
                ApiError::new(ErrorCode::Unavailable, e.to_string())
                    .with_retry_after(retry_after_secs)
            }
            AiError::BackendUnavailable { .. } => {
                ApiError::new(ErrorCode::Unavailable, e.to_string())
                    .with_retry_after(BACKEND_RETRY_AFTER_SECS)
            }
            AiError::Engine(_) => ApiError::internal(e),
        }
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match e {
            // An import that does not fit is a property of the file: 422, not 503.
            RegistryError::Ai(AiError::WouldNotFit(m)) => ApiError::validation(m),
            RegistryError::Ai(a) => a.into(),
            RegistryError::Exists(_) | RegistryError::InHotSlot(..) => {
                ApiError::conflict(e.to_string())
            }
            RegistryError::ReadOnly(_) => ApiError::bad_request(e.to_string()),
            RegistryError::Io(_) => ApiError::internal(e),
        }
    }
}

impl From<SlotError> for ApiError {
    fn from(e: SlotError) -> Self {
        match e {
            SlotError::NoSuchSlot(_) | SlotError::Empty(_) => {
                ApiError::new(ErrorCode::NotFound, e.to_string())
            }
            SlotError::AlreadyHot(_) => ApiError::conflict(e.to_string()),
            SlotError::TooMuchMemory(m) => ApiError::bad_request(m),
            SlotError::Ai(AiError::BadModel(m)) => ApiError::bad_request(m),
            SlotError::Ai(a) => a.into(),
            SlotError::Store(_) => ApiError::internal(e),
        }
    }
}

/// The `engine` check: degraded while a backend's circuit is open or a model queue is over 80%
/// full, unhealthy when a hot-slot model failed to load.
pub struct EngineCheck;

impl HealthCheck for EngineCheck {
    fn name(&self) -> &str {
        "engine"
    }

    fn check<'a>(&'a self, state: &'a AppState) -> CheckFuture<'a> {
        Box::pin(async move {
            let s = state.ai.status();
            if let Some(slot) = state.ai.hot_slot_failures().first() {
                return CheckResult::unhealthy(format!("hot-slot model {} failed to load", slot.0));
            }
            let open: Vec<&str> = s
                .backends
                .iter()
                .filter(|b| b.state == "open")
                .map(|b| b.name.as_str())
                .collect();
            if !open.is_empty() {
                return CheckResult::degraded(format!(
                    "circuit open for backend {}",
                    open.join(", ")
                ));
            }
            if s.queue_fill > 0.8 {
                return CheckResult::degraded(format!(
                    "a model queue is {:.0}% full",
                    s.queue_fill * 100.0
                ));
            }
            CheckResult::healthy(format!(
                "{} generating, {} waiting",
                s.queue.in_flight, s.queue.pending
            ))
        })
    }
}
