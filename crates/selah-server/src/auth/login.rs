//! `POST /api/v1/auth/login` and `POST /api/v1/auth/logout`.
//!
//! One token serves both kinds of client: the browser keeps it in an HttpOnly, SameSite=Strict
//! cookie (and sends the CSRF token returned here with every change), API and CLI clients send
//! it as `Authorization: Bearer`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use selah_core::{ErrorCode, Role};
use selah_store::sessions::NewSession;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::CurrentUser;
use super::password::{dummy_hash, verify_password};
use super::token;
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// Credentials.
#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Username (case-insensitive).
    pub username: String,
    /// Password.
    pub password: String,
}

/// Who signed in.
#[derive(Serialize, ToSchema)]
pub struct LoginUser {
    /// Opaque id.
    pub id: String,
    /// Username.
    pub username: String,
    /// Global role.
    pub role: Role,
}

/// A new session.
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token (also set as the `selah_session` cookie). Shown only here.
    pub token: String,
    /// Send as `X-CSRF-Token` on cookie-authenticated changes.
    pub csrf_token: String,
    /// The session's public id.
    pub session_id: String,
    /// Absolute expiry, ms since the epoch.
    pub expires_at: i64,
    /// The account.
    pub user: LoginUser,
}

/// The refusal for both an unknown user and a wrong password: the bodies must be identical.
pub(crate) fn invalid_credentials() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidCredentials,
        "the username or password is wrong",
    )
}

/// Refusal while the back-off for this account or address runs.
pub(crate) fn backing_off(secs: u64) -> ApiError {
    ApiError::new(
        ErrorCode::RateLimited,
        format!("too many failed attempts; try again in {secs} s"),
    )
    .with_retry_after(secs)
}

/// Builds the `Set-Cookie` value for a session (Max-Age 0 clears it).
pub(crate) fn session_cookie(state: &AppState, value: &str, max_age: u64) -> HeaderValue {
    let secure = if state.config.auth.secure_cookie {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}",
        token::COOKIE_NAME
    );
    // The token is URL-safe base64, so the value is always a valid header.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Signs in: returns a token and sets the session cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse, description = "Signed in; also sets the selah_session cookie"),
        (status = 400, body = ErrorBody, description = "Malformed body"),
        (status = 401, body = ErrorBody, description = "invalid_credentials: unknown user or wrong password"),
        (status = 403, body = ErrorBody, description = "account_disabled"),
        (status = 429, body = ErrorBody, description = "Too many failures: wait Retry-After seconds"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Response> {
    // Refused before any password work, so a locked account is not a guessing oracle.
    let _attempt = state
        .login_guard
        .check(&req.username, client.ip)
        .map_err(backing_off)?;
    let user = if req.username.len() <= 256 {
        state.store.user_by_name(&req.username).await?
    } else {
        None
    };
    let hash = match &user {
        Some(u) => u.password_hash.clone(),
        None => dummy_hash().await, // same work for an unknown name as for a wrong password
    };
    let ok = verify_password(hash, req.password).await?;
    let user = match user {
        Some(u) if ok => u,
        found => {
            state.login_guard.record_failure(&req.username, client.ip);
            let attempted: String = req.username.chars().take(64).collect();
            let mut ev = AuditEvent::new("auth.login_failed", "login")
                .details(json!({"username": attempted}))
                .client(&client);
            if let Some(u) = &found {
                ev = ev.user(&u.id).resource("user", &u.id);
            }
            state.audit.record(ev).await;
            return Err(invalid_credentials());
        }
    };
    if user.disabled {
        return Err(ApiError::new(
            ErrorCode::AccountDisabled,
            "this account is disabled; ask an administrator",
        ));
    }
    state.login_guard.record_success(&req.username);

    let tok = token::generate();
    let lifetime = state.config.auth.session_absolute_secs;
    // Informational only: what kind of client opened the session.
    let kind = if headers.contains_key(header::ORIGIN) || headers.contains_key("sec-fetch-mode") {
        "browser"
    } else {
        "token"
    };
    let ip = client.ip.to_string();
    let session = state
        .store
        .create_session(NewSession {
            token_hash: &token::hash(&tok),
            user_id: &user.id,
            kind,
            lifetime_ms: (lifetime as i64).saturating_mul(1000),
            ip: Some(&ip),
            user_agent: client.user_agent.as_deref(),
        })
        .await?;
    state
        .audit
        .record(
            AuditEvent::new("auth.login", "login")
                .user(&user.id)
                .resource("session", &session.id)
                .details(json!({"kind": kind}))
                .client(&client),
        )
        .await;
    let body = LoginResponse {
        csrf_token: token::csrf_for(&tok),
        session_id: session.id,
        expires_at: session.expires_at,
        user: LoginUser {
            id: user.id,
            username: user.username,
            role: user.role,
        },
        token: tok,
    };
    let cookie = session_cookie(&state, &body.token, lifetime);
    Ok(([(header::SET_COOKIE, cookie)], axum::Json(body)).into_response())
}

/// Ends the current session and clears the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses(
        (status = 204, description = "Signed out; the cookie is cleared"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "csrf_missing on a cookie request"),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    client: ClientInfo,
    me: CurrentUser,
) -> ApiResult<Response> {
    state.store.revoke_session(me.id(), &me.session_id).await?;
    state
        .audit
        .record(
            AuditEvent::new("auth.logout", "logout")
                .user(me.id())
                .resource("session", &me.session_id)
                .client(&client),
        )
        .await;
    let cookie = session_cookie(&state, "", 0);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}
