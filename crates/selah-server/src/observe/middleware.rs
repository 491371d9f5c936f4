//! The middleware stack: request ids, security headers, CORS, metrics, panic recovery, rate
//! limiting, body size limits, and JSON answers for unknown routes and methods.
//!
//! Everything is attached with `Router::layer`, which wraps every route *and* the fallback, so
//! each layer runs after routing and sees axum's `MatchedPath` (the metrics need the route
//! template, not the raw path, to keep label cardinality bounded).
//!
//! Order, outermost first, and why:
//! 1. **request id**: first, so that every later layer's logs and every response (refusals,
//!    panics and errors included) carry it.
//! 2. **security headers**: on every response, whichever layer produced it.
//! 3. **CORS** (only when origins are configured): answers preflights itself, before they are
//!    counted or limited, and puts its headers on refusals too, so a browser app can read a
//!    429 rather than see an opaque network error.
//! 4. **metrics**: counts what the client actually gets, 429s, 413s and panics included.
//! 5. **panic recovery**: inside metrics so a panic is recorded as the 500 it becomes.
//! 6. **rate limit**: before any body is read or handler runs, so refused requests cost little.
//! 7. **body size limit**: a declared oversized body is refused at once; an undeclared
//!    (chunked) one is cut off when a handler reads past the limit. The document upload route
//!    has its own, larger limit (`docs.max_upload_bytes`); every other route has
//!    `http.max_body_bytes`.

use std::any::Any;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use selah_core::ErrorCode;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;

use crate::error::ApiError;
use crate::observe::client::ClientInfo;
use crate::observe::rate_limit::classify;
use crate::state::AppState;

/// The request id header, read from the client and echoed on the response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served (in request extensions, for handlers' logs).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Wraps the router in the middleware stack (see the module documentation for the order).
pub fn apply(router: Router, state: AppState) -> Router {
    let max_body = usize::try_from(state.config.http.max_body_bytes).unwrap_or(usize::MAX);
    // The hard cap on any body is the upload limit; every other route keeps `max_body` through
    // `DefaultBodyLimit` (which the extractors enforce) and the declared-length check.
    let hard_cap = usize::try_from(upload_body_limit(&state))
        .unwrap_or(usize::MAX)
        .max(max_body);
    // Both fallbacks must be set before the layers so that the layers wrap them too.
    let mut router = router
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn(move |req, next| hard_body_cap(hard_cap, req, next)))
        // Inside the default limit so that the upload route can raise it for itself.
        .layer(from_fn_with_state(state.clone(), declared_body_limit))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(from_fn_with_state(state.clone(), rate_limit))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(from_fn_with_state(state.clone(), track));
    if let Some(cors) = cors_layer(&state.config.http.cors_origins) {
        router = router.layer(cors);
    }
    router
        .layer(from_fn(security_headers))
        .layer(from_fn(request_id))
}

/// A client-supplied id is kept when it is 1–128 visible ASCII characters; anything else is
/// replaced, so log lines cannot be forged or bloated through it.
pub fn acceptable_request_id(v: &[u8]) -> bool {
    (1..=128).contains(&v.len()) && v.iter().all(|b| (0x21..=0x7e).contains(b))
}

async fn request_id(mut req: Request, next: Next) -> Response {
    let id = match req.headers().get(&REQUEST_ID) {
        Some(v) if acceptable_request_id(v.as_bytes()) => v.clone(),
        _ => HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
            .expect("a UUID is a valid header value"),
    };
    let text = id.to_str().unwrap_or_default().to_string();
    // The path only: query strings may carry things that do not belong in logs.
    let span = tracing::info_span!(
        "request",
        request_id = %text,
        method = %req.method(),
        path = %req.uri().path(),
    );
    req.headers_mut().insert(REQUEST_ID, id.clone());
    req.extensions_mut().insert(RequestId(text));
    let mut res = next.run(req).instrument(span).await;
    res.headers_mut().insert(REQUEST_ID, id);
    res
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // Set only when absent, so a route with special needs can still send its own.
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ] {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
    res
}

/// CORS for the configured origins, or `None` (no CORS headers at all) when there are none.
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| match HeaderValue::from_str(o.trim_end_matches('/')) {
            Ok(v) => Some(v),
            Err(_) => {
                tracing::warn!(origin = %o, "ignoring an http.cors_origins entry that is not a valid origin");
                None
            }
        })
        .collect();
    if allowed.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed))
            .allow_credentials(true)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                HeaderName::from_static("x-csrf-token"),
                HeaderName::from_static("x-selah-team"),
                REQUEST_ID,
            ])
            .expose_headers([
                REQUEST_ID,
                header::RETRY_AFTER,
                HeaderName::from_static("ratelimit-limit"),
                HeaderName::from_static("ratelimit-remaining"),
                HeaderName::from_static("ratelimit-reset"),
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let _in_flight = state.metrics.in_flight();
    let started = Instant::now();
    let res = next.run(req).await;
    let elapsed = started.elapsed();
    let status = res.status();
    state.metrics.record(
        &method,
        route.as_ref().map(MatchedPath::as_str),
        status.as_u16(),
        elapsed,
    );
    if status.is_server_error() {
        tracing::warn!(
            status = status.as_u16(),
            elapsed_ms = elapsed.as_secs_f64() * 1e3,
            "request failed"
        );
    } else {
        tracing::debug!(
            status = status.as_u16(),
            elapsed_ms = elapsed.as_secs_f64() * 1e3,
            "request served"
        );
    }
    res
}

/// A panic in a handler becomes a plain 500: the panic text goes to the log, never the client.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    ApiError::internal(format_args!("handler panicked: {detail}")).into_response()
}

async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.limiter.enabled() {
        return next.run(req).await;
    }
    let Some(class) = classify(req.method(), req.uri().path()) else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let client = ClientInfo::from_parts(&parts, &state.config.http.trusted_proxies);
    let decision = state.limiter.check(client.ip, class);
    let mut res = if decision.allowed {
        next.run(Request::from_parts(parts, body)).await
    } else {
        tracing::info!(ip = %client.ip, ?class, "rate limited");
        ApiError::new(
            ErrorCode::RateLimited,
            format!(
                "too many requests; try again in {} seconds",
                decision.reset_secs
            ),
        )
        .with_retry_after(decision.reset_secs)
        .into_response()
    };
    let h = res.headers_mut();
    for (name, value) in [
        ("ratelimit-limit", u64::from(decision.limit)),
        ("ratelimit-remaining", u64::from(decision.remaining)),
        ("ratelimit-reset", decision.reset_secs),
    ] {
        h.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
    res
}

/// Whether a request's body is exempt from the size limits: a vault upload's bytes (tus
/// PATCH), whose handler streams them to disk and stops at the length the upload announced.
fn streams_to_disk(req: &Request) -> bool {
    req.method() == axum::http::Method::PATCH
        && req.uri().path().starts_with(crate::vault::UPLOADS_PATH)
}

/// Cuts off any body that grows past `cap` while a handler reads it (a chunked body declares no
/// length), except the vault's streamed uploads.
async fn hard_body_cap(cap: usize, req: Request, next: Next) -> Response {
    if streams_to_disk(&req) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let body = axum::body::Body::new(http_body_util::Limited::new(body, cap));
    next.run(Request::from_parts(parts, body)).await
}

/// Refuses a body whose declared `Content-Length` is over the limit before anything reads it
/// (the inner `RequestBodyLimitLayer` would answer in plain text; ours is the API's JSON).
async fn declared_body_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = if req.uri().path() == crate::docs::UPLOAD_PATH
        && req.method() == axum::http::Method::POST
    {
        upload_body_limit(&state)
    } else {
        state.config.http.max_body_bytes
    };
    if streams_to_disk(&req) {
        return next.run(req).await;
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit => too_large().into_response(),
        _ if limit != state.config.http.max_body_bytes => {
            let raised = DefaultBodyLimit::max(usize::try_from(limit).unwrap_or(usize::MAX));
            match tower::ServiceExt::oneshot(tower::Layer::layer(&raised, next), req).await {
                Ok(res) => res,
                Err(never) => match never {},
            }
        }
        _ => next.run(req).await,
    }
}

/// The largest body the upload route takes: the file limit plus room for the multipart framing.
pub fn upload_body_limit(state: &AppState) -> u64 {
    state.config.docs.max_upload_bytes.saturating_add(64 * 1024)
}

fn too_large() -> ApiError {
    ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
}

/// The embedded web app answers what no route does (its files, and its own client-side routes);
/// the rest is the API's 404.
async fn unknown_route(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    crate::web::serve(&method, &uri, &headers)
        .unwrap_or_else(|| ApiError::not_found("route").into_response())
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this route does not accept that method; see the Allow header",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_must_be_short_visible_ascii() {
        assert!(acceptable_request_id(b"abc-123_XYZ.:/"));
        assert!(acceptable_request_id(&[b'a'; 128]));
        assert!(!acceptable_request_id(&[b'a'; 129]));
        assert!(!acceptable_request_id(b""));
        assert!(!acceptable_request_id(b"has space"));
        assert!(!acceptable_request_id("é".as_bytes()));
        assert!(!acceptable_request_id(b"line\nbreak"));
    }

    #[test]
    fn cors_is_off_without_valid_origins() {
        assert!(cors_layer(&[]).is_none());
        assert!(cors_layer(&["bad\norigin".into()]).is_none());
        assert!(cors_layer(&["https://app.example".into()]).is_some());
    }
}
