//! Administration routes, one module per concern, merged here.

pub mod audit;
pub mod cleanup;
pub mod user_access;
pub mod users;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The admin routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::patch))
        .routes(routes!(user_access::set_role))
        .routes(routes!(user_access::reset_password))
        .routes(routes!(user_access::set_permissions))
        .merge(audit::router())
        .merge(cleanup::router())
}
