//! `GET /api/v1/auth/permissions/effective`: every permission key, granted or not, and why, in
//! the request's context (personal, or the team named by `X-Selah-Team`).

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use selah_core::permissions::{Decision, Subject};
use selah_core::{Role, TeamRole};
use selah_store::users::User;
use serde::Serialize;
use utoipa::ToSchema;

use super::CurrentUser;
use crate::authz::Context;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// The signed-in caller and the context of the request (team membership verified).
pub struct WithContext {
    /// The caller.
    pub user: CurrentUser,
    /// Personal or team context.
    pub ctx: Context,
}

impl FromRequestParts<AppState> for WithContext {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let ctx = Context::resolve(parts, state, &user).await?;
        Ok(Self { user, ctx })
    }
}

/// Who the permissions are for.
#[derive(Serialize, ToSchema)]
pub struct SubjectUser {
    /// Opaque id.
    pub id: String,
    /// Username.
    pub username: String,
}

/// The team context.
#[derive(Serialize, ToSchema)]
pub struct TeamContext {
    /// Team id.
    pub id: String,
    /// The caller's role in it.
    pub role: TeamRole,
}

/// Every key's decision.
#[derive(Serialize, ToSchema)]
pub struct EffectivePermissions {
    /// The user.
    pub user: SubjectUser,
    /// Global role.
    pub role: Role,
    /// The team context, or null for personal.
    pub team: Option<TeamContext>,
    /// One entry per key, in documentation order.
    pub permissions: Vec<Decision>,
}

/// Evaluates every key for a user (with a team role in a team context).
pub async fn evaluate(
    state: &AppState,
    user: &User,
    team_role: Option<TeamRole>,
) -> ApiResult<Vec<Decision>> {
    let overrides = state.store.permission_overrides(&user.id).await?;
    Ok(Subject {
        role: user.role,
        overrides: &overrides,
        team_role,
    }
    .effective())
}

/// The caller's effective permissions in this request's context.
#[utoipa::path(get, path = "/api/v1/auth/permissions/effective", tag = "auth",
    params(("X-Selah-Team" = Option<String>, Header, description = "Team context")),
    responses(
        (status = 200, body = EffectivePermissions),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "Not a member of that team"),
    ))]
pub async fn effective(
    State(state): State<AppState>,
    WithContext { user, ctx }: WithContext,
) -> ApiResult<axum::Json<EffectivePermissions>> {
    let permissions = evaluate(&state, &user.user, ctx.team_role).await?;
    let team = match (ctx.scope.team_id(), ctx.team_role) {
        (Some(id), Some(role)) => Some(TeamContext {
            id: id.to_string(),
            role,
        }),
        _ => None,
    };
    Ok(axum::Json(EffectivePermissions {
        user: SubjectUser {
            id: user.user.id.clone(),
            username: user.user.username.clone(),
        },
        role: user.user.role,
        team,
        permissions,
    }))
}
