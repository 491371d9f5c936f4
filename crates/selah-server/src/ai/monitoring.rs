//! `GET /api/v1/monitoring/engine` (seeds 4.1, 4.2) and the identical
//! `/api/v1/monitoring/metal4` kept for clients written against the seed: the engine's state,
//! queue figures, models and backend circuits. Any signed-in user may read them.

use axum::extract::State;
use selah_ai::EngineStatus;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use std::fmt::Write as _;

use crate::auth::CurrentUser;
use crate::error::{ApiResult, ErrorBody};
use crate::observe::metrics::{escape, gauge, header};
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(engine))
        .routes(routes!(metal4))
}

/// The engine status: idle, processing or error; queue depth, figures, models and backends.
#[utoipa::path(
    get, path = "/api/v1/monitoring/engine", tag = "monitoring",
    responses(
        (status = 200, description = "Status", body = EngineStatus),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
async fn engine(state: State<AppState>, _user: CurrentUser) -> ApiResult<axum::Json<EngineStatus>> {
    Ok(axum::Json(state.ai.status()))
}

/// The same document as `/api/v1/monitoring/engine`, under the seed's name.
#[utoipa::path(
    get, path = "/api/v1/monitoring/metal4", tag = "monitoring",
    responses(
        (status = 200, description = "Status", body = EngineStatus),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
async fn metal4(state: State<AppState>, _user: CurrentUser) -> ApiResult<axum::Json<EngineStatus>> {
    Ok(axum::Json(state.ai.status()))
}

/// The engine's figures for `/metrics`: queue, loaded models, and each backend's circuit
/// (0 closed, 1 open, 2 half-open).
pub fn render_metrics(state: &AppState, out: &mut String) {
    let s = state.ai.status();
    gauge(
        out,
        "selah_engine_queue_pending",
        "Chat requests waiting for a model.",
        s.queue.pending,
    );
    gauge(
        out,
        "selah_engine_queue_in_flight",
        "Generations running.",
        s.queue.in_flight,
    );
    gauge(
        out,
        "selah_engine_queue_avg_wait_ms",
        "Moving average of the wait before a generation starts, in milliseconds.",
        s.queue.avg_wait_ms,
    );
    gauge(
        out,
        "selah_engine_models_loaded",
        "Models loaded in memory by the embedded engine.",
        s.models.iter().filter(|m| m.loaded).count(),
    );
    header(
        out,
        "selah_backend_circuit_state",
        "gauge",
        "Circuit breaker per remote backend: 0 closed, 1 open, 2 half-open.",
    );
    for b in state.ai.backends() {
        let _ = writeln!(
            out,
            "selah_backend_circuit_state{{backend=\"{}\"}} {}",
            escape(&b.name),
            b.breaker.state().metric()
        );
    }
}
