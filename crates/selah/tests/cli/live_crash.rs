//! Live sessions against the real binary: a stock Yjs client (`yjs`, `y-websocket` from npm,
//! driven by `tests/live-yjs/yjs-client.mjs`) edits a document concurrently with a second one
//! through Selah and both converge; room chat is acknowledged; then `kill -9`, a restart, and
//! every acknowledged edit and message is still there.

use std::process::Command;

use serde_json::json;

use crate::common::Server;
use crate::ws_client::connect;
use crate::yjs_harness::yjs;

#[tokio::test]
async fn stock_yjs_clients_converge_and_acknowledged_work_survives_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let compact = |c: &mut Command| {
        // Small enough that the run below compacts the log into snapshots several times.
        c.env("SELAH_LIVE__COMPACT_EVERY", "50");
    };
    let mut server = Server::start(&data, compact).await;
    let founder = server.founder().await;
    let token = founder.token.clone().unwrap();
    let mut ws = connect(&server.base, &token).await;
    let room = ws.create_room("collaboration", None).await;
    let url = format!("ws://127.0.0.1:{}/ws/yjs", server.port);

    let mut acked = Vec::new();
    for i in 0..5 {
        let ack = ws
            .request(
                json!({"v": 1, "type": "chat.send", "room": room, "text": format!("note {i}")}),
            )
            .await;
        acked.push(ack["message"]["id"].as_str().unwrap().to_string());
    }
    let (ok, edit) = yjs(&[
        "edit", "--url", &url, "--room", &room, "--token", &token, "--edits", "150",
    ]);
    assert!(
        ok && edit["converged"] == true && edit["awareness_seen"] == true,
        "{edit}"
    );
    let text = edit["text"].as_str().unwrap().to_string();
    assert_eq!(edit["words"], 300);

    // A client without a session is refused at the upgrade; so is one for a room it cannot see.
    let (_, refused) = yjs(&["refused", "--url", &url, "--room", &room, "--token", "nope"]);
    assert_eq!(refused["status"], 401, "{refused}");
    let (_, missing) = yjs(&[
        "refused",
        "--url",
        &url,
        "--room",
        "no-such-room",
        "--token",
        &token,
    ]);
    assert_eq!(missing["status"], 404, "{missing}");

    server.kill9().await;
    drop(ws);
    let server = Server::start(&data, compact).await;
    let url = format!("ws://127.0.0.1:{}/ws/yjs", server.port);
    let (ok, check) = yjs(&["check", "--url", &url, "--room", &room, "--token", &token]);
    assert!(ok, "{check}");
    assert_eq!(
        check["text"].as_str().unwrap(),
        text,
        "every edit both clients saw survived"
    );
    let mut api = founder.clone();
    api.base = server.base.clone();
    let (st, page) = api
        .get(&format!("/api/v1/live/rooms/{room}/messages?limit=50"))
        .await;
    assert_eq!(st, 200, "{page}");
    let ids: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    for id in &acked {
        assert!(ids.contains(&id.as_str()), "acknowledged message {id} lost");
    }
}

/// A meditation someone was sitting in when the server died is not left open forever: the
/// restarted server closes the record at the last time the dead one saw them there (it refreshes
/// its open records every heartbeat), so their history shows a finished session with a duration.
#[tokio::test]
async fn attendance_open_at_kill_9_is_closed_at_the_last_time_seen() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let fast = |c: &mut Command| {
        c.env("SELAH_LIVE__HEARTBEAT_SECS", "1");
    };
    let mut server = Server::start(&data, fast).await;
    let founder = server.founder().await;
    let token = founder.token.clone().unwrap();
    let mut ws = connect(&server.base, &token).await;
    // The creator joins what it creates: one open attendance record.
    let room = ws.create_room("meditation", None).await;
    let joined_at = now_ms();
    // Stay (answering the heartbeat) long enough for a few refreshes.
    for _ in 0..6 {
        ws.request(json!({"v": 1, "type": "ping", "t0": 0.0})).await;
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    }
    let (st, before) = founder.get("/api/v1/wellbeing/sessions").await;
    assert_eq!(st, 200, "{before}");
    assert_eq!(before.as_array().unwrap().len(), 1, "{before}");
    assert!(before[0]["left_at"].is_null(), "still sitting: {before}");
    let killed_at = now_ms();
    server.kill9().await;
    drop(ws);

    let server = Server::start(&data, fast).await;
    let mut api = founder.clone();
    api.base = server.base.clone();
    let mut session = serde_json::Value::Null;
    for _ in 0..100 {
        let (st, after) = api.get("/api/v1/wellbeing/sessions").await;
        assert_eq!(st, 200, "{after}");
        session = after[0].clone();
        if !session["left_at"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(session["room_id"], json!(room), "{session}");
    let left_at = session["left_at"]
        .as_i64()
        .unwrap_or_else(|| panic!("the record stayed open after the restart: {session}"));
    assert!(
        left_at <= killed_at,
        "closed at the last time seen, before the kill: {session}"
    );
    let duration = session["duration_ms"].as_i64().unwrap();
    // Joined, then refreshed every second for about 2.4 s before the kill.
    assert!(
        duration >= 1000 && left_at >= joined_at + 1000,
        "the refreshes before the kill count: {session}"
    );
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
