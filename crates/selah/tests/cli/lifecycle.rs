//! Lifecycle of the real process: graceful shutdown with a request in flight, systemd
//! notifications on a real `NOTIFY_SOCKET`, and refusal of a database from a newer Selah.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sqlx::Connection;
use tokio::net::UnixDatagram;

use crate::common::*;

/// Records a schema version in `<data>/selah.db`, as a newer Selah would have.
pub async fn insert_schema_version(data: &Path, version: i64) {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}", data.join("selah.db").display());
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query("INSERT INTO selah_schema (version, name, applied_at) VALUES ($1, 'future', 0)")
        .bind(version)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

#[tokio::test]
async fn a_request_in_flight_at_sigterm_still_gets_its_response() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = Server::start(&data, |_| {}).await;

    let body = format!(r#"{{"username":"founder","password":"{FOUNDER_PASSWORD}"}}"#);
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    write!(
        conn,
        "POST /api/v1/setup/founder HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    conn.write_all(first).unwrap();
    conn.flush().unwrap();
    // Let the server take the headers and wait in the handler for the rest of the body.
    tokio::time::sleep(Duration::from_millis(300)).await;

    server.term();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server must wait for the request in flight"
    );
    assert!(server.stderr().contains("shutdown requested"));

    conn.write_all(rest).unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 201"),
        "complete response expected, got: {response:?}"
    );
    let json = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    assert!(
        serde_json::from_str::<serde_json::Value>(json).is_ok(),
        "{json:?}"
    );

    let status = server.wait(15).await;
    assert!(status.success(), "exit {status}: {}", server.stderr());
    assert!(
        server.stderr().contains("stopped cleanly"),
        "{}",
        server.stderr()
    );
    // The log file has it too.
    let logs: String = files_under(&data.join("logs"))
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(logs.contains("stopped cleanly"), "{logs}");
}

/// Receives the next datagram within `secs`, or None.
async fn next(sock: &UnixDatagram, secs: f64) -> Option<String> {
    let mut buf = vec![0u8; 4096];
    match tokio::time::timeout(Duration::from_secs_f64(secs), sock.recv(&mut buf)).await {
        Ok(Ok(n)) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        _ => None,
    }
}

#[tokio::test]
async fn systemd_hears_ready_watchdog_pings_and_stopping() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let sock_path = tmp.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    let port = free_port();

    // systemd names the watched process in WATCHDOG_PID: the shell's pid becomes selah's
    // through exec.
    let mut cmd = Command::new("sh");
    clean_env(&mut cmd);
    cmd.current_dir(tmp.path())
        .arg("-c")
        .arg("WATCHDOG_PID=$$ exec \"$0\" \"$@\"")
        .arg(bin())
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--port", &port.to_string()])
        .env("NOTIFY_SOCKET", &sock_path)
        .env("WATCHDOG_ENABLED", "true")
        .env("WATCHDOG_USEC", "300000");
    let mut server = Server::spawn(cmd, &data, port).await;

    let first = next(&sock, 10.0).await.expect("a notification");
    assert!(first.lines().any(|l| l == "READY=1"), "{first:?}");

    // Pings every 150 ms (half of WATCHDOG_USEC).
    let started = Instant::now();
    let mut pings = 0;
    while started.elapsed() < Duration::from_millis(1200) {
        if let Some(m) = next(&sock, 0.5).await {
            assert_eq!(m.trim(), "WATCHDOG=1");
            pings += 1;
        }
    }
    assert!((4..=10).contains(&pings), "{pings} pings in 1.2 s");

    server.term();
    let mut stopping = false;
    while let Some(m) = next(&sock, 5.0).await {
        if m.lines().any(|l| l == "STOPPING=1") {
            stopping = true;
            break;
        }
        assert_eq!(m.trim(), "WATCHDOG=1");
    }
    assert!(stopping, "no STOPPING=1");
    let status = server.wait(15).await;
    assert!(status.success(), "{}", server.stderr());
    // Nothing after STOPPING (the pings stopped with it).
    assert_eq!(next(&sock, 0.3).await, None);
}

#[tokio::test]
async fn without_watchdog_enabled_systemd_hears_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let sock_path = tmp.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    let server = Server::start(&data, |c| {
        c.env("NOTIFY_SOCKET", &sock_path)
            .env("WATCHDOG_USEC", "200000");
    })
    .await;
    assert_eq!(next(&sock, 1.0).await, None);
    server.stop().await;
    assert_eq!(next(&sock, 0.2).await, None);

    // And enabled without a NOTIFY_SOCKET (not under systemd) is a no-op.
    let server = Server::start(&data, |c| {
        c.env("WATCHDOG_ENABLED", "true");
    })
    .await;
    let (st, _) = server.client().get("/api/v1/openapi.json").await;
    assert_eq!(st, 200);
    server.stop().await;
}

#[tokio::test]
async fn a_database_from_a_newer_selah_is_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let (store, _) = selah_store::Store::open("", &data).await.unwrap();
    store.close().await;
    insert_schema_version(&data, 999).await;

    let mut child = selah(&data)
        .args(["serve", "--port", &free_port().to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not refuse the database"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!status.success());
    assert!(
        err.contains("schema version 999") && err.contains("newer than this Selah"),
        "{err}"
    );
    assert!(err.contains("upgrade Selah"), "says how to fix it: {err}");
}
