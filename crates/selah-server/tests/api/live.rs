//! Live sessions over real WebSockets (docs/LIVE.md): authentication and every refusal, rooms,
//! presence, resume, meditation, breathing, stress check-ins, chat, signals, limits.

use std::time::Duration;

use reqwest::StatusCode;
use selah_live::clock::{Sample, estimate};
use selah_live::timer::{Meditation, Pattern, phase_at};
use serde_json::{Value, json};

use crate::common::{Api, Db, TestApp, deny_permission};
use crate::ws_client::{Ws, connect, open};

fn ws_url(app: &TestApp, path: &str) -> String {
    app.url(path).replacen("http", "ws", 1)
}

fn token(api: &Api) -> &str {
    api.token.as_deref().unwrap()
}

/// A team owned by `owner`, with `member` in it as a member.
async fn team_with(owner: &Api, member: &Api) -> String {
    let t = owner.post("/api/v1/teams", json!({"name": "Circle"})).await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.text);
    let team = t.body["id"].as_str().unwrap().to_string();
    let inv = owner
        .post(
            &format!("/api/v1/teams/{team}/invitations"),
            json!({"role": "member"}),
        )
        .await;
    assert_eq!(inv.status, StatusCode::CREATED, "{}", inv.text);
    let j = member
        .post("/api/v1/teams/join", json!({"code": inv.body["code"]}))
        .await;
    assert_eq!(j.status, StatusCode::CREATED, "{}", j.text);
    team
}

#[tokio::test]
async fn a_connection_authenticates_before_anything_and_never_by_url() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    // A token in the URL is refused before the upgrade.
    let r = open(
        &ws_url(&app, &format!("/ws?token={}", token(&founder))),
        &[],
    )
    .await
    .err()
    .unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("first message"), "{}", r.body);
    // Another site's page cannot ride on the cookie.
    let cookie = format!("selah_session={}", token(&founder));
    let r = open(
        &ws_url(&app, "/ws"),
        &[("cookie", &cookie), ("origin", "http://evil.example")],
    )
    .await
    .err()
    .unwrap();
    assert_eq!(r.status, 403);
    // The cookie from the server's own origin works, and needs no auth message.
    let host = app.base.trim_start_matches("http://").to_string();
    let mut ws = open(
        &ws_url(&app, "/healing-ws"),
        &[("cookie", &cookie), ("origin", &format!("http://{host}"))],
    )
    .await
    .unwrap();
    ws.send(json!({"v": 1, "type": "ping", "t0": 1.0})).await;
    let pong = ws.recv_type("pong").await;
    assert_eq!(
        (pong["seq"].as_u64(), pong["room"].is_null()),
        (Some(0), true)
    );
    assert!(pong["t1"].as_f64().unwrap() <= pong["t2"].as_f64().unwrap());
    // A bad cookie is refused at the upgrade.
    let r = open(&ws_url(&app, "/ws"), &[("cookie", "selah_session=nope")])
        .await
        .err()
        .unwrap();
    assert_eq!(r.status, 401);
    // Without credentials, the first message must be auth.
    let mut ws = open(&ws_url(&app, "/ws"), &[]).await.unwrap();
    ws.send(json!({"v": 1, "type": "room.join", "room": "x"}))
        .await;
    assert_eq!(ws.recv_error().await["code"], "unauthenticated");
    assert_eq!(ws.closed().await, Some(1008));
    let mut ws = open(&ws_url(&app, "/ws"), &[]).await.unwrap();
    ws.send(json!({"v": 1, "type": "auth", "token": "wrong"}))
        .await;
    assert_eq!(ws.recv_error().await["code"], "unauthenticated");
    assert_eq!(ws.closed().await, Some(1008));
    let mut ws = open(&ws_url(&app, "/ws"), &[]).await.unwrap();
    ws.send_text("not json").await;
    assert_eq!(ws.recv_error().await["code"], "malformed");
}

#[tokio::test]
async fn malformed_unknown_oversized_and_flooding_clients_are_refused() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| {
        c.live.max_message_bytes = 2048;
        c.live.messages_per_sec = 5;
    })
    .await;
    let founder = app.founder().await;
    let mut ws = connect(&app.base, token(&founder)).await;
    for (frame, code) in [
        ("{oops", "malformed"),
        ("[1,2]", "malformed"),
        (r#"{"type":"ping","t0":1}"#, "malformed"),
        (r#"{"v":9,"type":"ping","t0":1}"#, "unsupported_version"),
        (r#"{"v":1,"type":"teleport"}"#, "unknown_type"),
        (
            r#"{"v":1,"type":"chat.send","room":"r","text":""}"#,
            "invalid",
        ),
        (
            r#"{"v":1,"type":"chat.send","room":"nope","text":"hi"}"#,
            "not_member",
        ),
        (r#"{"v":1,"type":"room.join","room":"nope"}"#, "not_found"),
    ] {
        ws.send_text(frame).await;
        let e = ws.recv_error().await;
        assert_eq!(e["code"], code, "{frame}: {e}");
        assert!(!e["message"].as_str().unwrap().is_empty());
        tokio::time::sleep(Duration::from_millis(210)).await;
    }
    // Binary frames are not this protocol.
    use futures_util::SinkExt;
    ws.inner
        .send(tokio_tungstenite::tungstenite::Message::Binary(
            vec![1, 2].into(),
        ))
        .await
        .unwrap();
    assert_eq!(ws.recv_error().await["code"], "malformed");
    // Oversized: an error, then the connection closes with 1009.
    ws.send_text(&format!(
        r#"{{"v":1,"type":"ping","t0":1,"pad":"{}"}}"#,
        "x".repeat(3000)
    ))
    .await;
    assert_eq!(ws.recv_error().await["code"], "too_large");
    assert_eq!(ws.closed().await, Some(1009));
    // Flooding: refusals first, then 1008.
    let mut ws = connect(&app.base, token(&founder)).await;
    for i in 0..40 {
        ws.send(json!({"v": 1, "type": "ping", "t0": i})).await;
    }
    let e = ws.recv_error().await;
    assert_eq!(e["code"], "rate_limited", "{e}");
    assert_eq!(ws.closed().await, Some(1008));
    // A well-behaved connection of the same user is unaffected.
    let mut ok = connect(&app.base, token(&founder)).await;
    ok.send(json!({"v": 1, "type": "ping", "t0": 1})).await;
    ok.recv_type("pong").await;
}

#[tokio::test]
async fn connections_per_user_are_limited_and_a_silent_client_is_dropped() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| {
        c.live.max_connections_per_user = 2;
        c.live.heartbeat_secs = 1;
    })
    .await;
    let founder = app.founder().await;
    let cookie = format!("selah_session={}", token(&founder));
    let a = connect(&app.base, token(&founder)).await;
    let mut b = connect(&app.base, token(&founder)).await;
    let r = open(&ws_url(&app, "/ws"), &[("cookie", &cookie)])
        .await
        .err()
        .unwrap();
    assert_eq!(r.status, 429, "{}", r.body);
    let mut c = open(&ws_url(&app, "/ws"), &[]).await.unwrap();
    c.send(json!({"v": 1, "type": "auth", "token": token(&founder)}))
        .await;
    assert_eq!(c.recv_error().await["code"], "too_many_connections");
    // A connection that answers no ping (this client reads nothing, so it sends no pong) is
    // closed after two missed pings; the one that reads stays.
    drop(a);
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(b.closed().await, Some(1001));
    let mut d = connect(&app.base, token(&founder)).await;
    for _ in 0..4 {
        d.send(json!({"v": 1, "type": "ping", "t0": 1})).await;
        d.recv_type("pong").await;
        tokio::time::sleep(Duration::from_millis(900)).await;
    }
}

#[tokio::test]
async fn joining_needs_permission_and_membership() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let member = app.user_with_role(&founder, "mia", "member").await;
    let outsider = app.user_with_role(&founder, "otto", "member").await;
    let team = team_with(&founder, &member).await;
    let mut host = connect(&app.base, token(&founder)).await;
    let team_room = host.create_room("collaboration", Some(&team)).await;
    let personal = host.create_room("meditation", None).await;
    let mut o = connect(&app.base, token(&outsider)).await;
    for room in [&team_room, &personal] {
        let e = o
            .refused(json!({"v": 1, "type": "room.join", "room": room}))
            .await;
        assert_eq!(
            e["code"], "not_found",
            "another team's or person's room does not exist for them"
        );
    }
    let e = o
        .refused(
            json!({"v": 1, "type": "room.create", "kind": "stress", "name": "x", "team": team}),
        )
        .await;
    assert_eq!(e["code"], "forbidden");
    let e = o
        .refused(json!({"v": 1, "type": "room.create", "kind": "yoga", "name": "x"}))
        .await;
    assert_eq!(e["code"], "malformed");
    // A member whose live.join is denied cannot join the team's room.
    deny_permission(&founder, &member, "live.join").await;
    let mut m = connect(&app.base, token(&member)).await;
    let e = m
        .refused(json!({"v": 1, "type": "room.join", "room": team_room}))
        .await;
    assert_eq!(e["code"], "forbidden");
    assert_eq!(
        member.get("/api/v1/live/rooms").await.status,
        StatusCode::FORBIDDEN
    );
    // The room list shows the context's rooms.
    let rooms = founder.get("/api/v1/live/rooms").await;
    assert_eq!(
        rooms.body.as_array().unwrap().len(),
        1,
        "personal context: the personal room"
    );
}

fn in_team(api: &Api, team: &str) -> Api {
    let mut a = api.clone();
    a.team = Some(team.to_string());
    a
}

async fn live_flow(db: Db) {
    let app = TestApp::spawn_with(db, |c| c.live.replay_messages = 8).await;
    let founder = app.founder().await;
    let member = app.user_with_role(&founder, "mia", "member").await;
    let team = team_with(&founder, &member).await;
    let mut host = connect(&app.base, token(&founder)).await;
    let room = host.create_room("meditation", Some(&team)).await;
    let mut m = connect(&app.base, token(&member)).await;
    let snap = m.join(&room).await;
    assert_eq!(snap["role"], "participant");
    assert_eq!(snap["info"]["kind"], "meditation");
    let joined = host
        .recv_where(|v| v["type"] == "presence" && v["username"] == "mia")
        .await;
    assert_eq!(joined["event"], "join");

    // Only the host runs the timer; everyone receives the same state.
    let e = m
        .refused(json!({"v": 1, "type": "meditation.start", "room": room, "duration_s": 60}))
        .await;
    assert_eq!(e["code"], "forbidden");
    let e = host
        .refused(json!({"v": 1, "type": "meditation.pause", "room": room}))
        .await;
    assert_eq!(e["code"], "invalid", "nothing to pause yet");
    host.request(json!({"v": 1, "type": "meditation.start", "room": room, "duration_s": 600, "bell_interval_s": 300})).await;
    let st = m.recv_type("meditation").await;
    assert_eq!(
        (st["state"].as_str(), st["duration_ms"].as_i64()),
        (Some("running"), Some(600_000))
    );
    host.request(json!({"v": 1, "type": "meditation.pause", "room": room}))
        .await;
    assert_eq!(m.recv_type("meditation").await["state"], "paused");
    host.request(json!({"v": 1, "type": "meditation.resume", "room": room}))
        .await;
    let resumed = m.recv_type("meditation").await;
    assert_eq!(resumed["state"], "running");
    assert!(resumed["paused_ms"].as_i64().unwrap() >= 0);
    m.request(json!({"v": 1, "type": "meditation.complete", "room": room}))
        .await;
    let p = host.recv_type("progress").await;
    assert_eq!(
        (p["username"].as_str(), p["completed"].as_u64()),
        (Some("mia"), Some(1))
    );
    host.request(json!({"v": 1, "type": "meditation.end", "room": room}))
        .await;
    assert_eq!(m.recv_type("meditation").await["state"], "ended");

    // Presence status and chat, with the acknowledged message in the history.
    m.request(json!({"v": 1, "type": "presence.set", "room": room, "status": "focused"}))
        .await;
    assert_eq!(host.recv_type("presence").await["status"], "focused");
    let ack = m
        .request(json!({"v": 1, "type": "chat.send", "room": room, "text": "peace to you"}))
        .await;
    let msg_id = ack["message"]["id"].as_str().unwrap().to_string();
    let chat = host.recv_type("chat").await;
    assert_eq!(chat["message"]["text"], "peace to you");
    for i in 0..4 {
        host.request(
            json!({"v": 1, "type": "chat.send", "room": room, "text": format!("line {i}")}),
        )
        .await;
    }
    let page = member
        .get(&format!("/api/v1/live/rooms/{room}/messages?limit=3"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let texts: Vec<&str> = page.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["line 3", "line 2", "line 1"]);
    let before = page.body["next_before"].as_str().unwrap();
    let rest = member
        .get(&format!(
            "/api/v1/live/rooms/{room}/messages?limit=3&before={before}"
        ))
        .await;
    let ids: Vec<&str> = rest.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[1], msg_id);
    assert_eq!(
        member
            .get(&format!("/api/v1/live/rooms/{room}/messages?limit=0"))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    m.recv_where(|v| v["type"] == "chat" && v["message"]["text"] == "line 3")
        .await;
    // Sequence numbers increase event by event, the same for everyone.
    let seqs = |ws: &Ws| -> Vec<u64> {
        ws.seen
            .iter()
            .filter(|v| v["room"] == json!(room) && v["type"] != "error" && v["type"] != "ack")
            .filter_map(|v| v["seq"].as_u64())
            .collect()
    };
    let (hs, ms) = (seqs(&host), seqs(&m));
    assert!(ms.windows(2).all(|w| w[0] < w[1]), "{ms:?}");
    let last = *ms.last().unwrap();
    assert!(hs.contains(&last));

    // Resume: the member drops, misses two messages, and gets exactly those.
    drop(m);
    let left = host
        .recv_where(|v| v["type"] == "presence" && v["event"] == "leave")
        .await;
    assert_eq!(left["username"], "mia");
    host.request(json!({"v": 1, "type": "chat.send", "room": room, "text": "missed 1"}))
        .await;
    host.request(json!({"v": 1, "type": "chat.send", "room": room, "text": "missed 2"}))
        .await;
    let mut m = connect(&app.base, token(&member)).await;
    m.send(json!({"v": 1, "type": "room.join", "room": room, "since": last}))
        .await;
    let mut replayed = Vec::new();
    loop {
        let v = m.recv().await;
        match v["type"].as_str().unwrap() {
            "room.resumed" => break,
            "room.snapshot" => panic!("expected a replay, got a snapshot"),
            _ => replayed.push(v),
        }
    }
    let texts: Vec<&str> = replayed
        .iter()
        .filter(|v| v["type"] == "chat")
        .map(|v| v["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["missed 1", "missed 2"]);
    // A sequence number from the future: bad_sequence, then a snapshot.
    let mut m2 = connect(&app.base, token(&member)).await;
    m2.send(json!({"v": 1, "type": "room.join", "room": room, "since": 999_999}))
        .await;
    let first = m2.recv().await;
    assert_eq!(
        (first["type"].as_str(), first["code"].as_str()),
        (Some("error"), Some("bad_sequence"))
    );
    assert_eq!(m2.recv().await["type"], "room.snapshot");
    // Too old for the buffer (8 messages): a snapshot.
    for i in 0..10 {
        host.request(
            json!({"v": 1, "type": "chat.send", "room": room, "text": format!("more {i}")}),
        )
        .await;
    }
    let mut m3 = connect(&app.base, token(&member)).await;
    m3.send(json!({"v": 1, "type": "room.join", "room": room, "since": last}))
        .await;
    let snap = m3.recv_type("room.snapshot").await;
    assert_eq!(
        snap["chat"].as_array().unwrap().last().unwrap()["text"],
        "more 9"
    );
    drop((m, m2, m3));

    // Wellbeing: the member's session is recorded with its duration once they left.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sessions = member.get("/api/v1/wellbeing/sessions").await;
    assert_eq!(sessions.status, StatusCode::OK, "{}", sessions.text);
    let all = sessions.body.as_array().unwrap();
    assert!(
        all.iter()
            .all(|s| s["kind"] == "meditation" && s["room_id"] == json!(room))
    );
    let first = all.last().unwrap();
    assert_eq!(
        first["completed"], true,
        "the sit mia marked complete: {first}"
    );
    assert!(first["duration_ms"].as_i64().unwrap() >= 0);
}

#[tokio::test]
async fn a_meditation_room_runs_end_to_end_on_sqlite() {
    live_flow(Db::Sqlite).await;
}

#[tokio::test]
async fn a_meditation_room_runs_end_to_end_on_postgres() {
    live_flow(Db::Postgres).await;
}

#[tokio::test]
async fn stress_check_ins_show_aggregates_and_reach_the_host_only_when_shared() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let member = app.user_with_role(&founder, "mia", "member").await;
    let other = app.user_with_role(&founder, "oli", "member").await;
    let team = team_with(&founder, &member).await;
    let inv = founder
        .post(
            &format!("/api/v1/teams/{team}/invitations"),
            json!({"role": "member"}),
        )
        .await;
    other
        .post("/api/v1/teams/join", json!({"code": inv.body["code"]}))
        .await;
    let mut host = connect(&app.base, token(&founder)).await;
    let room = host.create_room("stress", Some(&team)).await;
    let mut m = connect(&app.base, token(&member)).await;
    m.join(&room).await;
    let mut o = connect(&app.base, token(&other)).await;
    o.join(&room).await;
    let e = m
        .refused(json!({"v": 1, "type": "stress.checkin", "room": room, "level": 11}))
        .await;
    assert_eq!(e["code"], "invalid");
    m.request(
        json!({"v": 1, "type": "stress.checkin", "room": room, "level": 9, "factors": ["work"]}),
    )
    .await;
    let agg = o.recv_type("stress").await;
    assert_eq!(
        (agg["count"].as_u64(), agg["mean"].as_f64()),
        (Some(1), Some(9.0))
    );
    assert_eq!(agg["shared"], json!([]));
    assert!(
        !agg.to_string().contains("mia"),
        "the room does not learn who: {agg}"
    );
    m.request(json!({"v": 1, "type": "stress.checkin", "room": room, "level": 8, "factors": ["sleep"], "share": true})).await;
    let agg = o.recv_type("stress").await;
    assert_eq!(agg["shared"][0]["username"], "mia");
    assert_eq!(agg["distribution"][8], 1);
    let support = host.recv_type("support").await;
    assert_eq!(
        (support["username"].as_str(), support["level"].as_u64()),
        (Some("mia"), Some(8))
    );
    // Only the host heard it: the other participant's next message is the next aggregate.
    o.request(json!({"v": 1, "type": "stress.checkin", "room": room, "level": 2}))
        .await;
    assert!(o.seen.iter().all(|v| v["type"] != "support"));
    m.request(json!({"v": 1, "type": "stress.checkin", "room": room, "level": 3}))
        .await;
    let mine = member.get("/api/v1/wellbeing/stress").await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    assert_eq!(mine.body["count"], 3, "only the member's own");
    assert_eq!(mine.body["checkins"][0]["level"], 3, "newest first");
    assert!(
        mine.body["trend"].as_f64().unwrap() < 0.0,
        "calmer later: {}",
        mine.body
    );
    let in_team = in_team(&member, &team)
        .get("/api/v1/wellbeing/stress")
        .await;
    assert_eq!(in_team.body["count"], 3);
}

#[tokio::test]
async fn breathing_follows_a_saved_preset_and_every_client_agrees_on_the_phase_under_clock_skew() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let member = app.user_with_role(&founder, "mia", "member").await;
    let team = team_with(&founder, &member).await;
    let shared = in_team(&founder, &team);
    let bad = shared
        .post(
            "/api/v1/live/breathing-presets",
            json!({"name": "x", "pattern": {"inhale_s": 0.1, "exhale_s": 4}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let p = shared
        .post("/api/v1/live/breathing-presets", json!({"name": "Box", "pattern": {"inhale_s": 4, "hold_in_s": 4, "exhale_s": 4, "hold_out_s": 4, "cycles": 10}}))
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text);
    let preset = p.body["id"].as_str().unwrap().to_string();
    let listed = in_team(&member, &team)
        .get("/api/v1/live/breathing-presets")
        .await;
    assert_eq!(listed.body[0]["name"], "Box", "shared with the team");
    assert_eq!(
        member.get("/api/v1/live/breathing-presets").await.body,
        json!([]),
        "not personal"
    );

    let mut host = connect(&app.base, token(&founder)).await;
    let room = host.create_room("breathing", Some(&team)).await;
    let mut a = connect(&app.base, token(&member)).await;
    a.join(&room).await;
    let mut b = connect(&app.base, token(&founder)).await;
    b.join(&room).await;
    host.request(json!({"v": 1, "type": "breathing.start", "room": room, "preset": preset}))
        .await;
    let sa = a.recv_type("breathing").await;
    let sb = b.recv_type("breathing").await;
    assert_eq!(sa["pattern"]["inhale_ms"], 4000);
    host.request(json!({"v": 1, "type": "meditation.start", "room": room, "duration_s": 300}))
        .await;
    let ma = a.recv_type("meditation").await;
    let mb = b.recv_type("meditation").await;

    // Client A's clock runs 2 s ahead of the server, B's 2 s behind. Each estimates its offset
    // from five pings, then computes the countdown and the breathing phase at the same moment.
    let skewed = |skew_ms: f64| move || crate::live::real_ms() + skew_ms;
    let clock_a = skewed(2000.0);
    let clock_b = skewed(-2000.0);
    let off_a = offset(&mut a, &clock_a).await;
    let off_b = offset(&mut b, &clock_b).await;
    let meditation_of = |v: &Value| -> Meditation { serde_json::from_value(v.clone()).unwrap() };
    let (med_a, med_b) = (meditation_of(&ma), meditation_of(&mb));
    let pattern: Pattern = serde_json::from_value(sa["pattern"].clone()).unwrap();
    let (start_a, start_b) = (
        sa["started_at"].as_i64().unwrap(),
        sb["started_at"].as_i64().unwrap(),
    );
    assert_eq!(start_a, start_b);
    for _ in 0..5 {
        let server_a = (clock_a() + off_a) as i64;
        let server_b = (clock_b() + off_b) as i64;
        let (ra, rb) = (med_a.remaining_at(server_a), med_b.remaining_at(server_b));
        assert!((ra - rb).abs() <= 50, "countdowns differ by {} ms", ra - rb);
        let (pa, pb) = (
            phase_at(&pattern, start_a, server_a),
            phase_at(&pattern, start_b, server_b),
        );
        let pos = |p: selah_live::timer::PhaseAt| {
            p.cycle as i64 * pattern.cycle_ms()
                + match p.phase {
                    selah_live::timer::Phase::Inhale => 0,
                    selah_live::timer::Phase::HoldIn => 4000,
                    selah_live::timer::Phase::Exhale => 8000,
                    _ => 12000,
                }
                + p.into_ms
        };
        assert!(
            (pos(pa) - pos(pb)).abs() <= 50,
            "phases differ: {pa:?} {pb:?}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    // Without the estimate the skew would show (4 s apart, less what the start clamps away).
    assert!(
        (med_a.remaining_at(clock_a() as i64) - med_b.remaining_at(clock_b() as i64)).abs() > 1500
    );
    host.request(json!({"v": 1, "type": "breathing.stop", "room": room}))
        .await;
    assert_eq!(a.recv_type("breathing").await["state"], "idle");
    let e = a
        .refused(json!({"v": 1, "type": "breathing.stop", "room": room}))
        .await;
    assert_eq!(e["code"], "forbidden");
    assert_eq!(
        shared
            .delete(&format!("/api/v1/live/breathing-presets/{preset}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let e = host
        .refused(json!({"v": 1, "type": "breathing.start", "room": room, "preset": preset}))
        .await;
    assert_eq!(e["code"], "not_found");
}

/// Milliseconds since the epoch, as a client's clock reads it.
pub fn real_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

async fn offset(ws: &mut Ws, clock: &impl Fn() -> f64) -> f64 {
    let mut samples = Vec::new();
    for _ in 0..5 {
        let t0 = clock();
        ws.send(json!({"v": 1, "type": "ping", "t0": t0})).await;
        let pong = ws.recv_type("pong").await;
        let t3 = clock();
        samples.push(Sample {
            t0,
            t1: pong["t1"].as_f64().unwrap(),
            t2: pong["t2"].as_f64().unwrap(),
            t3,
        });
    }
    estimate(&samples).unwrap().offset_ms
}

#[tokio::test]
async fn signals_reach_the_room_and_leaving_is_announced() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let mut a = connect(&app.base, token(&founder)).await;
    let room = a.create_room("collaboration", None).await;
    let mut b = connect(&app.base, token(&founder)).await;
    b.join(&room).await;
    b.send(json!({"v": 1, "type": "signal", "room": room, "data": {"hand": "raised"}}))
        .await;
    let s = a.recv_type("signal").await;
    assert_eq!(
        (s["data"]["hand"].as_str(), s["user"]["username"].as_str()),
        (Some("raised"), Some("founder"))
    );
    let e = b
        .refused(json!({"v": 1, "type": "signal", "room": room, "data": "x".repeat(600)}))
        .await;
    assert_eq!(e["code"], "too_large");
    b.request(json!({"v": 1, "type": "room.leave", "room": room}))
        .await;
    let e = b
        .refused(json!({"v": 1, "type": "signal", "room": room, "data": 1}))
        .await;
    assert_eq!(e["code"], "not_member");
    // Same user on both connections: still present through the other one, so no leave event.
    a.send(json!({"v": 1, "type": "ping", "t0": 1})).await;
    a.recv_type("pong").await;
    assert!(
        a.seen
            .iter()
            .all(|v| !(v["type"] == "presence" && v["event"] == "leave"))
    );
}

#[tokio::test]
async fn the_document_endpoint_refuses_what_is_not_a_yjs_client() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.live.max_document_bytes = 65536).await;
    let founder = app.founder().await;
    let other = app.user_with_role(&founder, "otto", "member").await;
    let mut ws = connect(&app.base, token(&founder)).await;
    let room = ws.create_room("collaboration", None).await;
    let url = ws_url(&app, &format!("/ws/yjs/{room}"));
    let cookie = |api: &Api| format!("selah_session={}", token(api));
    let r = open(&format!("{url}?token={}", token(&founder)), &[])
        .await
        .err()
        .unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(open(&url, &[]).await.err().unwrap().status, 401);
    let r = open(&url, &[("cookie", &cookie(&other))])
        .await
        .err()
        .unwrap();
    assert_eq!(
        r.status, 404,
        "another person's room does not exist for them"
    );
    let r = open(
        &url,
        &[
            ("cookie", &cookie(&founder)),
            ("origin", "http://evil.example"),
        ],
    )
    .await
    .err()
    .unwrap();
    assert_eq!(r.status, 403);
    let bearer = format!("Bearer {}", token(&founder));
    // The greeting: the server's state vector (sync step 1) first.
    let mut doc = open(&url, &[("authorization", &bearer)]).await.unwrap();
    let first = tokio::time::timeout(
        crate::ws_client::WAIT,
        futures_util::StreamExt::next(&mut doc.inner),
    )
    .await
    .unwrap();
    assert!(
        matches!(first, Some(Ok(Message::Binary(ref b))) if b[..2] == [0, 0]),
        "{first:?}"
    );
    doc.inner.send(Message::Text("hello".into())).await.unwrap();
    assert_eq!(doc.closed().await, Some(4400), "text frames are not Yjs");
    let mut doc = open(&url, &[("authorization", &bearer)]).await.unwrap();
    doc.inner
        .send(Message::Binary(vec![0, 2, 200, 1, 7].into()))
        .await
        .unwrap();
    assert_eq!(doc.closed().await, Some(4400), "a damaged update");
    let mut doc = open(&url, &[("authorization", &bearer)]).await.unwrap();
    doc.inner
        .send(Message::Binary(vec![0u8; 70_000].into()))
        .await
        .unwrap();
    assert_eq!(doc.closed().await, Some(1009));
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_without_slowing_the_room() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.live.messages_per_sec = 100_000).await;
    let founder = app.founder().await;
    let mut sender = connect(&app.base, token(&founder)).await;
    let room = sender.create_room("collaboration", None).await;
    let mut stuck = connect(&app.base, token(&founder)).await;
    stuck.join(&room).await;
    let mut reader = connect(&app.base, token(&founder)).await;
    reader.join(&room).await;
    // `stuck` reads nothing: its socket buffers fill, then its queue (1024 messages), and it is
    // closed with 1013 while the others, who read, go on.
    use futures_util::{SinkExt, StreamExt};
    let n = 12_000;
    let reading = tokio::spawn(async move {
        reader
            .recv_where(|v| v["type"] == "signal" && v["data"]["i"] == n - 1)
            .await
    });
    let (mut tx, mut rx) = sender.inner.split();
    let draining = tokio::spawn(async move { while let Some(Ok(_)) = rx.next().await {} });
    let pad = "x".repeat(400);
    for i in 0..n {
        let frame = json!({"v": 1, "type": "signal", "room": room, "data": {"i": i, "pad": pad}});
        tx.send(tokio_tungstenite::tungstenite::Message::Text(
            frame.to_string().into(),
        ))
        .await
        .unwrap();
    }
    let last = reading.await.unwrap();
    assert_eq!(last["user"]["username"], "founder");
    assert_eq!(stuck.closed().await, Some(1013));
    draining.abort();
}
