//! `POST /api/v1/admin/cleanup` (admin.cleanup): runs every registered job now and returns,
//! and audits as `admin.cleanup`, what each did.

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit::AuditEvent;
use crate::authz::{Require, perm};
use crate::error::{ApiResult, ErrorBody};
use crate::jobs::JobOutcome;
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(cleanup))
}

/// What a cleanup run did, job by job.
#[derive(Debug, Serialize, ToSchema)]
pub struct CleanupReport {
    /// One entry per job, in run order.
    pub jobs: Vec<JobOutcome>,
}

/// Runs the cleanup jobs now (temporary files, expired sessions, audit archiving, and any a
/// capability registered). A failing job is reported and does not stop the others. If a run is
/// already in progress (the daily schedule), this one waits for it and then runs.
#[utoipa::path(
    post, path = "/api/v1/admin/cleanup", tag = "admin",
    responses(
        (status = 200, description = "Per-job results", body = CleanupReport),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Lacks admin.cleanup, or a missing CSRF token", body = ErrorBody),
    )
)]
async fn cleanup(
    state: axum::extract::State<AppState>,
    auth: Require<perm::AdminCleanup>,
    client: ClientInfo,
) -> ApiResult<axum::Json<CleanupReport>> {
    let jobs = state.jobs.run_all().await;
    state
        .audit
        .record(
            AuditEvent::new("admin.cleanup", "run")
                .user(auth.user.id())
                .details(json!({ "jobs": jobs }))
                .client(&client),
        )
        .await;
    Ok(axum::Json(CleanupReport { jobs }))
}
