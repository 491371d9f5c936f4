//! Request ids, security headers, JSON 404/405, body limits, panics and CORS.

use super::*;

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
async fn login_refuses_an_oversized_chunked_body_with_413_json() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.http.max_body_bytes = 1024).await;
    let big = json!({"username": "x".repeat(4096), "password": "y"}).to_string();
    let (status, text) = raw_http(&app.base, &chunked_post("/api/v1/auth/login", &big)).await;
    assert_eq!(status, 413, "{text}");
    assert!(
        text.contains(r#"{"error":{"code":"payload_too_large""#),
        "{text}"
    );
    // A small chunked body reaches the handler (no account yet: the usual refusal).
    let small = json!({"username": "nobody", "password": "wrong-password-1"}).to_string();
    let (status, text) = raw_http(&app.base, &chunked_post("/api/v1/auth/login", &small)).await;
    assert_eq!(status, 401, "{text}");
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
