//! User administration: list, create, inspect, disable and enable accounts
//! (`admin.manage_users`). Role, password and permission changes are in `user_access`.
//!
//! Accounts with an administrative role (super_admin, admin) are the founder's to manage, with
//! a live step-up; the founder's own account is never changed here, and nobody acts on their own
//! account through these routes (they have `/api/v1/auth/*` for that).

use axum::extract::State;
use axum::http::StatusCode;
use selah_core::permissions::Decision;
use selah_core::{ErrorCode, Permission, Role};
use selah_store::StoreError;
use selah_store::users::User;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::AuditEvent;
use crate::auth::CurrentUser;
use crate::auth::dto::{UserEnvelope, UserView, check_username, parse_assignable_role};
use crate::auth::effective::evaluate;
use crate::auth::password::{check_policy, hash_password};
use crate::authz::{Require, perm};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// `{"users": […]}`.
#[derive(Serialize, ToSchema)]
pub struct UserList {
    /// Every account, oldest first.
    pub users: Vec<UserView>,
}

/// A new account.
#[derive(Deserialize, ToSchema)]
pub struct CreateUser {
    /// 3–64 of `A-Z a-z 0-9 . _ -`.
    pub username: String,
    /// At least `auth.min_password_len` characters.
    pub password: String,
    /// `super_admin`, `admin`, `member` (default) or `guest`.
    #[serde(default = "default_role")]
    pub role: String,
}

fn default_role() -> String {
    Role::Member.as_str().to_string()
}

/// An account with its permissions.
#[derive(Serialize, ToSchema)]
pub struct UserDetail {
    /// The account.
    pub user: UserView,
    /// Per-user grants (keys).
    pub grants: Vec<Permission>,
    /// Per-user denials (keys).
    pub denials: Vec<Permission>,
    /// Every key's effective decision (personal context).
    pub permissions: Vec<Decision>,
}

/// Enable or disable.
#[derive(Deserialize, ToSchema)]
pub struct PatchUser {
    /// True disables the account and ends its sessions; false re-enables it.
    pub disabled: bool,
}

/// Refuses unless the caller is the founder with a live step-up.
pub(crate) fn require_founder_step_up(caller: &CurrentUser) -> ApiResult<()> {
    if caller.user.role != Role::Founder {
        return Err(ApiError::forbidden(
            "only the founder manages administrator accounts",
        ));
    }
    if caller.step_up_until <= selah_store::now_ms() {
        return Err(ApiError::new(
            ErrorCode::StepUpRequired,
            "enter the founder password again (POST /api/v1/auth/step-up) to do this",
        ));
    }
    Ok(())
}

/// Checks that `caller` may change `target`'s account (status, password).
pub(crate) fn check_target(caller: &CurrentUser, target: &User) -> ApiResult<()> {
    if target.id == caller.user.id {
        return Err(ApiError::forbidden(
            "you cannot change your own account here; use /api/v1/auth",
        ));
    }
    if target.role == Role::Founder {
        return Err(ApiError::forbidden(
            "the founder's account cannot be changed here",
        ));
    }
    if target.role <= Role::Admin {
        require_founder_step_up(caller)?;
    }
    Ok(())
}

/// The user with this id, or 404.
pub(crate) async fn load_user(state: &AppState, id: &str) -> ApiResult<User> {
    if id.len() > 64 {
        return Err(ApiError::not_found("user"));
    }
    state
        .store
        .user(id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))
}

/// The user with overrides and effective permissions.
pub(crate) async fn detail(state: &AppState, user: &User) -> ApiResult<UserDetail> {
    let overrides = state.store.permission_overrides(&user.id).await?;
    let pick = |e: selah_core::Effect| {
        overrides
            .iter()
            .filter(|(_, x)| *x == e)
            .map(|(p, _)| *p)
            .collect()
    };
    Ok(UserDetail {
        user: UserView::from(user),
        grants: pick(selah_core::Effect::Grant),
        denials: pick(selah_core::Effect::Deny),
        permissions: evaluate(state, user, None).await?,
    })
}

/// Every account.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin",
    responses(
        (status = 200, body = UserList),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Needs admin.manage_users"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    _auth: Require<perm::AdminManageUsers>,
) -> ApiResult<axum::Json<UserList>> {
    let users = state.store.list_users().await?;
    Ok(axum::Json(UserList {
        users: users.iter().map(UserView::from).collect(),
    }))
}

/// Creates an account. Creating an administrator is the founder's, with a step-up.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin",
    request_body = CreateUser,
    responses(
        (status = 201, body = UserEnvelope),
        (status = 400, body = ErrorBody, description = "Malformed body"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "forbidden or step_up_required"),
        (status = 409, body = ErrorBody, description = "The username is taken"),
        (status = 422, body = ErrorBody, description = "Username, password or role refused"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    client: ClientInfo,
    auth: Require<perm::AdminManageUsers>,
    Json(req): Json<CreateUser>,
) -> ApiResult<(StatusCode, axum::Json<UserEnvelope>)> {
    check_username(&req.username)?;
    check_policy(&req.password, state.config.auth.min_password_len)?;
    let role = parse_assignable_role(&req.role)?;
    if Role::change_needs_founder(Role::Member, role) {
        require_founder_step_up(&auth.user)?;
    }
    let hash = hash_password(req.password).await?;
    let user = match state.store.create_user(&req.username, &hash, role).await {
        Ok(u) => u,
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::conflict("a user with that name already exists"));
        }
        Err(e) => return Err(e.into()),
    };
    state
        .audit
        .record(
            AuditEvent::new("user.created", "create")
                .user(auth.user.id())
                .resource("user", &user.id)
                .details(json!({"username": user.username, "role": role.as_str()}))
                .client(&client),
        )
        .await;
    Ok((
        StatusCode::CREATED,
        axum::Json(UserEnvelope {
            user: UserView::from(&user),
        }),
    ))
}

/// One account with its effective permissions.
#[utoipa::path(get, path = "/api/v1/admin/users/{id}", tag = "admin",
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, body = UserDetail),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get(
    State(state): State<AppState>,
    _auth: Require<perm::AdminManageUsers>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<UserDetail>> {
    let user = load_user(&state, &id).await?;
    Ok(axum::Json(detail(&state, &user).await?))
}

/// Disables (ending every session) or re-enables an account.
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "admin",
    params(("id" = String, Path, description = "User id")),
    request_body = PatchUser,
    responses(
        (status = 200, body = UserEnvelope),
        (status = 400, body = ErrorBody, description = "Malformed body"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "The founder, yourself, or an administrator without founder step-up"),
        (status = 404, body = ErrorBody),
    ))]
pub async fn patch(
    State(state): State<AppState>,
    client: ClientInfo,
    auth: Require<perm::AdminManageUsers>,
    Path(id): Path<String>,
    Json(req): Json<PatchUser>,
) -> ApiResult<axum::Json<UserEnvelope>> {
    let mut user = load_user(&state, &id).await?;
    check_target(&auth.user, &user)?;
    if !state.store.set_disabled(&user.id, req.disabled).await? {
        return Err(ApiError::not_found("user"));
    }
    user.disabled = req.disabled;
    let event = if req.disabled {
        "user.disabled"
    } else {
        "user.enabled"
    };
    state
        .audit
        .record(
            AuditEvent::new(event, "update")
                .user(auth.user.id())
                .resource("user", &user.id)
                .details(json!({"disabled": req.disabled}))
                .client(&client),
        )
        .await;
    Ok(axum::Json(UserEnvelope {
        user: UserView::from(&user),
    }))
}
