//! Accounts over real HTTP: setup, login (cookie and bearer), CSRF, back-off, sessions,
//! expiry and revocation, step-up, password change, effective permissions.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

const SETUP: &str = "/api/v1/setup/founder";
const LOGIN: &str = "/api/v1/auth/login";

async fn raw_post(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: &str,
) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn audit_types(app: &TestApp) -> Vec<String> {
    app.state.audit.flush().await;
    let rows = sqlx::query("SELECT event_type FROM audit_log ORDER BY seq")
        .fetch_all(app.state.store.reader())
        .await
        .unwrap();
    use sqlx::Row;
    rows.iter()
        .map(|r| r.get::<String, _>("event_type"))
        .collect()
}

async fn audit_details(app: &TestApp, event: &str) -> Vec<String> {
    app.state.audit.flush().await;
    use sqlx::Row;
    sqlx::query("SELECT details FROM audit_log WHERE event_type = $1 ORDER BY seq")
        .bind(event)
        .fetch_all(app.state.store.reader())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<Option<String>, _>("details").unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn setup_creates_the_founder_once() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let s = c.get("/api/v1/setup/status").await;
    assert_eq!(s.status, 200);
    assert_eq!(s.body["needs_setup"], true);
    assert!(s.body["version"].as_str().is_some_and(|v| !v.is_empty()));

    let r = c
        .post(
            SETUP,
            json!({"username": "Founder", "password": FOUNDER_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["user"]["username"], "Founder");
    assert_eq!(r.body["user"]["role"], "founder");
    assert!(r.body["user"].get("password_hash").is_none());
    assert!(!r.text.contains(FOUNDER_PASSWORD));

    assert_eq!(
        c.get("/api/v1/setup/status").await.body["needs_setup"],
        false
    );
    let again = c
        .post(
            SETUP,
            json!({"username": "other", "password": FOUNDER_PASSWORD}),
        )
        .await;
    assert_error(&again, StatusCode::CONFLICT, "conflict");
    // Even a short password is answered with 409 once set up: nothing to validate any more.
    let short = c
        .post(SETUP, json!({"username": "other", "password": "x"}))
        .await;
    assert_error(&short, StatusCode::CONFLICT, "conflict");
    assert_eq!(app.state.store.count_users().await.unwrap(), 1);
    assert!(
        audit_types(&app)
            .await
            .contains(&"setup.founder_created".to_string())
    );
}

#[tokio::test]
async fn setup_validates_its_input() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let short = c
        .post(
            SETUP,
            json!({"username": "founder", "password": "elevenchars"}),
        )
        .await;
    assert_error(&short, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    for bad in ["ab", "has space", "slash/es", &"x".repeat(65)] {
        let r = c
            .post(
                SETUP,
                json!({"username": bad, "password": FOUNDER_PASSWORD}),
            )
            .await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    }
    let missing = c.post(SETUP, json!({"username": "founder"})).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "bad_request");
    let (status, body) = raw_post(&app, SETUP, "application/json", "{\"username\": ").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "bad_request");
    let (status, _) = raw_post(&app, SETUP, "text/plain", "hello").await;
    assert_eq!(status, 400);
    assert_eq!(app.state.store.count_users().await.unwrap(), 0);
}

/// The password cap (1024 characters, counted as characters) holds at setup: 1025 is refused
/// and no founder is made; exactly 1024 is accepted and signs in.
#[tokio::test]
async fn setup_refuses_a_password_over_1024_characters() {
    let app = TestApp::spawn().await;
    let c = app.client();
    for long in ["p".repeat(1025), "é".repeat(1025)] {
        let r = c
            .post(SETUP, json!({"username": "founder", "password": long}))
            .await;
        assert_error_says(
            &r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "at most 1024",
        );
    }
    assert_eq!(app.state.store.count_users().await.unwrap(), 0);
    assert_eq!(
        c.get("/api/v1/setup/status").await.body["needs_setup"],
        true
    );
    assert!(
        !audit_types(&app)
            .await
            .contains(&"setup.founder_created".to_string())
    );
    let max = "é".repeat(1024);
    let r = c
        .post(SETUP, json!({"username": "founder", "password": max}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.login("founder", &max).await;
}

async fn concurrent_setup(app: &TestApp) {
    let mut tasks = Vec::new();
    for i in 0..10 {
        let c = app.client();
        tasks.push(tokio::spawn(async move {
            c.post(
                SETUP,
                json!({"username": format!("founder{i}"), "password": FOUNDER_PASSWORD}),
            )
            .await
            .status
        }));
    }
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(app.state.store.count_users().await.unwrap(), 1);
}

#[tokio::test]
async fn concurrent_setup_makes_exactly_one_founder_on_sqlite() {
    concurrent_setup(&TestApp::spawn().await).await;
}

#[tokio::test]
async fn concurrent_setup_makes_exactly_one_founder_on_postgres() {
    concurrent_setup(&TestApp::spawn_with(Db::Postgres, |_| {}).await).await;
}

#[tokio::test]
async fn login_returns_a_token_and_a_strict_cookie() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.auth.secure_cookie = true).await;
    app.founder().await;
    let r = app
        .client()
        .post(
            LOGIN,
            json!({"username": "FOUNDER", "password": FOUNDER_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.body["token"].as_str().unwrap();
    assert_eq!(token.len(), 43);
    assert_eq!(r.body["user"]["username"], "founder");
    assert_eq!(r.body["user"]["role"], "founder");
    assert!(r.body["session_id"].is_string());
    assert!(r.body["csrf_token"].as_str().is_some_and(|c| c.len() == 64));
    let lifetime = app.config.auth.session_absolute_secs as i64;
    let expires = r.body["expires_at"].as_i64().unwrap();
    assert!((expires - selah_store::now_ms() - lifetime * 1000).abs() < 10_000);
    let cookie = r.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with(&format!("selah_session={token};")),
        "{cookie}"
    );
    for attr in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Secure",
        &format!("Max-Age={lifetime}"),
    ] {
        assert!(
            cookie.split("; ").any(|a| a == attr),
            "{attr} missing from {cookie}"
        );
    }
    // The same token works as a bearer token.
    let mut bearer = app.client();
    bearer.token = Some(token.to_string());
    let me = bearer.get("/api/v1/auth/me").await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["user"]["username"], "founder");
    assert_eq!(me.body["session"]["id"], r.body["session_id"]);
    assert_eq!(me.body["session"]["expires_at"], expires);
    assert_eq!(me.body["session"]["step_up_until"], 0);
    let types = audit_types(&app).await;
    assert!(types.contains(&"auth.login".to_string()));
}

#[tokio::test]
async fn insecure_cookie_by_default() {
    let app = TestApp::spawn().await;
    app.founder().await;
    let r = app
        .client()
        .post(
            LOGIN,
            json!({"username": "founder", "password": FOUNDER_PASSWORD}),
        )
        .await;
    let cookie = r.headers["set-cookie"].to_str().unwrap();
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn unknown_user_and_wrong_password_look_the_same() {
    let app = TestApp::spawn().await;
    app.founder().await;
    let c = app.client();
    let wrong = c
        .post(
            LOGIN,
            json!({"username": "founder", "password": "not-the-password"}),
        )
        .await;
    let unknown = c
        .post(
            LOGIN,
            json!({"username": "nobody", "password": "not-the-password"}),
        )
        .await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(wrong.text, unknown.text);
    assert_eq!(wrong.status, unknown.status);
    assert!(wrong.headers.get("set-cookie").is_none());
    // Malformed and incomplete bodies.
    assert_error(
        &c.post(LOGIN, json!({"username": "founder"})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &c.post(LOGIN, json!({"username": 5, "password": "x"})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    let (status, _) = raw_post(&app, LOGIN, "application/json", "not json").await;
    assert_eq!(status, 400);
    // The failures are audited with the attempted name and never the password.
    let failed = audit_details(&app, "auth.login_failed").await;
    assert_eq!(failed.len(), 2);
    assert!(failed.iter().any(|d| d.contains("nobody")));
    assert!(failed.iter().all(|d| !d.contains("not-the-password")));
}

#[tokio::test]
async fn timing_of_unknown_user_matches_wrong_password() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.auth.lockout_threshold = 1000).await;
    app.founder().await;
    let c = app.client();
    let attempt = |user: &'static str| {
        let c = c.clone();
        async move {
            let t = std::time::Instant::now();
            let r = c
                .post(
                    LOGIN,
                    json!({"username": user, "password": "x-wrong-password"}),
                )
                .await;
            assert_eq!(r.status, 401);
            t.elapsed()
        }
    };
    attempt("nobody").await; // the dummy hash is made on first use
    // Interleaved, and the fastest of each kept: the minimum is what the work costs, without
    // the noise of other tests sharing the CPU.
    let (mut known, mut unknown) = (Duration::MAX, Duration::MAX);
    for _ in 0..4 {
        known = known.min(attempt("founder").await);
        unknown = unknown.min(attempt("nobody").await);
    }
    // Without the dummy verification an unknown name answers in well under a millisecond,
    // against tens of milliseconds for an argon2 check.
    assert!(
        unknown.as_secs_f64() > known.as_secs_f64() / 3.0,
        "known {known:?} unknown {unknown:?}"
    );
}

fn xff_client(app: &TestApp, ip: &str) -> Api {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", ip.parse().unwrap());
    Api {
        base: app.base.clone(),
        http: reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap(),
        token: None,
        csrf: None,
        team: None,
    }
}

async fn lockout_app() -> TestApp {
    TestApp::spawn_with(Db::Sqlite, |c| {
        c.http.trusted_proxies = vec!["127.0.0.1".into()];
        c.auth.lockout_threshold = 3;
        c.auth.lockout_max_secs = 60;
    })
    .await
}

#[tokio::test]
async fn repeated_failures_lock_the_account_from_any_address() {
    let app = lockout_app().await;
    let founder = app.founder().await;
    app.user_with_role(&founder, "alice", "member").await;
    let a = xff_client(&app, "203.0.113.1");
    let b = xff_client(&app, "203.0.113.2");
    let bad = json!({"username": "alice", "password": "wrong-password-x"});
    for _ in 0..3 {
        assert_error(
            &a.post(LOGIN, bad.clone()).await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        );
    }
    // Refused before the password is checked, even the right one, even from another address.
    let good = json!({"username": "alice", "password": USER_PASSWORD});
    let r = b.post(LOGIN, good.clone()).await;
    assert_error(&r, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(r.headers["retry-after"], "1");
    // Other accounts are unaffected from the second address.
    assert_eq!(
        b.post(
            LOGIN,
            json!({"username": "founder", "password": FOUNDER_PASSWORD})
        )
        .await
        .status,
        200
    );
    // After the wait, one more failure doubles it.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_error(
        &b.post(LOGIN, bad.clone()).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    let r = b.post(LOGIN, good.clone()).await;
    assert_error(&r, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(r.headers["retry-after"], "2");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    // Success clears the account's counter.
    assert_eq!(b.post(LOGIN, good.clone()).await.status, 200);
    assert_error(
        &b.post(LOGIN, bad.clone()).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    assert_eq!(b.post(LOGIN, good).await.status, 200);
}

/// Simultaneous guesses are judged against the threshold too: a burst gets no more password
/// checks than a patient attacker would (the rest wait), so back-off cannot be raced.
#[tokio::test]
async fn a_burst_of_simultaneous_guesses_gets_no_extra_tries() {
    let app = lockout_app().await;
    let founder = app.founder().await;
    app.user_with_role(&founder, "alice", "member").await;
    let bad = json!({"username": "alice", "password": "wrong-password-x"});
    let burst = (0..20).map(|i| {
        let c = xff_client(&app, &format!("203.0.113.{}", i + 10));
        let body = bad.clone();
        async move { c.post(LOGIN, body).await.status }
    });
    let statuses = futures_util::future::join_all(burst).await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + refused, 20, "{statuses:?}");
    assert!(
        checked <= 3,
        "only the threshold's worth of passwords were checked: {statuses:?}"
    );
    assert!(checked >= 1, "{statuses:?}");
}

#[tokio::test]
async fn repeated_failures_lock_the_address_for_every_account() {
    let app = lockout_app().await;
    app.founder().await;
    let a = xff_client(&app, "198.51.100.7");
    let b = xff_client(&app, "198.51.100.8");
    for name in ["u1", "u2", "u3"] {
        let r = a
            .post(
                LOGIN,
                json!({"username": name, "password": "wrong-password-x"}),
            )
            .await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let good = json!({"username": "founder", "password": FOUNDER_PASSWORD});
    let r = a.post(LOGIN, good.clone()).await;
    assert_error(&r, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(r.headers.contains_key("retry-after"));
    assert_eq!(b.post(LOGIN, good).await.status, 200);
    // X-Forwarded-For from an untrusted peer is ignored: without the trusted proxy every
    // client is 127.0.0.1, which is not locked.
}

#[tokio::test]
async fn forwarded_for_is_ignored_from_untrusted_peers() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.auth.lockout_threshold = 2).await;
    app.founder().await;
    for ip in ["192.0.2.1", "192.0.2.2"] {
        let r = xff_client(&app, ip)
            .post(
                LOGIN,
                json!({"username": "zz1", "password": "wrong-password-x"}),
            )
            .await;
        assert_eq!(r.status, 401);
    }
    // Both counted against the real peer address, so a third name from a "new" IP waits.
    let r = xff_client(&app, "192.0.2.3")
        .post(
            LOGIN,
            json!({"username": "zz2", "password": "wrong-password-x"}),
        )
        .await;
    assert_error(&r, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

async fn browser_login(app: &TestApp) -> (Api, String) {
    let b = app.browser();
    let r = b
        .post(
            LOGIN,
            json!({"username": "founder", "password": FOUNDER_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200);
    (b, r.body["csrf_token"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn cookie_writes_need_the_csrf_token_and_bearer_writes_do_not() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let (mut b, csrf) = browser_login(&app).await;
    // Reads need no CSRF token; /me hands a reloaded page the one its login response carried.
    let me = b.get("/api/v1/auth/me").await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["session"]["csrf_token"], csrf.as_str());
    // A bearer client needs none and gets none.
    let bearer_me = founder.get("/api/v1/auth/me").await;
    assert!(bearer_me.body["session"].get("csrf_token").is_none());
    let body = json!({"password": FOUNDER_PASSWORD});
    assert_error(
        &b.post("/api/v1/auth/step-up", body.clone()).await,
        StatusCode::FORBIDDEN,
        "csrf_missing",
    );
    b.csrf = Some("0".repeat(64));
    assert_error(
        &b.post("/api/v1/auth/step-up", body.clone()).await,
        StatusCode::FORBIDDEN,
        "csrf_missing",
    );
    b.csrf = Some(csrf);
    assert_eq!(
        b.post("/api/v1/auth/step-up", body.clone()).await.status,
        200
    );
    assert_eq!(founder.post("/api/v1/auth/step-up", body).await.status, 200);
}

#[tokio::test]
async fn logout_ends_the_session_and_clears_the_cookie() {
    let app = TestApp::spawn().await;
    app.founder().await;
    let (mut b, csrf) = browser_login(&app).await;
    assert_error(
        &b.post("/api/v1/auth/logout", json!({})).await,
        StatusCode::FORBIDDEN,
        "csrf_missing",
    );
    b.csrf = Some(csrf);
    let r = b.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(r.status, 204);
    let cookie = r.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("Max-Age=0") && cookie.starts_with("selah_session=;"),
        "{cookie}"
    );
    assert_error(
        &b.get("/api/v1/auth/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );

    let bearer = app.login("founder", FOUNDER_PASSWORD).await;
    assert_eq!(
        bearer.post("/api/v1/auth/logout", json!({})).await.status,
        204
    );
    assert_error(
        &bearer.get("/api/v1/auth/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert!(audit_types(&app).await.contains(&"auth.logout".to_string()));
}

async fn session_id(c: &Api) -> String {
    c.get("/api/v1/auth/me").await.body["session"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn idle_absolute_and_garbage_tokens_are_refused() {
    let app = TestApp::spawn().await;
    app.founder().await;
    let idle = app.login("founder", FOUNDER_PASSWORD).await;
    let id = session_id(&idle).await;
    // Idle past the timeout: only last_seen_at matters here, so age it by just over an hour.
    let idle_ms = app.config.auth.session_idle_secs as i64 * 1000;
    app.state
        .store
        .age_session(&id, idle_ms + 1000)
        .await
        .unwrap();
    assert_error(
        &idle.get("/api/v1/auth/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );

    let old = app.login("founder", FOUNDER_PASSWORD).await;
    let id = session_id(&old).await;
    let abs_ms = app.config.auth.session_absolute_secs as i64 * 1000;
    app.state
        .store
        .age_session(&id, abs_ms + 1000)
        .await
        .unwrap();
    // Touch last_seen_at so only the absolute lifetime is past.
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
        .bind(selah_store::now_ms())
        .bind(&id)
        .execute(app.state.store.writer())
        .await
        .unwrap();
    assert_error(
        &old.get("/api/v1/auth/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );

    let mut fake = app.client();
    fake.token = Some("not-a-real-token".into());
    assert_error(
        &fake.get("/api/v1/auth/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    fake.token = Some("x".repeat(10_000));
    assert_error(
        &fake.get("/api/v1/auth/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_only_by_their_owner() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let other = app.login("founder", FOUNDER_PASSWORD).await;
    let alice = app.user_with_role(&founder, "alice", "member").await;
    let r = founder.get("/api/v1/auth/sessions").await;
    assert_eq!(r.status, 200);
    let list = r.body["sessions"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(list.iter().all(|s| s.get("token_hash").is_none()));
    let mine = session_id(&founder).await;
    let theirs = session_id(&other).await;
    let alices = session_id(&alice).await;
    assert!(
        list.iter()
            .any(|s| s["id"] == mine.as_str() && s["current"] == true)
    );

    // Another user's session and an unknown id are both 404, and the session survives.
    assert_error(
        &founder
            .delete(&format!("/api/v1/auth/sessions/{alices}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &founder.delete("/api/v1/auth/sessions/nope").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(alice.get("/api/v1/auth/me").await.status, 200);

    assert_eq!(
        founder
            .delete(&format!("/api/v1/auth/sessions/{theirs}"))
            .await
            .status,
        204
    );
    assert_error(
        &other.get("/api/v1/auth/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_eq!(
        founder.get("/api/v1/auth/sessions").await.body["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        audit_types(&app)
            .await
            .contains(&"auth.session_revoked".to_string())
    );
}

#[tokio::test]
async fn unauthenticated_calls_get_401() {
    let app = TestApp::spawn().await;
    app.founder().await;
    let c = app.client();
    for path in [
        "/api/v1/auth/me",
        "/api/v1/auth/sessions",
        "/api/v1/auth/permissions/effective",
    ] {
        assert_error(
            &c.get(path).await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        );
    }
    for (path, body) in [
        ("/api/v1/auth/logout", json!({})),
        (
            "/api/v1/auth/step-up",
            json!({"password": FOUNDER_PASSWORD}),
        ),
        (
            "/api/v1/auth/password",
            json!({"current_password": "a", "new_password": "b"}),
        ),
    ] {
        assert_error(
            &c.post(path, body).await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        );
    }
    assert_error(
        &c.delete("/api/v1/auth/sessions/x").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}

#[tokio::test]
async fn step_up_is_founder_only_and_expires() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.auth.step_up_secs = 1).await;
    let founder = app.founder().await;
    let admin = app.user_with_role(&founder, "adm", "admin").await;
    let r = admin
        .post("/api/v1/auth/step-up", json!({"password": USER_PASSWORD}))
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");

    let grants = json!({"grants": ["data.run_sql"], "denials": []});
    let alice = app.user_with_role(&founder, "alice", "member").await;
    let alice_id = alice.get("/api/v1/auth/me").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let perms = format!("/api/v1/admin/users/{alice_id}/permissions");
    // The stepped-up session from user_with_role_stepped has expired by now (1 s).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_error(
        &founder.put(&perms, grants.clone()).await,
        StatusCode::FORBIDDEN,
        "step_up_required",
    );
    let wrong = founder
        .post(
            "/api/v1/auth/step-up",
            json!({"password": "wrong-password-x"}),
        )
        .await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_error(
        &founder.put(&perms, grants.clone()).await,
        StatusCode::FORBIDDEN,
        "step_up_required",
    );
    assert_error(
        &founder.post("/api/v1/auth/step-up", json!({})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );

    let ok = founder
        .post(
            "/api/v1/auth/step-up",
            json!({"password": FOUNDER_PASSWORD}),
        )
        .await;
    assert_eq!(ok.status, 200);
    let until = ok.body["step_up_until"].as_i64().unwrap();
    assert!(until > selah_store::now_ms());
    assert_eq!(
        founder.get("/api/v1/auth/me").await.body["session"]["step_up_until"],
        until
    );
    assert_eq!(founder.put(&perms, grants.clone()).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_error(
        &founder.put(&perms, grants).await,
        StatusCode::FORBIDDEN,
        "step_up_required",
    );
    let steps = audit_details(&app, "auth.step_up").await;
    assert!(steps.iter().any(|d| d.contains("\"success\":false")));
    assert!(steps.iter().any(|d| d.contains("\"success\":true")));
}

#[tokio::test]
async fn step_up_failures_count_towards_the_back_off() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.auth.lockout_threshold = 2).await;
    let founder = app.founder().await;
    for _ in 0..2 {
        let r = founder
            .post(
                "/api/v1/auth/step-up",
                json!({"password": "wrong-password-x"}),
            )
            .await;
        assert_eq!(r.status, 401);
    }
    let r = founder
        .post(
            "/api/v1/auth/step-up",
            json!({"password": FOUNDER_PASSWORD}),
        )
        .await;
    assert_error(&r, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let r = app
        .client()
        .post(
            LOGIN,
            json!({"username": "founder", "password": FOUNDER_PASSWORD}),
        )
        .await;
    assert_error(&r, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

#[tokio::test]
async fn changing_the_password_keeps_this_session_and_ends_the_others() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let alice = app.user_with_role(&founder, "alice", "member").await;
    let alice2 = app.login("alice", USER_PASSWORD).await;
    let path = "/api/v1/auth/password";
    let r = alice
        .post(
            path,
            json!({"current_password": "wrong-password-x", "new_password": "a-brand-new-password"}),
        )
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let r = alice
        .post(
            path,
            json!({"current_password": USER_PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_error(
        &alice.post(path, json!({"new_password": "x"})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_eq!(
        alice2.get("/api/v1/auth/me").await.status,
        200,
        "failed attempts change nothing"
    );

    let r = alice
        .post(
            path,
            json!({"current_password": USER_PASSWORD, "new_password": "a-brand-new-password"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(alice.get("/api/v1/auth/me").await.status, 200);
    assert_error(
        &alice2.get("/api/v1/auth/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let old = app
        .client()
        .post(
            LOGIN,
            json!({"username": "alice", "password": USER_PASSWORD}),
        )
        .await;
    assert_error(&old, StatusCode::UNAUTHORIZED, "invalid_credentials");
    app.login("alice", "a-brand-new-password").await;
    let changes = audit_details(&app, "user.password_changed").await;
    assert!(changes.iter().all(|d| !d.contains("a-brand-new-password")));
}

/// A new password over the cap (1024 characters) is refused: the old password still signs
/// in, the long one does not, and the other sessions survive.
#[tokio::test]
async fn a_new_password_over_1024_characters_is_refused() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let alice = app.user_with_role(&founder, "alice", "member").await;
    let alice2 = app.login("alice", USER_PASSWORD).await;
    let long = "n".repeat(1025);
    let r = alice
        .post(
            "/api/v1/auth/password",
            json!({"current_password": USER_PASSWORD, "new_password": long}),
        )
        .await;
    assert_error_says(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        "at most 1024",
    );
    assert_eq!(alice.get("/api/v1/auth/me").await.status, 200);
    assert_eq!(
        alice2.get("/api/v1/auth/me").await.status,
        200,
        "a refused change ends no session"
    );
    let with_long = app
        .client()
        .post(LOGIN, json!({"username": "alice", "password": long}))
        .await;
    assert_error(&with_long, StatusCode::UNAUTHORIZED, "invalid_credentials");
    app.login("alice", USER_PASSWORD).await;
    // At the cap, the change goes through.
    let max = "n".repeat(1024);
    let r = alice
        .post(
            "/api/v1/auth/password",
            json!({"current_password": USER_PASSWORD, "new_password": max}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    app.login("alice", &max).await;
}

#[tokio::test]
async fn effective_permissions_explain_every_key() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let r = founder.get("/api/v1/auth/permissions/effective").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["role"], "founder");
    assert_eq!(r.body["team"], Value::Null);
    let perms = r.body["permissions"].as_array().unwrap();
    assert_eq!(perms.len(), selah_core::Permission::ALL.len());
    assert!(
        perms
            .iter()
            .all(|p| p["granted"] == true && p["source"] == "founder")
    );

    let guest = app.user_with_role(&founder, "gus", "guest").await;
    let r = guest.get("/api/v1/auth/permissions/effective").await;
    assert_eq!(r.body["user"]["username"], "gus");
    assert_eq!(r.body["role"], "guest");
    let find = |k: &str| {
        r.body["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["key"] == k)
            .unwrap()
            .clone()
    };
    assert_eq!(find("docs.read")["granted"], true);
    assert_eq!(find("docs.read")["source"], "role_baseline");
    assert_eq!(find("docs.read")["category"], "docs");
    assert_eq!(find("docs.write")["granted"], false);
    assert_eq!(find("founder.all")["granted"], false);

    // A team the caller is not in is not found (team membership is verified).
    let mut g = guest.clone();
    g.http = {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("x-selah-team", "no-such-team".parse().unwrap());
        reqwest::Client::builder()
            .default_headers(h)
            .build()
            .unwrap()
    };
    assert_error(
        &g.get("/api/v1/auth/permissions/effective").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

#[tokio::test]
async fn effective_permissions_in_a_team_context() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let guest = app.user_with_role(&founder, "gus", "guest").await;
    let gid = guest.get("/api/v1/auth/me").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Teams are another module's; make the membership directly in the store.
    let team = selah_store::new_id();
    let now = selah_store::now_ms();
    let w = app.state.store.writer();
    sqlx::query("INSERT INTO teams (id, name, created_by, created_at) VALUES ($1, 'T', $2, $3)")
        .bind(&team)
        .bind(&gid)
        .bind(now)
        .execute(w)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO team_members (team_id, user_id, role, joined_at) VALUES ($1, $2, 'owner', $3)",
    )
    .bind(&team)
    .bind(&gid)
    .bind(now)
    .execute(w)
    .await
    .unwrap();
    let mut g = guest.clone();
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("x-selah-team", team.parse().unwrap());
    g.http = reqwest::Client::builder()
        .default_headers(h)
        .build()
        .unwrap();
    let r = g.get("/api/v1/auth/permissions/effective").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["team"]["id"], team.as_str());
    assert_eq!(r.body["team"]["role"], "owner");
    let docs_write = r.body["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == "docs.write")
        .unwrap()
        .clone();
    assert_eq!(docs_write["granted"], true);
    assert_eq!(docs_write["source"], "team_role");
}

#[tokio::test]
async fn disabled_users_cannot_log_in_and_lose_their_sessions() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let alice = app.user_with_role(&founder, "alice", "member").await;
    let id = alice.get("/api/v1/auth/me").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = founder
        .patch(
            &format!("/api/v1/admin/users/{id}"),
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_error(
        &alice.get("/api/v1/auth/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let r = app
        .client()
        .post(
            LOGIN,
            json!({"username": "alice", "password": USER_PASSWORD}),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "account_disabled");
    // A wrong password on a disabled account says only that the credentials are wrong.
    let r = app
        .client()
        .post(
            LOGIN,
            json!({"username": "alice", "password": "wrong-password-x"}),
        )
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "invalid_credentials");
    founder
        .patch(
            &format!("/api/v1/admin/users/{id}"),
            json!({"disabled": false}),
        )
        .await;
    app.login("alice", USER_PASSWORD).await;
}

#[tokio::test]
async fn account_flow_on_postgres() {
    let app = TestApp::spawn_with(Db::Postgres, |_| {}).await;
    let founder = app.founder().await;
    let admin = app.user_with_role(&founder, "adm", "admin").await;
    let alice = app.user_with_role(&admin, "alice", "member").await;
    let alice2 = app.login("alice", USER_PASSWORD).await;
    let sessions = alice.get("/api/v1/auth/sessions").await;
    assert_eq!(sessions.body["sessions"].as_array().unwrap().len(), 2);
    let me = alice.get("/api/v1/auth/me").await;
    assert_eq!(me.status, 200);
    let id = me.body["user"]["id"].as_str().unwrap().to_string();
    let r = alice
        .post(
            "/api/v1/auth/password",
            json!({"current_password": USER_PASSWORD, "new_password": "pg-new-password-x"}),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(alice.get("/api/v1/auth/me").await.status, 200);
    assert_eq!(alice2.get("/api/v1/auth/me").await.status, 401);
    let r = founder
        .put(
            &format!("/api/v1/admin/users/{id}/permissions"),
            json!({"grants": ["admin.view_audit"], "denials": ["docs.write"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["denials"], json!(["docs.write"]));
    let r = admin
        .put(
            &format!("/api/v1/admin/users/{id}/role"),
            json!({"role": "guest"}),
        )
        .await;
    assert_eq!(r.body["user"]["role"], "guest");
    let r = admin
        .patch(
            &format!("/api/v1/admin/users/{id}"),
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(alice.get("/api/v1/auth/me").await.status, 401);
    let r = app
        .client()
        .post(
            LOGIN,
            json!({"username": "alice", "password": "pg-new-password-x"}),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "account_disabled");
    app.stop().await;
}
