//! Scale-out: two Selah instances on different ports sharing PostgreSQL and Redis. Clients on
//! each are in the same room and see each other's messages, in the same order, with the same
//! sequence numbers; presence crosses instances too.

use reqwest::StatusCode;
use selah_core::Secret;
use serde_json::{Value, json};

use crate::common::{TestApp, fresh_pg_database, test_config};
use crate::ws_client::{Ws, connect};
use crate::yjs_harness::yjs_async as yjs;

fn chats(ws: &Ws, room: &str) -> Vec<(u64, String)> {
    ws.seen
        .iter()
        .filter(|v| v["type"] == "chat" && v["room"] == json!(room))
        .map(|v| {
            (
                v["seq"].as_u64().unwrap(),
                v["message"]["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn read_chats(ws: &mut Ws, room: &str, n: usize) {
    while chats(ws, room).len() < n {
        ws.recv().await;
    }
}

/// Two instances sharing a fresh PostgreSQL database and the local Redis.
async fn two_instances(tweak: impl Fn(&mut selah_core::Config)) -> (TestApp, TestApp) {
    let mut config = test_config();
    config.database_url = Secret::new(fresh_pg_database().await);
    config.live.redis_url = Secret::new("redis://127.0.0.1:6379".to_string());
    tweak(&mut config);
    let a = TestApp::spawn_in(config.clone(), tempfile::tempdir().unwrap()).await;
    let b = TestApp::spawn_in(config, tempfile::tempdir().unwrap()).await;
    (a, b)
}

#[tokio::test]
async fn two_instances_sharing_redis_and_postgres_deliver_the_same_room_in_the_same_order() {
    let (a, b) = two_instances(|_| {}).await;
    assert_ne!(a.addr.port(), b.addr.port());
    let founder = a.founder().await;
    let t = founder.post("/api/v1/teams", json!({"name": "Both"})).await;
    assert_eq!(t.status, StatusCode::CREATED);
    let team = t.body["id"].as_str().unwrap().to_string();
    let on_b = b.login("founder", crate::common::FOUNDER_PASSWORD).await;

    let mut host = connect(&a.base, founder.token.as_deref().unwrap()).await;
    let room = host.create_room("collaboration", Some(&team)).await;
    let mut guest = connect(&b.base, on_b.token.as_deref().unwrap()).await;
    let snap = guest.join(&room).await;
    assert_eq!(snap["info"]["name"], "collaboration room");
    assert!(
        snap["presence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["username"] == "founder"),
        "presence from the other instance: {snap}"
    );

    // Both write at once, from both instances.
    let (mut h, mut g) = (host, guest);
    let room_a = room.clone();
    let room_b = room.clone();
    let writer_a = tokio::spawn(async move {
        for i in 0..15 {
            h.send(json!({"v": 1, "type": "chat.send", "room": room_a, "text": format!("a{i}")}))
                .await;
        }
        read_chats(&mut h, &room_a, 30).await;
        h
    });
    let writer_b = tokio::spawn(async move {
        for i in 0..15 {
            g.send(json!({"v": 1, "type": "chat.send", "room": room_b, "text": format!("b{i}")}))
                .await;
        }
        read_chats(&mut g, &room_b, 30).await;
        g
    });
    let (h, g) = (writer_a.await.unwrap(), writer_b.await.unwrap());
    let (seen_a, seen_b) = (chats(&h, &room), chats(&g, &room));
    assert_eq!(
        seen_a, seen_b,
        "the same messages, in the same order, with the same numbers"
    );
    assert!(seen_a.windows(2).all(|w| w[0].0 < w[1].0), "{seen_a:?}");
    assert!(seen_a.iter().any(|(_, t)| t == "a0") && seen_a.iter().any(|(_, t)| t == "b14"));
    // Stored once each, in PostgreSQL, whichever instance took them.
    let page = founder
        .get(&format!("/api/v1/live/rooms/{room}/messages?limit=100"))
        .await;
    assert_eq!(page.body["messages"].as_array().unwrap().len(), 30);
    let from_b: Value = b
        .login("founder", crate::common::FOUNDER_PASSWORD)
        .await
        .get("/api/v1/live/rooms")
        .await
        .body;
    assert_eq!(
        from_b,
        json!([]),
        "personal context: the team's room is not listed"
    );
}

#[tokio::test]
async fn a_document_spans_instances_and_compactions_from_both_lose_nothing() {
    let (a, b) = two_instances(|c| c.live.compact_every = 40).await;
    let founder = a.founder().await;
    let token = founder.token.clone().unwrap();
    let mut ws = connect(&a.base, &token).await;
    let room = ws.create_room("collaboration", None).await;
    let url_a = format!("ws://{}/ws/yjs", a.addr);
    let url_b = format!("ws://{}/ws/yjs", b.addr);
    // One stock y-websocket client on each instance, editing at once.
    let (ok, edit) = yjs(&[
        "edit", "--url", &url_a, "--url2", &url_b, "--room", &room, "--token", &token, "--edits",
        "120",
    ])
    .await;
    assert!(
        ok && edit["converged"] == true && edit["awareness_seen"] == true,
        "{edit}"
    );
    // Both instances compacted their share of the log; a fresh client on either sees it all.
    for url in [&url_a, &url_b] {
        let (ok, check) = yjs(&["check", "--url", url, "--room", &room, "--token", &token]).await;
        assert!(ok, "{check}");
        assert_eq!(check["text"], edit["text"]);
    }
    let (a_cfg, _a_dir) = a.stop().await;
    let _ = b.stop().await;
    // From the database alone: a third instance loads the snapshot and the rest of the log.
    let c = TestApp::spawn_in(a_cfg, tempfile::tempdir().unwrap()).await;
    let (ok, check) = yjs(&[
        "check",
        "--url",
        &format!("ws://{}/ws/yjs", c.addr),
        "--room",
        &room,
        "--token",
        &token,
    ])
    .await;
    assert!(ok, "{check}");
    assert_eq!(check["text"], edit["text"]);
    let snapshots: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM live_doc_snapshots")
        .fetch_one(
            &sqlx::PgPool::connect(c.config.database_url.expose())
                .await
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(snapshots, 1, "the log was compacted");
}
