//! Administration routes.

pub mod audit;
pub mod cleanup;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(audit::router())
        .merge(cleanup::router())
}
