//! The `CurrentUser` extractor: who is calling, from a bearer token or the session cookie.
//!
//! Cookie-authenticated requests that change state (anything but GET, HEAD, OPTIONS) must carry
//! the session's CSRF token in `X-CSRF-Token`; bearer requests need not, since a browser never
//! attaches a bearer token on its own.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use selah_core::ErrorCode;
use selah_store::users::User;

use super::token;
use crate::error::ApiError;
use crate::state::AppState;

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthVia {
    /// `Authorization: Bearer`.
    Bearer,
    /// The session cookie.
    Cookie,
}

/// The signed-in caller.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The account.
    pub user: User,
    /// The session's public id.
    pub session_id: String,
    /// How the request authenticated.
    pub via: AuthVia,
    /// Founder step-up valid until (ms; 0: none).
    pub step_up_until: i64,
    /// The session's absolute expiry (ms).
    pub expires_at: i64,
}

impl CurrentUser {
    /// The user's id.
    pub fn id(&self) -> &str {
        &self.user.id
    }
}

/// The token a request carries, and how.
pub fn request_token(headers: &axum::http::HeaderMap) -> Option<(String, AuthVia)> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    {
        return Some((t.trim().to_string(), AuthVia::Bearer));
    }
    for v in headers.get_all(header::COOKIE) {
        let Ok(v) = v.to_str() else { continue };
        for pair in v.split(';') {
            if let Some((k, val)) = pair.trim().split_once('=')
                && k == token::COOKIE_NAME
                && !val.is_empty()
            {
                return Some((val.to_string(), AuthVia::Cookie));
            }
        }
    }
    None
}

impl CurrentUser {
    /// The signed-in user a session token belongs to (also used by the live WebSocket, whose
    /// token arrives in the first message).
    pub async fn from_token(state: &AppState, tok: &str, via: AuthVia) -> Result<Self, ApiError> {
        if tok.len() > 256 {
            return Err(ApiError::unauthenticated());
        }
        let idle_ms = (state.config.auth.session_idle_secs as i64).saturating_mul(1000);
        let (session, user) = state
            .store
            .session_by_token(&token::hash(tok), idle_ms)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Unauthenticated,
                    "your session has ended; sign in again",
                )
            })?;
        if user.disabled {
            return Err(ApiError::new(
                ErrorCode::AccountDisabled,
                "this account is disabled",
            ));
        }
        Ok(CurrentUser {
            user,
            session_id: session.id,
            via,
            step_up_until: session.step_up_until,
            expires_at: session.expires_at,
        })
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(u) = parts.extensions.get::<CurrentUser>() {
            return Ok(u.clone());
        }
        let (tok, via) = request_token(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        let current = CurrentUser::from_token(state, &tok, via).await?;
        if via == AuthVia::Cookie
            && !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS)
        {
            let sent = parts
                .headers
                .get(token::CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !token::constant_time_eq(sent, &token::csrf_for(&tok)) {
                return Err(ApiError::new(
                    ErrorCode::CsrfMissing,
                    "this change needs the X-CSRF-Token header from your login response",
                ));
            }
        }
        parts.extensions.insert(current.clone());
        Ok(current)
    }
}
