//! `/health`: its shape, its checks, its status codes, and the error window behind the score.

use super::*;

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
