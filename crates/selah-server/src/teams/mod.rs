//! Teams (`/api/v1/teams`): creating, listing and deleting teams; memberships
//! ([`members`]) and invitations ([`invitations`]).
//!
//! A team is visible only to its members: to anyone else every team route answers 404, the
//! same as for a team that does not exist, so ids do not leak. Within a team, the team role
//! decides: owners manage everything, admins manage members and invitations.

pub mod invitations;
pub mod members;

use axum::http::StatusCode;
use selah_core::TeamRole;
use selah_store::teams::MyTeam;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit::AuditEvent;
use crate::auth::CurrentUser;
use crate::authz::{Require, perm};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_team, list_teams))
        .routes(routes!(get_team, delete_team))
        .merge(members::router())
        .merge(invitations::router())
}

/// Longest team name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A team as one of its members sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamView {
    /// Team id (send it as `X-Selah-Team` to act in the team).
    pub id: String,
    /// Name.
    pub name: String,
    /// Creator's user id.
    pub created_by: Option<String>,
    /// Created, ms since the epoch.
    pub created_at: i64,
    /// The caller's role in the team.
    pub role: TeamRole,
}

impl From<MyTeam> for TeamView {
    fn from(t: MyTeam) -> Self {
        TeamView {
            id: t.team.id,
            name: t.team.name,
            created_by: t.team.created_by,
            created_at: t.team.created_at,
            role: t.role,
        }
    }
}

/// Body of `POST /api/v1/teams`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTeam {
    /// 1–100 characters.
    pub name: String,
}

/// The caller's role in a team, or 404 when they are not a member (or there is no such team).
pub(crate) async fn role_in(
    state: &AppState,
    team_id: &str,
    user: &CurrentUser,
) -> ApiResult<TeamRole> {
    if team_id.len() > 64 {
        return Err(ApiError::not_found("team"));
    }
    state
        .store
        .team_role(team_id, user.id())
        .await?
        .ok_or_else(|| ApiError::not_found("team"))
}

/// Parses a team role named in a request body: 422 when unknown or not in `allowed`.
pub(crate) fn parse_role(role: &str, allowed: &[TeamRole]) -> ApiResult<TeamRole> {
    TeamRole::parse(role)
        .filter(|r| allowed.contains(r))
        .ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
            ApiError::validation(format!("role must be one of: {}", names.join(", ")))
        })
}

/// Create a team; the caller becomes its owner.
#[utoipa::path(
    post, path = "/api/v1/teams", tag = "teams",
    request_body = CreateTeam,
    responses(
        (status = 201, description = "Created", body = TeamView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs admin.manage_users", body = ErrorBody),
        (status = 422, description = "Invalid name", body = ErrorBody),
    )
)]
async fn create_team(
    state: axum::extract::State<AppState>,
    client: ClientInfo,
    auth: Require<perm::AdminManageUsers>,
    Json(body): Json<CreateTeam>,
) -> ApiResult<(StatusCode, axum::Json<TeamView>)> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::validation(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    let team = state.store.create_team(name, auth.user.id()).await?;
    state
        .audit
        .record(
            AuditEvent::new("team.created", "create")
                .user(auth.user.id())
                .resource("team", &team.team.id)
                .details(json!({"name": name}))
                .client(&client),
        )
        .await;
    Ok((StatusCode::CREATED, axum::Json(team.into())))
}

/// The caller's teams, with their role in each.
#[utoipa::path(
    get, path = "/api/v1/teams", tag = "teams",
    responses(
        (status = 200, description = "My teams", body = [TeamView]),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
async fn list_teams(
    state: axum::extract::State<AppState>,
    user: CurrentUser,
) -> ApiResult<axum::Json<Vec<TeamView>>> {
    let teams = state.store.teams_of(user.id()).await?;
    Ok(axum::Json(teams.into_iter().map(Into::into).collect()))
}

/// One team (members only).
#[utoipa::path(
    get, path = "/api/v1/teams/{id}", tag = "teams",
    params(("id" = String, Path, description = "Team id")),
    responses(
        (status = 200, description = "The team", body = TeamView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such team, or not a member", body = ErrorBody),
    )
)]
async fn get_team(
    state: axum::extract::State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<TeamView>> {
    let team = state
        .store
        .team_for_member(&id, user.id())
        .await?
        .ok_or_else(|| ApiError::not_found("team"))?;
    Ok(axum::Json(team.into()))
}

/// Delete a team with everything in it (owners only).
#[utoipa::path(
    delete, path = "/api/v1/teams/{id}", tag = "teams",
    params(("id" = String, Path, description = "Team id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not the team's owner", body = ErrorBody),
        (status = 404, description = "No such team, or not a member", body = ErrorBody),
    )
)]
async fn delete_team(
    state: axum::extract::State<AppState>,
    client: ClientInfo,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if role_in(&state, &id, &user).await? != TeamRole::Owner {
        return Err(ApiError::forbidden("only the team's owners can delete it"));
    }
    if !state.store.delete_team(&id).await? {
        return Err(ApiError::not_found("team"));
    }
    state
        .audit
        .record(
            AuditEvent::new("team.deleted", "delete")
                .user(user.id())
                .resource("team", &id)
                .client(&client),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}
