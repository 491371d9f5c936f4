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

#[tokio::test]
async fn request_id_is_echoed_when_sane_and_generated_otherwise() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let send = |id: Option<&str>| {
        let mut req = http.get(app.url("/health"));
        if let Some(id) = id {
            req = req.header("x-request-id", id);
        }
        req.send()
    };
    let r = send(Some("trace-abc_123:/x")).await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-abc_123:/x");

    for bad in [None, Some("has a space"), Some(&"x".repeat(129) as &str)] {
        let r = send(bad).await.unwrap();
        let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{bad:?} → {id}");
    }
    let a = send(None).await.unwrap().headers()["x-request-id"].clone();
    let b = send(None).await.unwrap().headers()["x-request-id"].clone();
    assert_ne!(a, b, "each request gets its own id");
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let responses = [
        c.get("/health").await,
        c.get("/api/v1/openapi.json").await,
        c.get("/api/v1/no-such-thing").await,
        c.post("/api/v1/openapi.json", json!({})).await,
    ];
    for r in &responses {
        assert_eq!(
            header(r, "content-security-policy"),
            Some("default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"),
            "{}",
            r.status
        );
        assert_eq!(header(r, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(r, "referrer-policy"), Some("no-referrer"));
        assert_eq!(header(r, "x-frame-options"), Some("DENY"));
        assert_eq!(header(r, "cross-origin-opener-policy"), Some("same-origin"));
    }
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_in_json() {
    let app = TestApp::spawn().await;
    let c = app.client();
    assert_error(
        &c.get("/api/v1/nope").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &c.delete("/api/v1/x/y/z").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let r = c.post("/api/v1/openapi.json", json!({})).await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert!(
        header(&r, "allow").is_some_and(|a| a.contains("GET")),
        "{:?}",
        r.headers
    );
    let r = c.send(Method::PUT, "/health", None).await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn an_oversized_declared_body_is_refused_with_413_json() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.http.max_body_bytes = 1024).await;
    let big = json!({"username": "x".repeat(4096), "password": "y"});
    // The limit applies before routing reaches the handler: login refuses it unread.
    let r = app.client().post("/api/v1/auth/login", big.clone()).await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let api = stack(&app, test_routes()).await;
    let r = api.post("/api/v1/test/echo", big).await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    // Under the limit the same route works, so the refusal above is about size.
    let r = api.post("/api/v1/test/echo", json!({"a": 1})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"a": 1}));
}

#[tokio::test]
async fn an_oversized_chunked_body_without_content_length_is_refused_with_413_json() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.http.max_body_bytes = 1024).await;
    let api = stack(&app, test_routes()).await;
    let big = json!({"a": "x".repeat(4096)}).to_string();
    let (status, text) = raw_http(&api.base, &chunked_post("/api/v1/test/echo", &big)).await;
    assert_eq!(status, 413, "{text}");
    assert!(
        text.contains(r#"{"error":{"code":"payload_too_large""#),
        "{text}"
    );
    let small = json!({"a": "x".repeat(100)}).to_string();
    let (status, text) = raw_http(&api.base, &chunked_post("/api/v1/test/echo", &small)).await;
    assert_eq!(status, 200, "{text}");
}

#[tokio::test]
async fn a_panicking_handler_gives_a_json_500_without_the_panic_text() {
    let app = TestApp::spawn().await;
    let api = stack(&app, test_routes()).await;
    let r = api.get("/api/v1/test/panic").await;
    assert_error(&r, StatusCode::INTERNAL_SERVER_ERROR, "internal");
    assert!(
        !r.text.contains("secret panic detail") && !r.text.contains("/etc/"),
        "{}",
        r.text
    );
    assert!(header(&r, "x-request-id").is_some());
    assert_eq!(header(&r, "x-frame-options"), Some("DENY"));
    // The server keeps serving afterwards.
    assert_eq!(api.get("/api/v1/test/ok").await.status, 200);
}

#[tokio::test]
async fn cors_is_absent_by_default() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let r = http
        .get(app.url("/health"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()
            .keys()
            .all(|k| !k.as_str().starts_with("access-control-")),
        "{:?}",
        r.headers()
    );
    let r = http
        .request(Method::OPTIONS, app.url("/api/v1/auth/login"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()
            .keys()
            .all(|k| !k.as_str().starts_with("access-control-")),
        "{:?}",
        r.headers()
    );
}

#[tokio::test]
async fn cors_allows_exactly_the_configured_origins() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| {
        c.http.cors_origins = vec!["https://app.example".into()]
    })
    .await;
    let http = reqwest::Client::new();
    let r = http
        .get(app.url("/api/v1/openapi.json"))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(r.headers()["access-control-allow-credentials"], "true");

    let r = http
        .request(Method::OPTIONS, app.url("/api/v1/auth/login"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "x-csrf-token,authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let allowed = r.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("x-csrf-token") && allowed.contains("authorization"),
        "{allowed}"
    );

    let r = http
        .get(app.url("/api/v1/openapi.json"))
        .header("origin", "https://other.example")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

fn limited(
    per_minute: u32,
    auth_per_minute: u32,
    trusted: &[&str],
) -> impl FnOnce(&mut selah_core::Config) {
    let trusted: Vec<String> = trusted.iter().map(|s| s.to_string()).collect();
    move |c| {
        c.rate_limit.enabled = true;
        c.rate_limit.per_minute = per_minute;
        c.rate_limit.auth_per_minute = auth_per_minute;
        c.http.trusted_proxies = trusted;
    }
}

#[tokio::test]
async fn the_101st_request_in_a_minute_is_refused_but_another_ip_is_not() {
    let app = TestApp::spawn_with(Db::Sqlite, limited(100, 20, &["127.0.0.1"])).await;
    let c = app.client();
    for i in 1..=100u32 {
        let r = c.get("/api/v1/openapi.json").await;
        assert_eq!(r.status, 200, "request {i}");
        assert_eq!(header(&r, "ratelimit-limit"), Some("100"));
        assert_eq!(
            header(&r, "ratelimit-remaining"),
            Some((100 - i).to_string().as_str())
        );
        let reset: u64 = header(&r, "ratelimit-reset").unwrap().parse().unwrap();
        assert!((1..=60).contains(&reset));
    }
    let r = c.get("/api/v1/openapi.json").await;
    assert_error(&r, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry: u64 = header(&r, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(header(&r, "ratelimit-limit"), Some("100"));
    assert_eq!(header(&r, "ratelimit-remaining"), Some("0"));
    assert_eq!(
        header(&r, "ratelimit-reset"),
        Some(retry.to_string().as_str())
    );

    // A different client behind the trusted proxy has its own budget.
    let r = app
        .client()
        .http
        .get(app.url("/api/v1/openapi.json"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["ratelimit-remaining"], "99");

    // Health and metrics are never limited.
    for path in ["/health", "/metrics"] {
        let r = c.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(header(&r, "ratelimit-limit").is_none());
    }
}

#[tokio::test]
async fn x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = TestApp::spawn_with(Db::Sqlite, limited(5, 5, &[])).await;
    let http = reqwest::Client::new();
    for i in 0..6 {
        let r = http
            .get(app.url("/api/v1/openapi.json"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .send()
            .await
            .unwrap();
        let expected = if i < 5 { 200 } else { 429 };
        assert_eq!(r.status(), expected, "request {}", i + 1);
    }
}

#[tokio::test]
async fn auth_routes_have_a_stricter_limit_of_their_own() {
    let app = TestApp::spawn_with(Db::Sqlite, limited(100, 3, &[])).await;
    let c = app.client();
    for _ in 0..3 {
        let r = c.get("/api/v1/setup/status").await;
        assert_eq!(header(&r, "ratelimit-limit"), Some("3"));
        assert_ne!(r.status, 429);
    }
    assert_error(
        &c.get("/api/v1/setup/status").await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    );
    let r = c
        .post(
            "/api/v1/auth/login",
            json!({"username": "a", "password": "b"}),
        )
        .await;
    assert_error(&r, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    // Ordinary routes still have their own budget.
    let r = c.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    assert_eq!(header(&r, "ratelimit-limit"), Some("100"));
}

#[tokio::test]
async fn rate_limiting_can_be_turned_off() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.rate_limit.per_minute = 2).await;
    let c = app.client();
    for _ in 0..5 {
        let r = c.get("/api/v1/openapi.json").await;
        assert_eq!(r.status, 200);
        assert!(header(&r, "ratelimit-limit").is_none());
    }
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

#[tokio::test]
async fn metrics_parse_contain_every_family_and_move_with_requests() {
    let app = TestApp::spawn().await;
    let c = app.client();
    c.get("/api/v1/openapi.json").await;
    let r = c.get("/metrics").await;
    assert_eq!(r.status, 200);
    assert!(
        header(&r, "content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let before = scrape(&r.text);
    for family in [
        "selah_http_requests_total",
        "selah_http_request_duration_seconds",
        "selah_http_requests_in_flight",
        "selah_http_error_ratio",
        "selah_process_resident_memory_bytes",
        "selah_uptime_seconds",
        "selah_db_pool_connections",
        "selah_audit_queue_depth",
        "selah_health_score",
    ] {
        assert!(
            before.samples.iter().any(|s| s.metric == family),
            "missing {family}\n{}",
            r.text
        );
    }
    let openapi = [
        ("method", "GET"),
        ("route", "/api/v1/openapi.json"),
        ("status", "200"),
    ];
    assert_eq!(
        number(sample(&before, "selah_http_requests_total", &openapi)),
        1.0
    );
    assert!(number(sample(&before, "selah_process_resident_memory_bytes", &[])) > 1e6);
    assert!(
        number(sample(
            &before,
            "selah_db_pool_connections",
            &[("state", "open")]
        )) >= 1.0
    );
    assert_eq!(number(sample(&before, "selah_health_score", &[])), 100.0);
    // The scrape itself is in flight while it is rendered.
    assert_eq!(
        number(sample(&before, "selah_http_requests_in_flight", &[])),
        1.0
    );

    c.get("/api/v1/openapi.json").await;
    c.get("/api/v1/openapi.json").await;
    c.get("/api/v1/unknown").await;
    let after = scrape(&c.get("/metrics").await.text);
    assert_eq!(
        number(sample(&after, "selah_http_requests_total", &openapi)),
        3.0
    );
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    assert_eq!(
        number(sample(&after, "selah_http_requests_total", &unmatched)),
        1.0
    );
    let metrics_route = [("method", "GET"), ("route", "/metrics"), ("status", "200")];
    assert_eq!(
        number(sample(&after, "selah_http_requests_total", &metrics_route)),
        1.0
    );
    match &sample(
        &after,
        "selah_http_request_duration_seconds",
        &[("route", "/api/v1/openapi.json")],
    )
    .expect("histogram for the route")
    .value
    {
        prometheus_parse::Value::Histogram(buckets) => {
            assert!(buckets.len() >= 20, "{buckets:?}");
            let inf = buckets.iter().find(|b| b.less_than.is_infinite()).unwrap();
            assert_eq!(inf.count, 3.0);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn health_reports_every_check_and_answers_200_when_healthy() {
    let app = TestApp::spawn().await;
    let r = app.client().get("/health").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = &r.body;
    assert_eq!(b["status"], "healthy");
    assert_eq!(b["score"], 100);
    let names: Vec<&str> = b["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for name in ["database", "disk", "migrations"] {
        assert!(names.contains(&name), "{names:?}");
    }
    for c in b["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "healthy", "{c}");
        assert!(c["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(c["latency_ms"].as_f64().is_some());
    }
    assert_eq!(b["error_rate"], 0.0);
    assert!(b["requests_in_window"].as_u64().is_some());
    for p in ["p50", "p90", "p95", "p99"] {
        assert!(b["latency_ms"].as_object().unwrap().contains_key(p));
    }
    assert!(b["resident_memory_bytes"].as_u64().unwrap() > 1_000_000);
    assert!(b["uptime_secs"].as_u64().is_some());
    assert_eq!(b["version"], env!("CARGO_PKG_VERSION"));
    let dir = app.data_dir.path().to_string_lossy().to_string();
    assert!(
        !r.text.contains(&dir),
        "the data directory leaks: {}",
        r.text
    );
}

#[tokio::test]
async fn health_is_503_when_the_database_is_gone() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.health.enabled = false).await;
    assert_eq!(app.client().get("/health").await.status, 200);
    app.state.store.close().await;
    let r = app.client().get("/health").await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.body["status"], "unhealthy");
    let db = r.body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "database")
        .unwrap();
    assert_eq!(db["status"], "unhealthy");
    assert!(
        !r.text.to_lowercase().contains("pool"),
        "no driver text: {}",
        r.text
    );
}

#[tokio::test]
async fn periodic_checks_notice_a_lost_database() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.health.interval_secs = 1).await;
    assert_eq!(app.client().get("/health").await.status, 200);
    app.state.store.close().await;
    let mut last = None;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let r = app.client().get("/health").await;
        if r.status == 503 {
            return;
        }
        last = Some(r.text);
    }
    panic!("still not unhealthy after 4 s: {last:?}");
}

#[tokio::test]
async fn health_is_503_on_low_disk_and_on_a_schema_mismatch() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| {
        c.health.enabled = false;
        c.health.min_free_disk_mb = u64::MAX / 2;
    })
    .await;
    let r = app.client().get("/health").await;
    assert_eq!(r.status, 503, "{}", r.text);
    let disk = r.body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "disk")
        .unwrap();
    assert_eq!(disk["status"], "unhealthy");

    let app = TestApp::spawn_with(Db::Sqlite, |c| c.health.enabled = false).await;
    selah_store::migrate::force_schema_version(&app.state.store, 99)
        .await
        .unwrap();
    let r = app.client().get("/health").await;
    assert_eq!(r.status, 503, "{}", r.text);
    let m = r.body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "migrations")
        .unwrap();
    assert_eq!(m["status"], "unhealthy");
    assert!(m["message"].as_str().unwrap().contains("99"));
}

#[tokio::test]
async fn server_errors_drive_the_error_rate_and_score() {
    let app = TestApp::spawn().await;
    let api = stack(&app, test_routes()).await;
    // 2 of 5 requests fail: 40% errors costs the capped 30 points: 70, degraded, still 200.
    for _ in 0..2 {
        assert_eq!(api.get("/api/v1/test/panic").await.status, 500);
    }
    for _ in 0..3 {
        assert_eq!(api.get("/api/v1/test/ok").await.status, 200);
    }
    // 4xx are the client's mistakes and do not count as errors, only as requests.
    let r = app.client().get("/health").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["requests_in_window"], 5);
    assert!(
        (r.body["error_rate"].as_f64().unwrap() - 0.4).abs() < 1e-9,
        "{}",
        r.text
    );
    assert_eq!(r.body["score"], 70);
    assert_eq!(r.body["status"], "degraded");
    assert!(r.body["latency_ms"]["p50"].as_f64().is_some());
    let m = scrape(&app.client().get("/metrics").await.text);
    assert!((number(sample(&m, "selah_http_error_ratio", &[])) - 0.4).abs() < 1e-9);
    assert_eq!(number(sample(&m, "selah_health_score", &[])), 70.0);
    let panics = [("route", "/api/v1/test/panic"), ("status", "500")];
    assert_eq!(
        number(sample(&m, "selah_http_requests_total", &panics)),
        2.0
    );

    app.client().get("/api/v1/not-there").await;
    let r = app.client().get("/health").await;
    assert_eq!(r.body["requests_in_window"], 6);
    assert!((r.body["error_rate"].as_f64().unwrap() - 2.0 / 6.0).abs() < 1e-9);
}

#[tokio::test]
async fn health_and_metrics_are_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = app.client().get("/api/v1/openapi.json").await.body;
    assert!(doc["paths"]["/health"]["get"].is_object(), "{doc}");
    assert!(doc["paths"]["/metrics"]["get"].is_object());
    assert!(doc["components"]["schemas"]["HealthReport"].is_object());
}

#[tokio::test]
async fn health_and_metrics_work_on_postgres() {
    let app = TestApp::spawn_with(Db::Postgres, |_| {}).await;
    let r = app.client().get("/health").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let db = r.body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "database")
        .unwrap();
    assert_eq!(db["status"], "healthy");
    assert!(
        db["message"].as_str().unwrap().starts_with("postgres"),
        "{db}"
    );
    let m = scrape(&app.client().get("/metrics").await.text);
    assert!(
        number(sample(
            &m,
            "selah_db_pool_connections",
            &[("state", "open")]
        )) >= 1.0
    );
    app.state.store.close().await;
    let fresh = app.state.health.run_checks(&app.state).await;
    let db = fresh.iter().find(|c| c.name == "database").unwrap();
    assert_eq!(db.status, selah_core::health::Status::Unhealthy);
}
