//! First run: `GET /api/v1/setup/status` and `POST /api/v1/setup/founder`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::dto::{UserEnvelope, UserView, check_username};
use super::password::{check_policy, hash_password};
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// Whether the server still needs its founder.
#[derive(Serialize, ToSchema)]
pub struct SetupStatus {
    /// True until the founder account exists.
    pub needs_setup: bool,
    /// Server version.
    pub version: String,
}

/// The founder's account.
#[derive(Deserialize, ToSchema)]
pub struct FounderRequest {
    /// 3–64 of `A-Z a-z 0-9 . _ -`.
    pub username: String,
    /// At least `auth.min_password_len` characters.
    pub password: String,
}

/// Whether setup is still needed.
#[utoipa::path(get, path = "/api/v1/setup/status", tag = "setup",
    responses((status = 200, body = SetupStatus)))]
pub async fn status(State(state): State<AppState>) -> ApiResult<axum::Json<SetupStatus>> {
    Ok(axum::Json(SetupStatus {
        needs_setup: state.store.count_users().await? == 0,
        version: env!("CARGO_PKG_VERSION").to_string(),
    }))
}

/// Creates the founder; refused once any user exists.
#[utoipa::path(post, path = "/api/v1/setup/founder", tag = "setup",
    request_body = FounderRequest,
    responses(
        (status = 201, body = UserEnvelope, description = "The founder was created"),
        (status = 400, body = ErrorBody, description = "Malformed body"),
        (status = 409, body = ErrorBody, description = "Setup is already done"),
        (status = 422, body = ErrorBody, description = "Username or password refused"),
    ))]
pub async fn founder(
    State(state): State<AppState>,
    client: ClientInfo,
    Json(req): Json<FounderRequest>,
) -> ApiResult<(StatusCode, axum::Json<UserEnvelope>)> {
    // Checked first and cheaply, so a finished install never spends a hash on this route.
    if state.store.count_users().await? > 0 {
        return Err(already_done());
    }
    check_username(&req.username)?;
    check_policy(&req.password, state.config.auth.min_password_len)?;
    let hash = hash_password(req.password).await?;
    // Atomic: of concurrent calls exactly one creates the founder.
    let user = state
        .store
        .create_founder(&req.username, &hash)
        .await?
        .ok_or_else(already_done)?;
    state
        .audit
        .record(
            AuditEvent::new("setup.founder_created", "create")
                .user(&user.id)
                .resource("user", &user.id)
                .details(json!({"username": user.username}))
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

fn already_done() -> ApiError {
    ApiError::conflict("setup is already done: sign in instead")
}
