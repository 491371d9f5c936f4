//! kill -9 in the middle of a burst of writes loses no acknowledged write, and leaves a
//! database that passes SQLite's integrity check.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::{Connection, Row};

use crate::common::*;

const USERS: usize = 300;
const CONCURRENCY: usize = 16;
/// SIGKILL once this many creations were acknowledged (the rest are in flight or queued).
const KILL_AFTER: usize = 60;

/// The users in a `GET /api/v1/admin/users` answer (`{"users":[…]}`).
fn users_in(body: &Value) -> Vec<Value> {
    body["users"]
        .as_array()
        .unwrap_or_else(|| panic!("no user list in {body}"))
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_burst_of_writes_loses_no_acknowledged_write() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = Server::start(&data, |_| {}).await;
    let admin = server.founder().await;

    let acked: Arc<std::sync::Mutex<Vec<(String, String)>>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (admin, acked, count, next) =
            (admin.clone(), acked.clone(), count.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= USERS {
                    return;
                }
                let username = format!("burst{i:03}");
                let res = admin
                    .send(
                        reqwest::Method::POST,
                        "/api/v1/admin/users",
                        Some(json!({"username": username, "password": format!("password-of-{username}"), "role": "member"})),
                    )
                    .await;
                match res {
                    Ok((201, body)) => {
                        let id = body["user"]["id"].as_str().expect("created user has an id").to_string();
                        acked.lock().unwrap().push((id, username));
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok((st, body)) => panic!("unexpected {st}: {body}"),
                    // The server died under us: this write was never acknowledged.
                    Err(_) => return,
                }
            }
        }));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while count.load(Ordering::SeqCst) < KILL_AFTER {
        // A worker that failed (panicked on an unexpected answer) ends the test here.
        if let Some(w) = workers.iter_mut().find(|w| w.is_finished()) {
            w.await.unwrap();
            panic!("a worker stopped before the kill");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "too slow: {} acknowledged",
            count.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill9().await;
    for w in workers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    eprintln!(
        "{} of {USERS} creations acknowledged before kill -9",
        acked.len()
    );
    assert!(acked.len() >= KILL_AFTER);
    assert!(
        acked.len() < USERS,
        "the kill came after the burst; nothing was tested"
    );

    let server = Server::start(&data, |_| {}).await;
    let admin = server.client().login("founder", FOUNDER_PASSWORD).await;
    let (st, body) = admin.get("/api/v1/admin/users").await;
    assert_eq!(st, 200, "{body}");
    let present: BTreeSet<(String, String)> = users_in(&body)
        .iter()
        .map(|u| {
            (
                u["id"].as_str().unwrap().to_string(),
                u["username"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for a in &acked {
        assert!(present.contains(a), "acknowledged {a:?} lost after kill -9");
    }
    server.stop().await;

    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}", data.join("selah.db").display());
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    let check: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(check, "ok");
}
