//! The audit log over HTTP: verification after tampering on both backends, permissions, filters
//! and pagination, CSV export quoting, back-pressure and flushing at shutdown.

use std::collections::HashSet;

use reqwest::StatusCode;
use selah_core::Role;
use selah_server::audit::AuditEvent;
use selah_server::auth::token;
use selah_store::audit::{AuditFilter, AuditInput};
use selah_store::sessions::NewSession;
use serde_json::json;
use sqlx::Executor;

use crate::common::*;

/// A client signed in as a new user with `role`, made directly in the store (independent of
/// the login endpoints).
pub async fn signed_in(app: &TestApp, role: Role) -> Api {
    let name = format!("{}-{}", role.as_str(), uuid::Uuid::new_v4().simple());
    let user = app
        .state
        .store
        .create_user(&name, "not-a-real-hash", role)
        .await
        .unwrap();
    let tok = token::generate();
    app.state
        .store
        .create_session(NewSession {
            token_hash: &token::hash(&tok),
            user_id: &user.id,
            kind: "token",
            lifetime_ms: 3_600_000,
            ip: None,
            user_agent: None,
        })
        .await
        .unwrap();
    let mut api = app.client();
    api.token = Some(tok);
    api
}

/// Records `n` events of `event_type` through the internal API and waits until written.
async fn record(app: &TestApp, event_type: &str, n: usize) {
    for i in 0..n {
        app.state
            .audit
            .record(AuditEvent::new(event_type, "create").resource("thing", &format!("t{i}")))
            .await;
    }
    app.state.audit.flush().await;
}

async fn exec(app: &TestApp, sql: &str) {
    for stmt in sql.split(';') {
        app.state
            .store
            .writer()
            .execute(sqlx::AssertSqlSafe(stmt.to_string()))
            .await
            .unwrap();
    }
}

async fn count(app: &TestApp, event_type: &str) -> usize {
    app.state.audit.flush().await;
    let f = AuditFilter {
        event_type: Some(event_type.into()),
        ..Default::default()
    };
    app.state
        .store
        .query_audit(&f, None, 100_000)
        .await
        .unwrap()
        .records
        .len()
}

/// Each tampering (with the seq it must be reported at, given the newest seq) on a fresh app.
async fn tampering_is_reported(db: Db) {
    type Case = (&'static str, fn(i64) -> String, fn(i64) -> i64);
    let cases: [Case; 4] = [
        (
            "change a field",
            |_| "UPDATE audit_log SET action = 'delete' WHERE seq = 4".into(),
            |_| 4,
        ),
        (
            "delete a middle record",
            |_| "DELETE FROM audit_log WHERE seq = 5".into(),
            |_| 5,
        ),
        (
            "delete the newest record",
            |n| format!("DELETE FROM audit_log WHERE seq = {n}"),
            |n| n,
        ),
        (
            "swap two records' contents",
            |_| {
                "UPDATE audit_log SET seq = -3 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4; \
                  UPDATE audit_log SET seq = 4 WHERE seq = -3"
                .into()
            },
            |_| 3,
        ),
    ];
    for (what, sql, bad) in cases {
        let app = TestApp::spawn_with(db, |_| {}).await;
        let admin = signed_in(&app, Role::Admin).await;
        record(&app, "test.tamper", 10).await;
        let r = admin.get("/api/v1/admin/audit-log/verify").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["ok"], true, "{what}: {}", r.text);
        app.state.audit.flush().await;
        let newest = app
            .state
            .store
            .verify_audit()
            .await
            .unwrap()
            .head_seq
            .unwrap();
        exec(&app, &sql(newest)).await;
        let r = admin.get("/api/v1/admin/audit-log/verify").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["ok"], false, "{what}: {}", r.text);
        assert_eq!(r.body["first_bad_seq"], bad(newest), "{what}: {}", r.text);
        assert!(r.body["reason"].as_str().is_some_and(|s| !s.is_empty()));
        app.stop().await;
    }
}

#[tokio::test]
async fn tampering_is_detected_on_sqlite() {
    tampering_is_reported(Db::Sqlite).await;
}

#[tokio::test]
async fn tampering_is_detected_on_postgres() {
    tampering_is_reported(Db::Postgres).await;
}

#[tokio::test]
async fn audit_routes_need_view_audit_and_a_session() {
    let app = TestApp::spawn().await;
    let member = signed_in(&app, Role::Member).await;
    let guest = signed_in(&app, Role::Guest).await;
    let admin = signed_in(&app, Role::Admin).await;
    for path in [
        "/api/v1/admin/audit-log",
        "/api/v1/admin/audit-log/verify",
        "/api/v1/admin/audit-log/export.csv",
    ] {
        assert_error(
            &app.client().get(path).await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        );
        assert_error(&member.get(path).await, StatusCode::FORBIDDEN, "forbidden");
        assert_error(&guest.get(path).await, StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(admin.get(path).await.status, StatusCode::OK, "{path}");
    }
    // Documented in the OpenAPI document, with the time formats stated.
    let doc = app.client().get("/api/v1/openapi.json").await.body;
    for path in [
        "/api/v1/admin/audit-log",
        "/api/v1/admin/audit-log/verify",
        "/api/v1/admin/audit-log/export.csv",
        "/api/v1/admin/cleanup",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(
        doc["paths"]["/api/v1/admin/audit-log"]
            .to_string()
            .contains("RFC 3339")
    );
    // No route writes an arbitrary event.
    let r = admin
        .post("/api/v1/admin/audit-log", json!({"event_type": "forged"}))
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    app.stop().await;
}

/// Seeds events with chosen times, users and resources directly through the store.
async fn seed(app: &TestApp, n: i64) {
    let events: Vec<AuditInput> = (1..=n)
        .map(|i| AuditInput {
            ts: 1_700_000_000_000 + i * 1000,
            user_id: Some(format!("user{}", i % 3)),
            event_type: if i % 2 == 0 { "test.even" } else { "test.odd" }.into(),
            action: "create".into(),
            resource_type: Some("thing".into()),
            resource_id: Some(format!("r{i}")),
            details: Some(json!({"i": i}).to_string()),
            ..Default::default()
        })
        .collect();
    app.state.store.append_audit(&events).await.unwrap();
}

fn seqs(r: &Resp) -> Vec<i64> {
    r.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn filters_and_pages_return_the_right_rows_without_gaps_or_duplicates() {
    let app = TestApp::spawn().await;
    let admin = signed_in(&app, Role::Admin).await;
    seed(&app, 60).await;

    // Odd events, 7 per page, while new odd events keep arriving: pages stay stable.
    let mut seen = Vec::new();
    let mut path = "/api/v1/admin/audit-log?event_type=test.odd&limit=7".to_string();
    loop {
        let r = admin.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let page = seqs(&r);
        assert!(page.len() <= 7);
        seen.extend(page);
        record(&app, "test.odd", 1).await;
        match r.body["next_cursor"].as_str() {
            Some(c) => {
                path = format!("/api/v1/admin/audit-log?event_type=test.odd&limit=7&cursor={c}")
            }
            None => break,
        }
    }
    let expected: Vec<i64> = (1..=60).rev().filter(|i| i % 2 == 1).collect();
    assert_eq!(seen, expected);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());

    // Entry shape.
    let r = admin
        .get("/api/v1/admin/audit-log?resource_type=thing&resource_id=r6")
        .await;
    let e = &r.body["entries"][0];
    assert_eq!(r.body["entries"].as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(e["seq"], 6);
    assert_eq!(e["event_type"], "test.even");
    assert_eq!(e["details"]["i"], 6);
    assert_eq!(e["time"], "2023-11-14T22:13:26.000Z");
    assert!(r.body.get("next_cursor").is_none());

    // User and time filters, times as RFC 3339 and as milliseconds.
    let base = 1_700_000_000_000i64;
    let r = admin
        .get(&format!(
            "/api/v1/admin/audit-log?user=user1&since={}&until=2023-11-14T22:13:40Z",
            base + 10_000
        ))
        .await;
    // i % 3 == 1 with 10 <= i < 20: 10, 13, 16, 19.
    assert_eq!(seqs(&r), vec![19, 16, 13, 10], "{}", r.text);
    let r = admin
        .get("/api/v1/admin/audit-log?since=2023-11-14T23:13:30%2B01:00&until=1700000012000&event_type=test.even")
        .await;
    assert_eq!(seqs(&r), vec![10], "{}", r.text);

    // Default page size is 50.
    let r = admin.get("/api/v1/admin/audit-log").await;
    assert_eq!(seqs(&r).len(), 50);
    assert!(r.body["next_cursor"].is_string());

    // Reading is audited.
    assert!(count(&app, "audit.viewed").await >= 6);
    app.stop().await;
}

#[tokio::test]
async fn bad_parameters_are_refused() {
    let app = TestApp::spawn().await;
    let admin = signed_in(&app, Role::Admin).await;
    for q in [
        "limit=0",
        "limit=501",
        "limit=abc",
        "limit=-1",
        "cursor=abc",
        "cursor=-5",
        "cursor=0",
        "since=yesterday",
        "until=2024-13-01T00:00:00Z",
        "since=2000&until=1000",
        "user=",
        "frobnicate=1",
    ] {
        let r = admin.get(&format!("/api/v1/admin/audit-log?{q}")).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    }
    for q in ["since=nope", "limit=5", "cursor=3"] {
        let r = admin
            .get(&format!("/api/v1/admin/audit-log/export.csv?{q}"))
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    }
    app.stop().await;
}

/// A small RFC 4180 reader, to check the export round-trips.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(
        cell.is_empty() && row.is_empty(),
        "the CSV ends with a line break"
    );
    rows
}

#[tokio::test]
async fn csv_export_quotes_cells_and_defuses_formulas_across_pages() {
    let app = TestApp::spawn().await;
    let admin = signed_in(&app, Role::Admin).await;
    let nasty = "a,\"b\"\n=1+1";
    app.state
        .audit
        .record(
            AuditEvent::new("test.csv", "create")
                .resource("=cmd|' /C calc'!A0", "@SUM(1)")
                .details(json!({ "note": nasty })),
        )
        .await;
    app.state.audit.flush().await;
    seed(&app, 1200).await; // more than two export pages

    let r = admin
        .get("/api/v1/admin/audit-log/export.csv?event_type=test.csv")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let rows = parse_csv(&r.text);
    assert_eq!(rows.len(), 2, "{}", r.text);
    let header = &rows[0];
    assert_eq!(header[0], "seq");
    assert_eq!(header.len(), 13);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let row = &rows[1];
    assert_eq!(row.len(), 13);
    assert_eq!(row[col("resource_type")], "'=cmd|' /C calc'!A0");
    assert_eq!(row[col("resource_id")], "'@SUM(1)");
    let details: serde_json::Value = serde_json::from_str(&row[col("details")]).unwrap();
    assert_eq!(details["note"], nasty);
    // The raw text never starts a cell with a bare formula character.
    assert!(!r.text.contains(",=") && !r.text.contains(",@"));

    let r = admin.get("/api/v1/admin/audit-log/export.csv").await;
    let rows = parse_csv(&r.text);
    let seqs: Vec<i64> = rows[1..].iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(seqs.len() >= 1201, "{}", seqs.len());
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first, no duplicates"
    );
    assert!(count(&app, "audit.exported").await >= 2);
    app.stop().await;
}

#[tokio::test]
async fn a_queue_of_one_takes_500_concurrent_events_without_loss() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.audit.queue_capacity = 1).await;
    let mut tasks = Vec::new();
    for i in 0..500 {
        let audit = app.state.audit.clone();
        tasks.push(tokio::spawn(async move {
            audit
                .record(AuditEvent::new("test.burst", "create").resource("n", &i.to_string()))
                .await;
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    app.state.audit.flush().await;
    assert_eq!(count(&app, "test.burst").await, 500);
    let v = app.state.store.verify_audit().await.unwrap();
    assert!(v.ok && v.checked == 500, "{v:?}");
    app.stop().await;
}

#[tokio::test]
async fn shutdown_flushes_queued_events() {
    let app = TestApp::spawn().await;
    for i in 0..200 {
        app.state
            .audit
            .record(AuditEvent::new("test.shutdown", "create").resource("n", &i.to_string()))
            .await;
    }
    let (config, dir) = app.stop().await;
    let app = TestApp::spawn_in(config, dir).await;
    assert_eq!(count(&app, "test.shutdown").await, 200);
    assert!(app.state.store.verify_audit().await.unwrap().ok);
    app.stop().await;
}
