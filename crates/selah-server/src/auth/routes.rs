//! Setup, login, logout, sessions, me (owner: auth).

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The auth routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
