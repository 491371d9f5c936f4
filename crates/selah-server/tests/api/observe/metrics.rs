//! `/metrics` parses as Prometheus text and its figures move with requests.

use super::*;

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
