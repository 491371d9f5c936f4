//! `selah healthcheck`: against the real server, against nothing, and against stand-ins that
//! answer with a given health report (or never answer).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::common::*;

/// Serves `response` (status line and JSON body) to every connection, on a thread. With
/// `None`, accepts and never answers.
fn stand_in(response: Option<(&'static str, &'static str)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/health", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            match response {
                Some((status, body)) => {
                    let _ = write!(
                        conn,
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
                None => held.push(conn),
            }
        }
    });
    url
}

fn healthcheck(url: &str) -> (Option<i32>, String, String) {
    let tmp = tempfile::tempdir().unwrap();
    let (st, out, err) = run(selah(&tmp.path().join("data")).args(["healthcheck", "--url", url]));
    (st.code(), out, err)
}

#[tokio::test]
async fn exits_0_against_a_running_server_found_from_the_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&data, |_| {}).await;
    // No --url: the address comes from the configuration (here CUSTOM_PORT).
    let (st, out, err) = run(selah(&data)
        .arg("healthcheck")
        .env("CUSTOM_PORT", server.port.to_string()));
    assert!(st.success(), "{out}\n{err}");
    assert!(
        out.starts_with("healthy") || out.starts_with("degraded"),
        "{out}"
    );
    assert_eq!(out.trim().lines().count(), 1, "one line: {out}");
    server.stop().await;
}

#[test]
fn exits_1_when_nothing_listens() {
    let url = format!("http://127.0.0.1:{}/health", free_port());
    let (code, _, err) = healthcheck(&url);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("cannot reach") && err.contains("refused"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

#[test]
fn exits_1_on_an_unhealthy_report_naming_the_failing_check() {
    let url = stand_in(Some((
        "503 Service Unavailable",
        r#"{"status":"unhealthy","score":80,"checks":[{"name":"database","status":"unhealthy","message":"ping failed"},{"name":"disk","status":"healthy","message":"ok"}]}"#,
    )));
    let (code, _, err) = healthcheck(&url);
    assert_eq!(code, Some(1));
    assert_eq!(
        err.trim(),
        "unhealthy (score 80); database unhealthy: ping failed"
    );
}

#[test]
fn exits_0_on_a_degraded_report() {
    let url = stand_in(Some((
        "200 OK",
        r#"{"status":"degraded","score":80,"checks":[{"name":"disk","status":"degraded","message":"low space"}]}"#,
    )));
    let (code, out, _) = healthcheck(&url);
    assert_eq!(code, Some(0));
    assert_eq!(out.trim(), "degraded (score 80); disk degraded: low space");
}

#[test]
fn exits_1_on_an_answer_that_is_not_a_health_report() {
    let url = stand_in(Some(("200 OK", r#"{"hello":"world"}"#)));
    let (code, _, err) = healthcheck(&url);
    assert_eq!(code, Some(1));
    assert!(err.contains("without a health status"), "{err}");
}

#[test]
fn gives_up_after_3_seconds() {
    let url = stand_in(None);
    let started = Instant::now();
    let (code, _, err) = healthcheck(&url);
    let took = started.elapsed();
    assert_eq!(code, Some(1));
    assert!(err.contains("within 3 s"), "{err}");
    assert!(
        took >= Duration::from_millis(2900) && took < Duration::from_secs(10),
        "{took:?}"
    );
}
