//! Team memberships: listing (members), changing roles (owners), removing (owners and admins,
//! or anyone leaving). A team always keeps at least one owner.

use axum::extract::State;
use axum::http::StatusCode;
use selah_core::TeamRole;
use selah_store::teams::{Member, MemberChange};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{parse_role, role_in};
use crate::audit::AuditEvent;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_members))
        .routes(routes!(set_role, remove_member))
}

/// One member of a team.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    /// User id.
    pub user_id: String,
    /// Username.
    pub username: String,
    /// Role in the team.
    pub role: TeamRole,
    /// Joined, ms since the epoch.
    pub joined_at: i64,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        MemberView {
            user_id: m.user_id,
            username: m.username,
            role: m.role,
            joined_at: m.joined_at,
        }
    }
}

/// Body of `PATCH /api/v1/teams/{id}/members/{user_id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SetRole {
    /// owner, admin, member or guest.
    pub role: String,
}

/// A team's members (members only).
#[utoipa::path(
    get, path = "/api/v1/teams/{id}/members", tag = "teams",
    params(("id" = String, Path, description = "Team id")),
    responses(
        (status = 200, description = "Members, owners first", body = [MemberView]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such team, or not a member", body = ErrorBody),
    )
)]
async fn list_members(
    state: State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<MemberView>>> {
    role_in(&state, &id, &user).await?;
    let members = state.store.team_members(&id).await?;
    Ok(axum::Json(members.into_iter().map(Into::into).collect()))
}

/// Change a member's role (owners only; the last owner cannot be demoted).
#[utoipa::path(
    patch, path = "/api/v1/teams/{id}/members/{user_id}", tag = "teams",
    params(
        ("id" = String, Path, description = "Team id"),
        ("user_id" = String, Path, description = "The member's user id"),
    ),
    request_body = SetRole,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an owner of the team", body = ErrorBody),
        (status = 404, description = "No such team or member", body = ErrorBody),
        (status = 409, description = "Would leave the team without an owner", body = ErrorBody),
        (status = 422, description = "Unknown role", body = ErrorBody),
    )
)]
async fn set_role(
    state: State<AppState>,
    client: ClientInfo,
    user: CurrentUser,
    Path((id, member)): Path<(String, String)>,
    Json(body): Json<SetRole>,
) -> ApiResult<StatusCode> {
    if role_in(&state, &id, &user).await? != TeamRole::Owner {
        return Err(ApiError::forbidden(
            "only the team's owners can change roles",
        ));
    }
    let role = parse_role(&body.role, TeamRole::ALL)?;
    match state.store.set_member_role(&id, &member, role).await? {
        MemberChange::Done => {}
        MemberChange::NotMember => return Err(ApiError::not_found("member")),
        MemberChange::LastOwner => {
            return Err(ApiError::conflict(
                "the team needs an owner: make someone else owner first",
            ));
        }
    }
    state
        .audit
        .record(
            AuditEvent::new("team.member_role_changed", "update")
                .user(user.id())
                .resource("team", &id)
                .details(json!({"member": member, "role": role.as_str()}))
                .client(&client),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a member (owners and admins), or leave (anyone, for themselves). Admins cannot
/// remove owners; the last owner cannot leave.
#[utoipa::path(
    delete, path = "/api/v1/teams/{id}/members/{user_id}", tag = "teams",
    params(
        ("id" = String, Path, description = "Team id"),
        ("user_id" = String, Path, description = "The member's user id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "May not remove this member", body = ErrorBody),
        (status = 404, description = "No such team or member", body = ErrorBody),
        (status = 409, description = "Would leave the team without an owner", body = ErrorBody),
    )
)]
async fn remove_member(
    state: State<AppState>,
    client: ClientInfo,
    user: CurrentUser,
    Path((id, member)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mine = role_in(&state, &id, &user).await?;
    if member != user.id() {
        if !mine.manages_members() {
            return Err(ApiError::forbidden(
                "only the team's owners and admins can remove members",
            ));
        }
        let theirs = state
            .store
            .team_role(&id, &member)
            .await?
            .ok_or_else(|| ApiError::not_found("member"))?;
        if theirs == TeamRole::Owner && mine != TeamRole::Owner {
            return Err(ApiError::forbidden("only owners can remove an owner"));
        }
    }
    match state.store.remove_member(&id, &member).await? {
        MemberChange::Done => {}
        MemberChange::NotMember => return Err(ApiError::not_found("member")),
        MemberChange::LastOwner => {
            return Err(ApiError::conflict(
                "the team needs an owner: make someone else owner first, or delete the team",
            ));
        }
    }
    state
        .audit
        .record(
            AuditEvent::new("team.member_removed", "delete")
                .user(user.id())
                .resource("team", &id)
                .details(json!({"member": member, "left": member == user.id()}))
                .client(&client),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}
