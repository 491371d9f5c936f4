//! Team invitations: owners and admins create one-time codes; any signed-in user redeems one
//! with `POST /api/v1/teams/join`.
//!
//! A code is `<invitation id>.<43 random URL-safe characters>` (256 bits). Only the SHA-256
//! of the random part is stored, and it is compared in constant time. Codes expire after
//! `auth.invitation_ttl_secs`; a wrong secret for an existing invitation counts an attempt,
//! and at `auth.invitation_max_attempts` the invitation is burnt. Unknown, expired, burnt and
//! wrongly-guessed codes all answer 404 with the same code, so a guesser learns nothing; a
//! code that was already redeemed answers 409.

use axum::extract::State;
use axum::http::StatusCode;
use selah_core::TeamRole;
use selah_store::invitations::{Invitation, NewInvitation, Redemption};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{TeamView, parse_role, role_in};
use crate::audit::AuditEvent;
use crate::auth::{CurrentUser, token};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_invitation, list_invitations))
        .routes(routes!(delete_invitation))
        .routes(routes!(join))
}

/// Roles an invitation can give (ownership is handed over with a role change instead).
const INVITABLE: &[TeamRole] = &[TeamRole::Admin, TeamRole::Member, TeamRole::Guest];

/// Body of `POST /api/v1/teams/{id}/invitations`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateInvitation {
    /// admin, member or guest.
    pub role: String,
}

/// A new invitation: the code is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedInvitation {
    /// Invitation id.
    pub id: String,
    /// The one-time code to hand to the invitee.
    pub code: String,
    /// Role the invitee gets.
    pub role: TeamRole,
    /// Expiry, ms since the epoch.
    pub expires_at: i64,
}

/// An invitation as listed to team managers (no code).
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    /// Invitation id.
    pub id: String,
    /// Role the invitee gets.
    pub role: TeamRole,
    /// Who created it.
    pub created_by: Option<String>,
    /// Created, ms.
    pub created_at: i64,
    /// Expires, ms.
    pub expires_at: i64,
    /// Wrong codes presented so far.
    pub attempts: i64,
    /// Who redeemed it.
    pub used_by: Option<String>,
    /// When it was redeemed, ms.
    pub used_at: Option<i64>,
}

impl From<Invitation> for InvitationView {
    fn from(i: Invitation) -> Self {
        InvitationView {
            id: i.id,
            role: i.role,
            created_by: i.created_by,
            created_at: i.created_at,
            expires_at: i.expires_at,
            attempts: i.attempts,
            used_by: i.used_by,
            used_at: i.used_at,
        }
    }
}

/// Body of `POST /api/v1/teams/join`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct JoinTeam {
    /// The invitation code.
    pub code: String,
}

async fn require_manager(state: &AppState, team_id: &str, user: &CurrentUser) -> ApiResult<()> {
    if role_in(state, team_id, user).await?.manages_members() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only the team's owners and admins manage invitations",
        ))
    }
}

/// Create an invitation code (team owners and admins).
#[utoipa::path(
    post, path = "/api/v1/teams/{id}/invitations", tag = "teams",
    params(("id" = String, Path, description = "Team id")),
    request_body = CreateInvitation,
    responses(
        (status = 201, description = "Created; the code is shown only now", body = CreatedInvitation),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an owner or admin of the team", body = ErrorBody),
        (status = 404, description = "No such team, or not a member", body = ErrorBody),
        (status = 422, description = "Role is not admin, member or guest", body = ErrorBody),
    )
)]
async fn create_invitation(
    state: State<AppState>,
    client: ClientInfo,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<CreateInvitation>,
) -> ApiResult<(StatusCode, axum::Json<CreatedInvitation>)> {
    require_manager(&state, &id, &user).await?;
    let role = parse_role(&body.role, INVITABLE)?;
    let inv_id = selah_store::new_id();
    let secret = token::generate();
    let ttl_ms = i64::try_from(state.config.auth.invitation_ttl_secs)
        .unwrap_or(i64::MAX / 2000)
        .saturating_mul(1000);
    let inv = state
        .store
        .create_invitation(NewInvitation {
            id: &inv_id,
            team_id: &id,
            code_hash: &token::hash(&secret),
            role,
            created_by: user.id(),
            expires_at: selah_store::now_ms().saturating_add(ttl_ms),
        })
        .await?;
    state
        .audit
        .record(
            AuditEvent::new("team.invitation_created", "create")
                .user(user.id())
                .resource("team", &id)
                .details(json!({"invitation": inv.id, "role": role.as_str()}))
                .client(&client),
        )
        .await;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedInvitation {
            code: format!("{}.{secret}", inv.id),
            id: inv.id,
            role,
            expires_at: inv.expires_at,
        }),
    ))
}

/// A team's invitations, without codes (team owners and admins).
#[utoipa::path(
    get, path = "/api/v1/teams/{id}/invitations", tag = "teams",
    params(("id" = String, Path, description = "Team id")),
    responses(
        (status = 200, description = "Invitations, newest first", body = [InvitationView]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an owner or admin of the team", body = ErrorBody),
        (status = 404, description = "No such team, or not a member", body = ErrorBody),
    )
)]
async fn list_invitations(
    state: State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<InvitationView>>> {
    require_manager(&state, &id, &user).await?;
    let list = state.store.team_invitations(&id).await?;
    Ok(axum::Json(list.into_iter().map(Into::into).collect()))
}

/// Withdraw an invitation (team owners and admins).
#[utoipa::path(
    delete, path = "/api/v1/teams/{id}/invitations/{inv_id}", tag = "teams",
    params(
        ("id" = String, Path, description = "Team id"),
        ("inv_id" = String, Path, description = "Invitation id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an owner or admin of the team", body = ErrorBody),
        (status = 404, description = "No such team or invitation", body = ErrorBody),
    )
)]
async fn delete_invitation(
    state: State<AppState>,
    user: CurrentUser,
    Path((id, inv_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    require_manager(&state, &id, &user).await?;
    if state.store.delete_invitation(&id, &inv_id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("invitation"))
    }
}

/// Join a team with an invitation code (any signed-in user).
#[utoipa::path(
    post, path = "/api/v1/teams/join", tag = "teams",
    request_body = JoinTeam,
    responses(
        (status = 201, description = "Joined", body = TeamView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "Unknown, expired, burnt or wrong code", body = ErrorBody),
        (status = 409, description = "Code already used, or already a member", body = ErrorBody),
        (status = 422, description = "Not shaped like an invitation code", body = ErrorBody),
    )
)]
async fn join(
    state: State<AppState>,
    client: ClientInfo,
    user: CurrentUser,
    Json(body): Json<JoinTeam>,
) -> ApiResult<(StatusCode, axum::Json<TeamView>)> {
    let (inv_id, secret) = body
        .code
        .trim()
        .split_once('.')
        .filter(|(i, s)| !i.is_empty() && i.len() <= 64 && !s.is_empty() && s.len() <= 256)
        .ok_or_else(|| ApiError::validation("that is not an invitation code"))?;
    let presented = token::hash(secret);
    let max = i64::from(state.config.auth.invitation_max_attempts);
    let outcome = state
        .store
        .redeem_invitation(inv_id, user.id(), max, |stored| {
            token::constant_time_eq(&presented, stored)
        })
        .await?;
    let (reason, err) = match outcome {
        Redemption::Joined { team_id, role } => {
            state
                .audit
                .record(
                    AuditEvent::new("team.invitation_redeemed", "create")
                        .user(user.id())
                        .resource("team", &team_id)
                        .details(json!({"invitation": inv_id, "role": role.as_str()}))
                        .client(&client),
                )
                .await;
            state
                .audit
                .record(
                    AuditEvent::new("team.member_added", "create")
                        .user(user.id())
                        .resource("team", &team_id)
                        .details(json!({"member": user.id(), "role": role.as_str(), "via": "invitation"}))
                        .client(&client),
                )
                .await;
            let team = state
                .store
                .team_for_member(&team_id, user.id())
                .await?
                .ok_or_else(|| ApiError::not_found("team"))?;
            return Ok((StatusCode::CREATED, axum::Json(team.into())));
        }
        Redemption::Used => (
            "used",
            ApiError::conflict("this invitation was already used"),
        ),
        Redemption::AlreadyMember { .. } => (
            "already_member",
            ApiError::conflict("you are already a member of this team"),
        ),
        Redemption::Unknown => ("unknown", not_valid()),
        Redemption::Expired => ("expired", not_valid()),
        Redemption::Burnt => ("burnt", not_valid()),
        Redemption::WrongSecret { .. } => ("wrong_code", not_valid()),
    };
    state
        .audit
        .record(
            AuditEvent::new("team.invitation_failed", "create")
                .user(user.id())
                .resource("team_invitation", inv_id)
                .details(json!({"reason": reason}))
                .client(&client),
        )
        .await;
    Err(err)
}

fn not_valid() -> ApiError {
    ApiError::new(
        selah_core::ErrorCode::NotFound,
        "this invitation code is not valid: it may be mistyped, expired or withdrawn",
    )
}
