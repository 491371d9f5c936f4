//! Re-proving the password: founder step-up (`POST /api/v1/auth/step-up`) and changing one's
//! own password (`POST /api/v1/auth/password`). Both count wrong passwords towards the login
//! back-off, so a stolen session cannot be used to guess the password either.

use axum::extract::State;
use axum::http::StatusCode;
use selah_core::Role;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::CurrentUser;
use super::login::{backing_off, invalid_credentials};
use super::password::{check_policy, hash_password, verify_password};
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// The founder's password, again.
#[derive(Deserialize, ToSchema)]
pub struct StepUpRequest {
    /// The founder's password.
    pub password: String,
}

/// How long founder-only actions are open.
#[derive(Serialize, ToSchema)]
pub struct StepUpResponse {
    /// ms since the epoch.
    pub step_up_until: i64,
}

/// A password change.
#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    /// The password now.
    pub current_password: String,
    /// The new one (at least `auth.min_password_len` characters).
    pub new_password: String,
}

/// Checks the caller's password under the back-off; a wrong one is counted and refused.
async fn verify_own_password(
    state: &AppState,
    client: &ClientInfo,
    me: &CurrentUser,
    password: String,
) -> ApiResult<bool> {
    let _attempt = state
        .login_guard
        .check(&me.user.username, client.ip)
        .map_err(backing_off)?;
    let ok = verify_password(me.user.password_hash.clone(), password).await?;
    if !ok {
        state
            .login_guard
            .record_failure(&me.user.username, client.ip);
    }
    Ok(ok)
}

/// Founder only: re-enter the password to open founder-only actions for `auth.step_up_secs`.
#[utoipa::path(post, path = "/api/v1/auth/step-up", tag = "auth",
    request_body = StepUpRequest,
    responses(
        (status = 200, body = StepUpResponse),
        (status = 400, body = ErrorBody, description = "Malformed body"),
        (status = 401, body = ErrorBody, description = "Not signed in, or invalid_credentials"),
        (status = 403, body = ErrorBody, description = "Not the founder"),
        (status = 429, body = ErrorBody, description = "Too many failures"),
    ))]
pub async fn step_up(
    State(state): State<AppState>,
    client: ClientInfo,
    me: CurrentUser,
    Json(req): Json<StepUpRequest>,
) -> ApiResult<axum::Json<StepUpResponse>> {
    if me.user.role != Role::Founder {
        return Err(ApiError::forbidden("only the founder has a step-up"));
    }
    let ok = verify_own_password(&state, &client, &me, req.password).await?;
    let event = AuditEvent::new("auth.step_up", "verify")
        .user(me.id())
        .resource("session", &me.session_id)
        .client(&client);
    if !ok {
        state
            .audit
            .record(event.details(json!({"success": false})))
            .await;
        return Err(invalid_credentials());
    }
    let until =
        selah_store::now_ms() + (state.config.auth.step_up_secs as i64).saturating_mul(1000);
    state.store.set_step_up(&me.session_id, until).await?;
    state
        .audit
        .record(event.details(json!({"success": true, "until": until})))
        .await;
    Ok(axum::Json(StepUpResponse {
        step_up_until: until,
    }))
}

/// Changes the caller's password. Every other session of theirs ends; the one used for the
/// change stays valid (same token), so the person making the change is not signed out.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed; other sessions ended"),
        (status = 400, body = ErrorBody, description = "Malformed body"),
        (status = 401, body = ErrorBody, description = "Not signed in, or invalid_credentials"),
        (status = 422, body = ErrorBody, description = "The new password is refused"),
        (status = 429, body = ErrorBody, description = "Too many failures"),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    client: ClientInfo,
    me: CurrentUser,
    Json(req): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    check_policy(&req.new_password, state.config.auth.min_password_len)?;
    if !verify_own_password(&state, &client, &me, req.current_password).await? {
        state
            .audit
            .record(
                AuditEvent::new("user.password_changed", "update")
                    .user(me.id())
                    .resource("user", me.id())
                    .details(json!({"success": false}))
                    .client(&client),
            )
            .await;
        return Err(invalid_credentials());
    }
    let hash = hash_password(req.new_password).await?;
    state
        .store
        .change_password(me.id(), &hash, &me.session_id)
        .await?;
    state
        .audit
        .record(
            AuditEvent::new("user.password_changed", "update")
                .user(me.id())
                .resource("user", me.id())
                .details(json!({"success": true, "other_sessions_ended": true}))
                .client(&client),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}
