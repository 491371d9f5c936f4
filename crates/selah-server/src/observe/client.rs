//! Who is calling: the client's IP address (from the socket, or `X-Forwarded-For` when the
//! socket peer is a configured trusted proxy) and user agent.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::state::AppState;

/// The caller's address and user agent.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// Client IP as Selah believes it.
    pub ip: IpAddr,
    /// `User-Agent`, truncated to 256 characters.
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// Works out the client from request parts, believing `X-Forwarded-For` only from
    /// trusted proxies (the right-most address that is not itself a trusted proxy).
    pub fn from_parts(parts: &Parts, trusted: &[String]) -> Self {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let is_trusted = |ip: &IpAddr| {
            trusted
                .iter()
                .any(|t| t.parse::<IpAddr>().ok() == Some(*ip))
        };
        let mut ip = peer;
        if is_trusted(&peer)
            && let Some(xff) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
        {
            for hop in xff.rsplit(',').map(str::trim) {
                match hop.parse::<IpAddr>() {
                    Ok(h) if is_trusted(&h) => continue,
                    Ok(h) => {
                        ip = h;
                        break;
                    }
                    Err(_) => break,
                }
            }
        }
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect());
        Self { ip, user_agent }
    }
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts, &state.config.http.trusted_proxies))
    }
}
