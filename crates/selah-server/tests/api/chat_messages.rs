//! Chat messages over real HTTP with the real SmolLM2 model: the SSE stream and the stored
//! rows, determinism, cancellation by disconnect, stop, regenerate, the model switch, the
//! token meter, a full queue, paging, preferences, the archive job, scope and bad input.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use selah_ai::{EngineOptions, LocalModel};
use serde_json::{Value, json};

use crate::ai_support::{MODEL_ID, app_with_model, app_with_model_on, test_model};
use crate::common::*;

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct Sse {
    pub event: String,
    pub data: Value,
}

/// Reads server-sent events off a streaming response.
pub struct SseReader {
    pub resp: reqwest::Response,
    buf: String,
}

impl SseReader {
    pub fn new(resp: reqwest::Response) -> Self {
        Self {
            resp,
            buf: String::new(),
        }
    }

    /// The next event; None at the end of the stream.
    pub async fn next(&mut self) -> Option<Sse> {
        loop {
            if let Some(i) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..i + 2).collect();
                let mut event = String::from("message");
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if data.is_empty() {
                    continue; // keep-alive comment
                }
                let data = serde_json::from_str(&data).unwrap_or(Value::String(data));
                return Some(Sse { event, data });
            }
            let chunk = tokio::time::timeout(Duration::from_secs(120), self.resp.chunk())
                .await
                .expect("the stream makes progress")
                .expect("the stream reads")?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Every remaining event.
    pub async fn rest(&mut self) -> Vec<Sse> {
        let mut out = Vec::new();
        while let Some(e) = self.next().await {
            out.push(e);
        }
        out
    }
}

/// Sends a request with the client's token and returns the raw response.
pub async fn raw(api: &Api, method: Method, path: &str, body: Value) -> reqwest::Response {
    let mut req = api
        .http
        .request(method, format!("{}{path}", api.base))
        .json(&body);
    if let Some(t) = &api.token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request reaches the server")
}

/// Deterministic, short sampling.
pub fn greedy(max_tokens: u32) -> Value {
    json!({"temperature": 0.0, "seed": 1, "max_tokens": max_tokens})
}

/// A request whose reply runs long: greedy decoding without a repetition penalty makes this
/// small model list numbers until `max_tokens`.
pub fn long_request() -> Value {
    json!({
        "content": "List the numbers from 1 to 1000, separated by commas.",
        "params": {"temperature": 0.0, "seed": 1, "repeat_penalty": 1.0, "max_tokens": 3000},
    })
}

/// Creates a session and returns its id.
pub async fn new_session(api: &Api) -> String {
    let r = api
        .post("/api/v1/chat/sessions", json!({"title": "t"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

/// Sends a message and reads the whole reply: (text, the `done` event's data).
pub async fn chat(api: &Api, sid: &str, content: &str, params: Value) -> (String, Value) {
    let resp = raw(
        api,
        Method::POST,
        &format!("/api/v1/chat/sessions/{sid}/messages"),
        json!({"content": content, "params": params}),
    )
    .await;
    let status = resp.status();
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        resp.text().await.unwrap_or_default()
    );
    let events = SseReader::new(resp).rest().await;
    collect(&events)
}

/// The text of the `token` events and the `done` event's data (which must end the stream).
pub fn collect(events: &[Sse]) -> (String, Value) {
    let last = events.last().expect("some events");
    assert_eq!(last.event, "done", "{events:?}");
    let text = events
        .iter()
        .filter(|e| e.event == "token")
        .map(|e| e.data["text"].as_str().unwrap())
        .collect();
    (text, last.data.clone())
}

/// All stored messages of a session.
pub async fn messages(api: &Api, sid: &str) -> Vec<Value> {
    let r = api
        .get(&format!("/api/v1/chat/sessions/{sid}/messages?limit=500"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["messages"].as_array().unwrap().clone()
}

async fn wait_idle(app: &TestApp) {
    let start = Instant::now();
    while app.state.ai.status().queue.in_flight != 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the slot was not freed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn reply_streams_and_both_messages_are_stored() {
    reply_streams_and_both_messages_are_stored_on(Db::Sqlite).await;
}

#[tokio::test]
async fn reply_streams_and_both_messages_are_stored_on_postgres() {
    reply_streams_and_both_messages_are_stored_on(Db::Postgres).await;
}

async fn reply_streams_and_both_messages_are_stored_on(db: Db) {
    let app = app_with_model_on(db, |_| {}).await;
    let founder = app.founder().await;
    let sid = new_session(&founder).await;
    let resp = raw(
        &founder,
        Method::POST,
        &format!("/api/v1/chat/sessions/{sid}/messages"),
        json!({"content": "Name three colours.", "params": greedy(24)}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/event-stream"), "{ct}");
    let events = SseReader::new(resp).rest().await;
    let (text, done) = collect(&events);
    assert!(
        events.iter().filter(|e| e.event == "token").count() >= 2,
        "{events:?}"
    );
    assert!(!text.is_empty());

    let usage = &done["usage"];
    let (p, c) = (
        usage["prompt_tokens"].as_u64().unwrap(),
        usage["completion_tokens"].as_u64().unwrap(),
    );
    assert!(p > 0 && c > 0 && c <= 24, "{done}");
    assert_eq!(usage["total_tokens"].as_u64().unwrap(), p + c);
    assert!(
        usage["cached_prompt_tokens"].as_u64().unwrap() < p,
        "{done}"
    );
    assert_eq!(done["context"]["included_messages"], 1);
    assert_eq!(done["context"]["omitted_messages"], 0);
    assert_eq!(done["context"]["summarised"], false);
    assert_eq!(done["context"]["passages"], 0);
    assert!(["stop", "length"].contains(&done["finish"].as_str().unwrap()));

    let rows = messages(&founder, &sid).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["role"], "user");
    assert_eq!(rows[0]["content"], "Name three colours.");
    assert_eq!(rows[0]["id"], done["user_message_id"]);
    assert!(rows[0]["prompt_tokens"].as_i64().unwrap() > 0);
    assert_eq!(rows[1]["role"], "assistant");
    assert_eq!(rows[1]["id"], done["message_id"]);
    assert_eq!(rows[1]["content"], text.as_str());
    assert_eq!(rows[1]["status"], "complete");
    assert_eq!(rows[1]["model"], MODEL_ID);
    assert_eq!(rows[1]["prompt_tokens"].as_u64().unwrap(), p);
    assert_eq!(rows[1]["completion_tokens"].as_u64().unwrap(), c);
    app.stop().await;
}

#[tokio::test]
async fn seed_and_temperature_zero_repeat_exactly() {
    let app = app_with_model(|_| {}).await;
    let founder = app.founder().await;
    let (a, b) = (new_session(&founder).await, new_session(&founder).await);
    let q = "Write one sentence about the sea.";
    let (t1, d1) = chat(&founder, &a, q, greedy(32)).await;
    let (t2, d2) = chat(&founder, &b, q, greedy(32)).await;
    assert!(!t1.is_empty());
    assert_eq!(t1, t2);
    // A reproducible request computes its prompt whole, although the same one just ran.
    let n = |d: &Value, k: &str| d["usage"][k].as_u64().unwrap();
    assert_eq!(n(&d1, "prompt_tokens"), n(&d2, "prompt_tokens"));
    assert_eq!(n(&d2, "cached_prompt_tokens"), 0, "{d2}");
    // An ordinary (unseeded, sampled) next turn computes only what is new: everything up to
    // the last reply comes from the engine's cells (top_k 1 keeps the reply short and sane).
    let sampled = json!({"temperature": 0.7, "top_k": 1, "max_tokens": 16});
    let (_, d3) = chat(&founder, &a, "And one about the sky.", sampled).await;
    assert!(
        n(&d3, "cached_prompt_tokens") >= n(&d1, "prompt_tokens") - 1
            && n(&d3, "cached_prompt_tokens") < n(&d3, "prompt_tokens"),
        "{d3} after {d1}"
    );
    app.stop().await;
}

#[tokio::test]
async fn disconnect_cancels_frees_the_slot_and_keeps_an_incomplete_reply() {
    disconnect_cancels_frees_the_slot_and_keeps_an_incomplete_reply_on(Db::Sqlite).await;
}

#[tokio::test]
async fn disconnect_cancels_frees_the_slot_and_keeps_an_incomplete_reply_on_postgres() {
    disconnect_cancels_frees_the_slot_and_keeps_an_incomplete_reply_on(Db::Postgres).await;
}

async fn disconnect_cancels_frees_the_slot_and_keeps_an_incomplete_reply_on(db: Db) {
    let app = app_with_model_on(db, |_| {}).await;
    let founder = app.founder().await;
    let sid = new_session(&founder).await;
    let resp = raw(
        &founder,
        Method::POST,
        &format!("/api/v1/chat/sessions/{sid}/messages"),
        long_request(),
    )
    .await;
    let mut sse = SseReader::new(resp);
    let mut seen = String::new();
    for _ in 0..5 {
        let e = sse.next().await.unwrap();
        assert_eq!(e.event, "token", "{e:?}");
        seen.push_str(e.data["text"].as_str().unwrap());
    }
    assert!(app.state.ai.status().queue.in_flight >= 1);
    drop(sse);
    wait_idle(&app).await;
    // The writer finishes the row right after the generation ends.
    let start = Instant::now();
    let reply = loop {
        let rows = messages(&founder, &sid).await;
        if rows[1]["status"] != "streaming" || start.elapsed() > Duration::from_secs(10) {
            break rows[1].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(reply["status"], "incomplete", "{reply}");
    let kept = reply["content"].as_str().unwrap();
    assert!(
        kept.starts_with(&seen),
        "{kept:?} does not start with {seen:?}"
    );
    // The session is free again.
    let (text, _) = chat(&founder, &sid, "Thanks.", greedy(4)).await;
    assert!(!text.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn stop_ends_the_reply_and_a_second_message_waits_for_it() {
    let app = app_with_model(|_| {}).await;
    let founder = app.founder().await;
    let sid = new_session(&founder).await;
    let stop = format!("/api/v1/chat/sessions/{sid}/stop");
    assert_error(
        &founder.post(&stop, json!({})).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    let resp = raw(
        &founder,
        Method::POST,
        &format!("/api/v1/chat/sessions/{sid}/messages"),
        long_request(),
    )
    .await;
    let mut sse = SseReader::new(resp);
    assert_eq!(sse.next().await.unwrap().event, "token");
    // One reply at a time per session.
    let r = founder
        .post(
            &format!("/api/v1/chat/sessions/{sid}/messages"),
            json!({"content": "more"}),
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "conflict");
    let r = founder.post(&stop, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["stopped"], true);
    let rest = sse.rest().await;
    let done = rest.last().unwrap();
    assert_eq!(done.event, "done", "{rest:?}");
    assert_eq!(done.data["finish"], "cancelled");
    wait_idle(&app).await;
    let rows = messages(&founder, &sid).await;
    assert_eq!(rows.len(), 2, "the refused message was not kept");
    assert_eq!(rows[1]["status"], "incomplete");
    assert!(!rows[1]["content"].as_str().unwrap().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn regenerate_replaces_the_last_reply() {
    regenerate_replaces_the_last_reply_on(Db::Sqlite).await;
}

#[tokio::test]
async fn regenerate_replaces_the_last_reply_on_postgres() {
    regenerate_replaces_the_last_reply_on(Db::Postgres).await;
}

async fn regenerate_replaces_the_last_reply_on(db: Db) {
    let app = app_with_model_on(db, |_| {}).await;
    let founder = app.founder().await;
    let sid = new_session(&founder).await;
    let regen = format!("/api/v1/chat/sessions/{sid}/regenerate");
    assert_error(
        &founder.post(&regen, json!({})).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    let (_, first) = chat(&founder, &sid, "Say hello.", greedy(12)).await;
    let resp = raw(
        &founder,
        Method::POST,
        &regen,
        json!({"params": {"temperature": 1.5, "seed": 99, "max_tokens": 12}}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (text, done) = collect(&SseReader::new(resp).rest().await);
    assert_ne!(done["message_id"], first["message_id"]);
    assert_eq!(done["user_message_id"], first["user_message_id"]);
    let rows = messages(&founder, &sid).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["id"], done["message_id"]);
    assert_eq!(rows[1]["content"], text.as_str());
    let r = founder.post(&regen, json!({"params": {"top_k": -1}})).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    app.stop().await;
}

#[tokio::test]
async fn model_switch_takes_effect_on_the_next_message() {
    model_switch_takes_effect_on_the_next_message_on(Db::Sqlite).await;
}

#[tokio::test]
async fn model_switch_takes_effect_on_the_next_message_on_postgres() {
    model_switch_takes_effect_on_the_next_message_on(Db::Postgres).await;
}

async fn model_switch_takes_effect_on_the_next_message_on(db: Db) {
    let app = app_with_model_on(db, |_| {}).await;
    // A second local id: the same file under another name.
    let copy = app.data_dir.path().join("models/SmolLM2-copy.gguf");
    std::os::unix::fs::symlink(test_model(), &copy).unwrap();
    let other = "local:SmolLM2-copy";
    let founder = app.founder().await;
    let sid = new_session(&founder).await;
    let model = format!("/api/v1/chat/sessions/{sid}/model");
    chat(&founder, &sid, "Hi.", greedy(4)).await;
    let r = founder.patch(&model, json!({"model": other})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["active_model"], other);
    chat(&founder, &sid, "Hi again.", greedy(4)).await;
    let r = founder.patch(&model, json!({"model": null})).await;
    assert_eq!(r.body["active_model"], Value::Null);
    chat(&founder, &sid, "And again.", greedy(4)).await;
    let models: Vec<Value> = messages(&founder, &sid)
        .await
        .iter()
        .filter(|m| m["role"] == "assistant")
        .map(|m| m["model"].clone())
        .collect();
    assert_eq!(models, [json!(MODEL_ID), json!(other), json!(MODEL_ID)]);

    let r = founder.patch(&model, json!({"model": "local:nope"})).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let r = founder.patch(&model, json!({})).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let r = founder.patch(&model, json!({"model": 5})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    app.stop().await;
}

#[tokio::test]
async fn token_count_equals_the_tokenizer_count_of_the_stored_messages() {
    token_count_equals_the_tokenizer_count_of_the_stored_messages_on(Db::Sqlite).await;
}

#[tokio::test]
async fn token_count_equals_the_tokenizer_count_of_the_stored_messages_on_postgres() {
    token_count_equals_the_tokenizer_count_of_the_stored_messages_on(Db::Postgres).await;
}

async fn token_count_equals_the_tokenizer_count_of_the_stored_messages_on(db: Db) {
    let app = app_with_model_on(db, |c| c.ai.context_size = 256).await;
    let founder = app.founder().await;
    let sid = new_session(&founder).await;
    chat(&founder, &sid, "What is a lighthouse?", greedy(16)).await;
    chat(&founder, &sid, "And a harbour?", greedy(16)).await;
    let r = founder
        .get(&format!("/api/v1/chat/sessions/{sid}/token-count"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let opts = EngineOptions {
        threads: 1,
        batch_threads: 1,
        context_size: 256,
        max_sequences: 1,
        ..EngineOptions::default()
    };
    let tok = tokio::task::spawn_blocking(move || LocalModel::load(&test_model(), &opts).unwrap())
        .await
        .unwrap();
    let (mut p, mut c) = (0, 0);
    for m in messages(&founder, &sid).await {
        let n = tok.count_tokens(m["content"].as_str().unwrap()).unwrap() as u64;
        if m["role"] == "assistant" {
            c += n
        } else {
            p += n
        }
    }
    assert_eq!(r.body["prompt_tokens"], p);
    assert_eq!(r.body["completion_tokens"], c);
    assert_eq!(r.body["total_tokens"], p + c);
    assert_eq!(r.body["context_window"], 256);
    let pct = r.body["used_percent"].as_f64().unwrap();
    assert!(
        (pct - (p + c) as f64 * 100.0 / 256.0).abs() < 0.06,
        "{}",
        r.text
    );
    assert_eq!(r.body["warning"], pct >= 90.0);

    // A long message fills the window past 90 %: the meter warns.
    let long = "lighthouse ".repeat(240);
    chat(&founder, &sid, &long, greedy(2)).await;
    let r = founder
        .get(&format!("/api/v1/chat/sessions/{sid}/token-count"))
        .await;
    assert!(
        r.body["used_percent"].as_f64().unwrap() >= 90.0,
        "{}",
        r.text
    );
    assert_eq!(r.body["warning"], true);
    app.stop().await;
}

#[tokio::test]
async fn a_full_queue_answers_503_before_any_stream() {
    let app = app_with_model(|c| {
        c.ai.max_sequences = 1;
        c.ai.queue_capacity = 1;
    })
    .await;
    let founder = app.founder().await;
    let (a, b, c) = (
        new_session(&founder).await,
        new_session(&founder).await,
        new_session(&founder).await,
    );
    let long = long_request();
    let mut first = SseReader::new(
        raw(
            &founder,
            Method::POST,
            &format!("/api/v1/chat/sessions/{a}/messages"),
            long.clone(),
        )
        .await,
    );
    assert_eq!(first.next().await.unwrap().event, "token");
    // The second waits in the queue (its response starts when its turn comes).
    let (f2, b2) = (founder.clone(), b.clone());
    let waiting = tokio::spawn(async move {
        raw(
            &f2,
            Method::POST,
            &format!("/api/v1/chat/sessions/{b2}/messages"),
            json!({"content": "Hi", "params": greedy(4)}),
        )
        .await
    });
    let start = Instant::now();
    while app.state.ai.status().queue.pending < 1 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the second request never queued"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let r = founder
        .post(
            &format!("/api/v1/chat/sessions/{c}/messages"),
            json!({"content": "Hi"}),
        )
        .await;
    assert_error(&r, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert!(
        messages(&founder, &c).await.is_empty(),
        "the refused message is not kept"
    );
    // Stopping the first lets the second run.
    assert_eq!(
        founder
            .post(&format!("/api/v1/chat/sessions/{a}/stop"), json!({}))
            .await
            .status,
        200
    );
    first.rest().await;
    let second = waiting.await.unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    collect(&SseReader::new(second).rest().await);
    app.stop().await;
}

#[tokio::test]
async fn messages_page_in_order() {
    messages_page_in_order_on(Db::Sqlite).await;
}

#[tokio::test]
async fn messages_page_in_order_on_postgres() {
    messages_page_in_order_on(Db::Postgres).await;
}

async fn messages_page_in_order_on(db: Db) {
    let app = app_with_model_on(db, |_| {}).await;
    let founder = app.founder().await;
    let sid = new_session(&founder).await;
    for q in ["One.", "Two."] {
        chat(&founder, &sid, q, greedy(3)).await;
    }
    let all = messages(&founder, &sid).await;
    assert_eq!(all.len(), 4);
    let mut seen = Vec::new();
    let mut path = format!("/api/v1/chat/sessions/{sid}/messages?limit=3");
    loop {
        let r = founder.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        seen.extend(
            r.body["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].clone()),
        );
        match r.body["next"].as_str() {
            Some(n) => path = format!("/api/v1/chat/sessions/{sid}/messages?limit=3&after={n}"),
            None => break,
        }
    }
    let ids: Vec<Value> = all.iter().map(|m| m["id"].clone()).collect();
    assert_eq!(seen, ids);
    for bad in ["limit=0", "limit=501", "limit=x"] {
        let r = founder
            .get(&format!("/api/v1/chat/sessions/{sid}/messages?{bad}"))
            .await;
        assert!(r.status == 400 || r.status == 422, "{bad}: {}", r.text);
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_input_scope_and_permissions() {
    let app = app_with_model(|_| {}).await;
    let founder = app.founder().await;
    let sid = new_session(&founder).await;
    let path = format!("/api/v1/chat/sessions/{sid}/messages");
    for body in [
        json!({"content": ""}),
        json!({"content": "   "}),
        json!({"content": "x".repeat(100_001)}),
        json!({"content": "hi", "params": {"temperature": 5}}),
        json!({"content": "hi", "params": {"max_tokens": 0}}),
    ] {
        let r = founder.post(&path, body).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    }
    for body in [
        json!({"text": "hi"}),
        json!({"content": 3}),
        json!({"content": "hi", "params": {"nope": 1}}),
    ] {
        assert_error(
            &founder.post(&path, body).await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        );
    }
    let huge = founder
        .post(&path, json!({"content": "x".repeat(2 * 1024 * 1024)}))
        .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        messages(&founder, &sid).await.is_empty(),
        "nothing was stored"
    );

    // Anonymous: 401 everywhere.
    let anon = app.client();
    for (m, p) in [
        (Method::POST, path.clone()),
        (Method::GET, path.clone()),
        (Method::POST, format!("/api/v1/chat/sessions/{sid}/stop")),
        (
            Method::POST,
            format!("/api/v1/chat/sessions/{sid}/regenerate"),
        ),
        (
            Method::GET,
            format!("/api/v1/chat/sessions/{sid}/token-count"),
        ),
        (Method::PATCH, format!("/api/v1/chat/sessions/{sid}/model")),
    ] {
        let r = anon
            .send(m, &p, Some(json!({"content": "hi", "model": null})))
            .await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    let member = app.user_with_role(&founder, "other", "member").await;
    // Another user's session does not exist for them: 404, never 403.
    for (m, p, b) in [
        (Method::POST, path.clone(), Some(json!({"content": "hi"}))),
        (Method::GET, path.clone(), None),
        (
            Method::GET,
            format!("/api/v1/chat/sessions/{sid}/token-count"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/chat/sessions/{sid}/stop"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/chat/sessions/{sid}/regenerate"),
            Some(json!({})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/chat/sessions/{sid}/model"),
            Some(json!({"model": null})),
        ),
    ] {
        assert_error(
            &member.send(m, &p, b).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }

    // Without chat.use: 403.
    deny_permission(&founder, &member, "chat.use").await;
    let own = "/api/v1/chat/sessions/00000000-0000-7000-8000-000000000000";
    for (m, p, b) in [
        (
            Method::POST,
            format!("{own}/messages"),
            Some(json!({"content": "hi"})),
        ),
        (Method::GET, format!("{own}/token-count"), None),
        (
            Method::PATCH,
            format!("{own}/model"),
            Some(json!({"model": null})),
        ),
        (Method::GET, "/api/v1/chat/preferences".to_string(), None),
    ] {
        assert_error(
            &member.send(m, &p, b).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn preferences_round_trip_and_reach_the_prompt() {
    let app = app_with_model(|_| {}).await;
    let founder = app.founder().await;
    let p = "/api/v1/chat/preferences";
    let r = founder.get(p).await;
    assert_eq!(
        r.body,
        json!({"system_prompt": null, "preferences": {}, "default_model": null})
    );
    let body = json!({"system_prompt": "Answer in one word.", "preferences": {"tone": "brief"}, "default_model": MODEL_ID});
    let r = founder.put(p, body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(founder.get(p).await.body, body);
    let sid = new_session(&founder).await;
    let (_, done) = chat(&founder, &sid, "Hi.", greedy(3)).await;
    assert!(
        done["context"]["tokens"]["instructions"].as_u64().unwrap() > 0,
        "{done}"
    );

    for bad in [
        json!({"system_prompt": "x".repeat(8_001)}),
        json!({"preferences": {"k": "v".repeat(9_000)}}),
        json!({"default_model": "local:missing"}),
    ] {
        assert_error(
            &founder.put(p, bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        );
    }
    assert_error(
        &founder.put(p, json!({"preferences": [1]})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_eq!(
        founder.get(p).await.body,
        body,
        "refused writes changed nothing"
    );
    app.stop().await;
}

#[tokio::test]
async fn idle_sessions_are_archived_by_the_cleanup_job() {
    idle_sessions_are_archived_by_the_cleanup_job_on(Db::Sqlite).await;
}

#[tokio::test]
async fn idle_sessions_are_archived_by_the_cleanup_job_on_postgres() {
    idle_sessions_are_archived_by_the_cleanup_job_on(Db::Postgres).await;
}

async fn idle_sessions_are_archived_by_the_cleanup_job_on(db: Db) {
    let app = TestApp::spawn_with(db, |c| c.ai.archive_idle_days = 90).await;
    let founder = app.founder().await;
    let (old, fresh) = (new_session(&founder).await, new_session(&founder).await);
    let day = 86_400_000;
    app.state
        .store
        .force_chat_activity(&old, selah_store::now_ms() - 91 * day)
        .await
        .unwrap();
    app.state
        .store
        .force_chat_activity(&fresh, selah_store::now_ms() - 89 * day)
        .await
        .unwrap();
    founder
        .post(
            "/api/v1/auth/step-up",
            json!({"password": FOUNDER_PASSWORD}),
        )
        .await;
    let r = founder.post("/api/v1/admin/cleanup", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let job = r.body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "chat_archive")
        .unwrap()
        .clone();
    assert_eq!(job["ok"], true, "{job}");
    assert_eq!(job["stats"]["archived"], 1);
    for (id, archived) in [(&old, true), (&fresh, false)] {
        let r = founder.get(&format!("/api/v1/chat/sessions/{id}")).await;
        assert_eq!(r.body["archived"], archived, "{}", r.text);
    }
    app.stop().await;
}
