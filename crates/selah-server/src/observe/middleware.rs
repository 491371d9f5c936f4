//! The middleware stack (owner: observability).

use axum::Router;

use crate::state::AppState;

/// Wraps the router in the middleware stack.
pub fn apply(router: Router, _state: AppState) -> Router {
    router
}
