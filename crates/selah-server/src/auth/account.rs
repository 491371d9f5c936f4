//! The signed-in user's own view: `GET /api/v1/auth/me`, their sessions and revoking one.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::CurrentUser;
use super::current::{AuthVia, request_token};
use super::token;
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Path;
use crate::observe::client::ClientInfo;
use crate::state::AppState;
use selah_core::Role;

/// The account part of `/me`.
#[derive(Serialize, ToSchema)]
pub struct MeUser {
    /// Opaque id.
    pub id: String,
    /// Username.
    pub username: String,
    /// Global role.
    pub role: Role,
    /// Creation time, ms.
    pub created_at: i64,
}

/// The session part of `/me`.
#[derive(Serialize, ToSchema)]
pub struct MeSession {
    /// Public id.
    pub id: String,
    /// Absolute expiry, ms.
    pub expires_at: i64,
    /// Founder step-up valid until, ms (0: none).
    pub step_up_until: i64,
    /// The session's CSRF token, for a browser that reloaded and lost the one its login response
    /// carried; only on cookie-authenticated requests (a bearer client needs none). Another site
    /// cannot read it: the cookie is SameSite=Strict and CORS is off unless configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

/// Who is signed in. Later capabilities add fields here (teams, preferences).
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// The account.
    pub user: MeUser,
    /// The session this request used.
    pub session: MeSession,
    /// The teams the user belongs to, with their role in each (send a team's id as
    /// `X-Selah-Team` to act in it).
    pub teams: Vec<crate::teams::TeamView>,
}

/// One of the caller's sessions.
#[derive(Serialize, ToSchema)]
pub struct SessionView {
    /// Public id (use it to revoke).
    pub id: String,
    /// `browser` or `token`.
    pub kind: String,
    /// Created, ms.
    pub created_at: i64,
    /// Last used, ms (refreshed at most once a minute).
    pub last_seen_at: i64,
    /// Absolute expiry, ms.
    pub expires_at: i64,
    /// Address at login.
    pub ip: Option<String>,
    /// User agent at login.
    pub user_agent: Option<String>,
    /// True for the session this request used.
    pub current: bool,
}

/// `{"sessions": […]}`.
#[derive(Serialize, ToSchema)]
pub struct SessionList {
    /// Live sessions, newest first.
    pub sessions: Vec<SessionView>,
}

fn idle_ms(state: &AppState) -> i64 {
    (state.config.auth.session_idle_secs as i64).saturating_mul(1000)
}

/// The signed-in user and session.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    me: CurrentUser,
    headers: axum::http::HeaderMap,
) -> ApiResult<axum::Json<Me>> {
    let teams = state.store.teams_of(me.id()).await?;
    Ok(axum::Json(Me {
        user: MeUser {
            id: me.user.id.clone(),
            username: me.user.username.clone(),
            role: me.user.role,
            created_at: me.user.created_at,
        },
        session: MeSession {
            id: me.session_id.clone(),
            expires_at: me.expires_at,
            step_up_until: me.step_up_until,
            csrf_token: match request_token(&headers) {
                Some((tok, AuthVia::Cookie)) => Some(token::csrf_for(&tok)),
                _ => None,
            },
        },
        teams: teams.into_iter().map(Into::into).collect(),
    }))
}

/// The caller's live sessions.
#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "auth",
    responses((status = 200, body = SessionList), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
) -> ApiResult<axum::Json<SessionList>> {
    let sessions = state
        .store
        .live_sessions(me.id(), idle_ms(&state))
        .await?
        .into_iter()
        .map(|s| SessionView {
            current: s.id == me.session_id,
            id: s.id,
            kind: s.kind,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            ip: s.ip,
            user_agent: s.user_agent,
        })
        .collect();
    Ok(axum::Json(SessionList { sessions }))
}

/// Ends one of the caller's sessions.
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", tag = "auth",
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "csrf_missing on a cookie request"),
        (status = 404, body = ErrorBody, description = "Not one of your sessions"),
    ))]
pub async fn revoke(
    State(state): State<AppState>,
    client: ClientInfo,
    me: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    // Scoped to the caller: another user's session id is indistinguishable from an unknown one.
    if !state.store.revoke_session(me.id(), &id).await? {
        return Err(ApiError::not_found("session"));
    }
    state
        .audit
        .record(
            AuditEvent::new("auth.session_revoked", "delete")
                .user(me.id())
                .resource("session", &id)
                .details(json!({"current": id == me.session_id}))
                .client(&client),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}
