//! The upgrade to a WebSocket and what is checked before it: no token in the URL, a browser's
//! `Origin` matching the server (a cookie is sent from any page, so this is what stops another
//! site from opening a socket as the user), the credentials if the request carries any, and the
//! per-user connection limit.

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use selah_core::ErrorCode;

use super::connection;
use crate::auth::CurrentUser;
use crate::auth::current::request_token;
use crate::error::ApiError;
use crate::state::AppState;

/// Query parameters that would carry a credential in the URL.
const CREDENTIAL_PARAMS: [&str; 5] = ["token", "access_token", "auth", "session", "selah_session"];

/// The checks every live upgrade passes: returns the caller when the request carried
/// credentials, `None` when the token is to come in the first message.
pub(super) async fn check(
    state: &AppState,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
) -> Result<Option<CurrentUser>, ApiError> {
    if let Some(q) = uri.query()
        && q.split('&').any(|kv| {
            let key = kv.split('=').next().unwrap_or("");
            CREDENTIAL_PARAMS.contains(&key.to_ascii_lowercase().as_str())
        })
    {
        return Err(ApiError::bad_request(
            "never put a token in the URL: send it in the first message ({\"v\":1,\"type\":\"auth\",\"token\":…}) or use the session cookie",
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let same = origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host));
        let listed = state.config.http.cors_origins.iter().any(|o| o == origin);
        if !same && !listed {
            return Err(ApiError::forbidden(
                "this page's origin may not open a live connection",
            ));
        }
    }
    match request_token(headers) {
        Some((tok, via)) => Ok(Some(CurrentUser::from_token(state, &tok, via).await?)),
        None => Ok(None),
    }
}

/// `GET /ws` and `GET /healing-ws`: the JSON protocol.
pub(super) async fn json(
    State(state): State<AppState>,
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let user = match check(&state, &headers, &uri).await {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let limit = state.config.live.max_connections_per_user;
    let slot = match &user {
        Some(u) => match state.live.claim(u.id(), limit) {
            Some(slot) => Some(slot),
            None => return too_many(limit).into_response(),
        },
        None => None,
    };
    let max = state.config.live.max_message_bytes;
    ws.max_message_size(max * 2)
        .max_frame_size(max * 2)
        .read_buffer_size(4096)
        .write_buffer_size(8 * 1024)
        .on_upgrade(move |socket| connection::run(socket, state, user, slot))
}

/// The refusal for one connection too many.
pub(super) fn too_many(limit: usize) -> ApiError {
    ApiError::new(
        ErrorCode::RateLimited,
        format!("you already have {limit} live connections open; close one first"),
    )
}
