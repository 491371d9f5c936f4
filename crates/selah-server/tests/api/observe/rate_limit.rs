//! Rate limits per client IP and route class, and who counts as the client.

use super::*;

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
    // Creating the founder counts against the auth limit (refused bodies too)...
    let weak = json!({"username": "founder", "password": "short"});
    for _ in 0..3 {
        let r = c.post("/api/v1/setup/founder", weak.clone()).await;
        assert_eq!(header(&r, "ratelimit-limit"), Some("3"));
        assert_ne!(r.status, 429);
    }
    assert_error(
        &c.post("/api/v1/setup/founder", weak).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    );
    // ...but reading the setup status, which every page load does, is an ordinary read.
    let r = c.get("/api/v1/setup/status").await;
    assert_eq!(r.status, 200);
    assert_eq!(header(&r, "ratelimit-limit"), Some("100"));
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
