//! `GET /health` and `GET /metrics`: unauthenticated (watchdogs and scrapers call them), never
//! rate limited, and free of secrets and paths.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use selah_core::health::Status;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::observe::health::HealthReport;
use crate::observe::metrics::exposition;
use crate::state::AppState;

/// The Prometheus text format's content type.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The health and metrics routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(metrics))
}

/// Service health: every check, the error rate and latency over the sliding window, memory,
/// uptime and the score.
#[utoipa::path(
    get,
    path = "/health",
    tag = "observability",
    responses(
        (status = 200, description = "Healthy or degraded", body = HealthReport),
        (status = 503, description = "Unhealthy", body = HealthReport),
    )
)]
async fn health(State(state): State<AppState>) -> Response {
    let report = state.health.report(&state).await;
    let status = if report.status == Status::Unhealthy {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(report),
    )
        .into_response()
}

/// Metrics in the Prometheus text format 0.0.4.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "observability",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", body = String,
         content_type = "text/plain; version=0.0.4"),
    )
)]
async fn metrics(State(state): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, PROMETHEUS_TEXT),
            (header::CACHE_CONTROL, "no-store"),
        ],
        exposition(&state).await,
    )
        .into_response()
}
