//! What an account may do: its role, its password (reset by an administrator) and its
//! per-user permission grants and denials.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::StatusCode;
use selah_core::{Effect, Permission, Role};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::users::{UserDetail, check_target, detail, load_user, require_founder_step_up};
use crate::audit::AuditEvent;
use crate::auth::dto::{UserEnvelope, UserView, parse_assignable_role};
use crate::auth::password::{check_policy, hash_password};
use crate::authz::{Require, perm};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// A new role.
#[derive(Deserialize, ToSchema)]
pub struct RoleChange {
    /// `super_admin`, `admin`, `member` or `guest`.
    pub role: String,
}

/// A password reset.
#[derive(Deserialize, ToSchema)]
pub struct PasswordReset {
    /// The new password.
    pub password: String,
}

/// The complete set of per-user overrides (replaces what was there).
#[derive(Deserialize, ToSchema)]
pub struct PermissionOverrides {
    /// Keys granted beyond the role.
    #[serde(default)]
    pub grants: Vec<String>,
    /// Keys denied whatever else gives them.
    #[serde(default)]
    pub denials: Vec<String>,
}

/// Changes an account's global role (`Role::may_change_role`; anything touching an
/// administrator role is the founder's, with a step-up).
#[utoipa::path(put, path = "/api/v1/admin/users/{id}/role", tag = "admin",
    params(("id" = String, Path, description = "User id")),
    request_body = RoleChange,
    responses(
        (status = 200, body = UserEnvelope),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "forbidden or step_up_required"),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "Unknown role, or founder"),
    ))]
pub async fn set_role(
    State(state): State<AppState>,
    client: ClientInfo,
    auth: Require<perm::AdminManageUsers>,
    Path(id): Path<String>,
    Json(req): Json<RoleChange>,
) -> ApiResult<axum::Json<UserEnvelope>> {
    let to = parse_assignable_role(&req.role)?;
    let mut user = load_user(&state, &id).await?;
    let from = user.role;
    if user.id == auth.user.id() || !auth.user.user.role.may_change_role(from, to) {
        return Err(ApiError::forbidden(format!(
            "you may not change this account from {} to {}",
            from.as_str(),
            to.as_str()
        )));
    }
    if Role::change_needs_founder(from, to) {
        require_founder_step_up(&auth.user)?;
    }
    if !state.store.set_role(&user.id, to).await? {
        return Err(ApiError::not_found("user"));
    }
    user.role = to;
    state
        .audit
        .record(
            AuditEvent::new("user.role_changed", "update")
                .user(auth.user.id())
                .resource("user", &user.id)
                .details(json!({"from": from.as_str(), "to": to.as_str()}))
                .client(&client),
        )
        .await;
    Ok(axum::Json(UserEnvelope {
        user: UserView::from(&user),
    }))
}

/// Sets a new password for an account and ends all its sessions.
#[utoipa::path(put, path = "/api/v1/admin/users/{id}/password", tag = "admin",
    params(("id" = String, Path, description = "User id")),
    request_body = PasswordReset,
    responses(
        (status = 204, description = "Reset; the user's sessions ended"),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "Password refused"),
    ))]
pub async fn reset_password(
    State(state): State<AppState>,
    client: ClientInfo,
    auth: Require<perm::AdminManageUsers>,
    Path(id): Path<String>,
    Json(req): Json<PasswordReset>,
) -> ApiResult<StatusCode> {
    let user = load_user(&state, &id).await?;
    check_target(&auth.user, &user)?;
    check_policy(&req.password, state.config.auth.min_password_len)?;
    let hash = hash_password(req.password).await?;
    if !state.store.set_password(&user.id, &hash).await? {
        return Err(ApiError::not_found("user"));
    }
    state
        .audit
        .record(
            AuditEvent::new("user.password_reset", "update")
                .user(auth.user.id())
                .resource("user", &user.id)
                .details(json!({"sessions_ended": true}))
                .client(&client),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Validates the override lists: known keys only, never `founder.all`, no key in both.
fn parse_overrides(req: &PermissionOverrides) -> ApiResult<Vec<(Permission, Effect)>> {
    let parse = |keys: &[String]| -> ApiResult<BTreeSet<Permission>> {
        keys.iter()
            .map(|k| match Permission::from_key(k) {
                Some(Permission::FounderAll) => Err(ApiError::validation(
                    "founder.all belongs to the founder and cannot be granted or denied",
                )),
                Some(p) => Ok(p),
                None => Err(ApiError::validation(format!(
                    "unknown permission key: {}",
                    k.chars().take(64).collect::<String>()
                ))),
            })
            .collect()
    };
    let grants = parse(&req.grants)?;
    let denials = parse(&req.denials)?;
    if let Some(both) = grants.intersection(&denials).next() {
        return Err(ApiError::validation(format!(
            "{} is both granted and denied",
            both.key()
        )));
    }
    Ok(grants
        .into_iter()
        .map(|p| (p, Effect::Grant))
        .chain(denials.into_iter().map(|p| (p, Effect::Deny)))
        .collect())
}

/// Replaces an account's grants and denials. Founder only, with a step-up.
#[utoipa::path(put, path = "/api/v1/admin/users/{id}/permissions", tag = "admin",
    params(("id" = String, Path, description = "User id")),
    request_body = PermissionOverrides,
    responses(
        (status = 200, body = UserDetail),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Needs founder.all (founder with step-up)"),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "Unknown key, founder.all, or a key in both lists"),
    ))]
pub async fn set_permissions(
    State(state): State<AppState>,
    client: ClientInfo,
    auth: Require<perm::FounderAll>,
    Path(id): Path<String>,
    Json(req): Json<PermissionOverrides>,
) -> ApiResult<axum::Json<UserDetail>> {
    let overrides = parse_overrides(&req)?;
    let user = load_user(&state, &id).await?;
    if user.role == Role::Founder {
        return Err(ApiError::forbidden(
            "the founder holds every permission; overrides do not apply",
        ));
    }
    state
        .store
        .set_permission_overrides(&user.id, &overrides)
        .await?;
    let keys = |e: Effect| -> Vec<&str> {
        overrides
            .iter()
            .filter(|(_, x)| *x == e)
            .map(|(p, _)| p.key())
            .collect()
    };
    state
        .audit
        .record(
            AuditEvent::new("user.permissions_changed", "update")
                .user(auth.user.id())
                .resource("user", &user.id)
                .details(json!({"grants": keys(Effect::Grant), "denials": keys(Effect::Deny)}))
                .client(&client),
        )
        .await;
    Ok(axum::Json(detail(&state, &user).await?))
}
