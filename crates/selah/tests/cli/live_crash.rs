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
