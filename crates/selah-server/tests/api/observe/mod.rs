//! Request hygiene, rate limiting, metrics and health, over real HTTP.
//!
//! Most tests talk to the real server. A few need a handler that panics, or one that reads a
//! chunked body, which no product route offers on purpose; for those, [`stack`] serves a tiny
//! router wrapped in the *real* middleware stack with the *real* server's state, so what is
//! tested is the production middleware, metrics and health report.

use std::net::SocketAddr;

use axum::routing::{get, post};
use reqwest::{Method, StatusCode};
use selah_server::state::AppState;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

mod health;
mod hygiene;
mod metrics;
mod rate_limit;

fn header<'a>(r: &'a Resp, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

/// Serves `routes` behind the real middleware stack with `app`'s state; returns a client.
async fn stack(app: &TestApp, routes: axum::Router<AppState>) -> Api {
    let router = selah_server::observe::middleware::apply(
        routes.with_state(app.state.clone()),
        app.state.clone(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let mut api = app.client();
    api.base = format!("http://{addr}");
    api
}

/// Test routes: one that panics with text that must not reach the client, one that echoes JSON
/// through the API's own extractor.
fn test_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v1/test/panic", get(panics))
        .route("/api/v1/test/ok", get(|| async { "ok" }))
        .route(
            "/api/v1/test/echo",
            post(
                |selah_server::extract::Json(v): selah_server::extract::Json<Value>| async move {
                    axum::Json(v)
                },
            ),
        )
}

async fn panics() -> &'static str {
    panic!("secret panic detail /etc/selah/key")
}

/// Sends raw HTTP/1.1 bytes and returns (status, whole response text).
async fn raw_http(base: &str, request: &[u8]) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn chunked_post(path: &str, body: &str) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: selah\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    for chunk in body.as_bytes().chunks(512) {
        r.push_str(&format!(
            "{:x}\r\n{}\r\n",
            chunk.len(),
            String::from_utf8_lossy(chunk)
        ));
    }
    r.push_str("0\r\n\r\n");
    r.into_bytes()
}

fn scrape(text: &str) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("parses")
}

fn sample<'a>(
    s: &'a prometheus_parse::Scrape,
    name: &str,
    labels: &[(&str, &str)],
) -> Option<&'a prometheus_parse::Sample> {
    s.samples
        .iter()
        .find(|x| x.metric == name && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
}

fn number(s: Option<&prometheus_parse::Sample>) -> f64 {
    use prometheus_parse::Value::*;
    match s.map(|s| &s.value) {
        Some(Counter(v) | Gauge(v) | Untyped(v)) => *v,
        other => panic!("not a number: {other:?}"),
    }
}
