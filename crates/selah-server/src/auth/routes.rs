//! The account routes: setup, login and logout, the caller's own account and sessions,
//! step-up, password change and effective permissions. Handlers live in sibling modules.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{account, effective, login, security, setup};
use crate::state::AppState;

/// The auth and setup routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(setup::status))
        .routes(routes!(setup::founder))
        .routes(routes!(login::login))
        .routes(routes!(login::logout))
        .routes(routes!(account::me))
        .routes(routes!(account::list))
        .routes(routes!(account::revoke))
        .routes(routes!(security::step_up))
        .routes(routes!(security::change_password))
        .routes(routes!(effective::effective))
}
