//! Hot slots over HTTP: assignment persisted across a restart (loaded again in the background)
//! and audited, the 75%-of-RAM rule with the seed's message (synthetic GGUF sizes, synthetic and
//! real RAM), keep-alive unloading and least-recently-used eviction with the real model, and
//! every refusal.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use selah_ai::gguf_writer::SyntheticGguf;
use selah_ai::memory::MemoryFigures;
use serde_json::json;

use crate::ai_support::{MODEL_ID, app_with_model, audit_types, generate, listed, post_raw};
use crate::common::{Api, TestApp, assert_error};

const G: u64 = 1 << 30;
const SLOTS: &str = "/api/v1/chat/models/hot-slots";

/// Polls until `cond` holds on the hot-slots document (or fails after 60 s).
async fn wait_slots(
    api: &Api,
    what: &str,
    cond: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let start = Instant::now();
    loop {
        let r = api.get(SLOTS).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        if cond(&r.body) {
            return r.body;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}: {:?}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_assignment_persists_across_a_restart_loads_in_the_background_and_is_audited() {
    let app = app_with_model(|_| {}).await;
    let founder = app.founder().await;
    let guest = app.user_with_role(&founder, "guest1", "guest").await;

    let r = guest.get(SLOTS).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["slots"].as_array().unwrap().len(), 4);
    assert_eq!(r.body["total_bytes"], 0);

    let r = founder
        .post(&format!("{SLOTS}/2"), json!({"model": MODEL_ID}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let slot = &r.body["slots"][1];
    assert_eq!(slot["slot_num"], 2);
    assert_eq!(slot["model"], MODEL_ID);
    let est = slot["estimated_bytes"].as_u64().unwrap();
    assert!(
        est > std::fs::metadata(crate::ai_support::test_model())
            .unwrap()
            .len()
    );
    assert_eq!(r.body["total_bytes"], est);
    assert!(r.body["limit_bytes"].as_u64().unwrap() > est);
    wait_slots(&guest, "the hot model to load", |b| {
        b["slots"][1]["loaded"] == true
    })
    .await;
    let m = listed(&guest, MODEL_ID).await.unwrap();
    assert_eq!(m["hot_slot"], 2);
    assert_eq!(m["loaded"], true);
    assert!(
        audit_types(&app)
            .await
            .contains(&"model.hot_slot_assigned".to_string())
    );

    // Restart on the same data directory: the slot is remembered and loaded again, without
    // start-up waiting for it.
    let (config, dir) = app.stop().await;
    let started = Instant::now();
    let app = TestApp::spawn_in(config, dir).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "start-up waited for the model"
    );
    let founder = app.login("founder", crate::common::FOUNDER_PASSWORD).await;
    let body = wait_slots(&founder, "the hot model to load after restart", |b| {
        b["slots"][1]["loaded"] == true
    })
    .await;
    assert_eq!(body["slots"][1]["model"], MODEL_ID);
    let st = founder.get("/api/v1/monitoring/engine").await;
    let models = st.body["models"].as_array().unwrap();
    assert!(
        models
            .iter()
            .any(|m| m["id"] == MODEL_ID && m["hot_slot"] == 2 && m["loaded"] == true),
        "{models:?}"
    );
    assert!(models[0]["memory_bytes"].as_u64().unwrap() > 0);

    // Eject: audited, the slot empty, a second eject is 404.
    let r = founder.delete(&format!("{SLOTS}/2")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["slots"][1]["model"], serde_json::Value::Null);
    assert_error(
        &founder.delete(&format!("{SLOTS}/2")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let events = audit_types(&app).await;
    assert!(
        events.contains(&"model.hot_slot_ejected".to_string()),
        "{events:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn slot_refusals() {
    let app = app_with_model(|_| {}).await;
    let founder = app.founder().await;
    let admin = app.user_with_role(&founder, "admin1", "admin").await;
    let member = app.user_with_role(&founder, "member1", "member").await;
    let body = json!({"model": MODEL_ID});
    assert_error(
        &founder.post(&format!("{SLOTS}/0"), body.clone()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &founder.post(&format!("{SLOTS}/5"), body.clone()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &founder.post(&format!("{SLOTS}/x"), body.clone()).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &founder
            .post(&format!("{SLOTS}/1"), json!({"model": "local:nope"}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &founder
            .post(&format!("{SLOTS}/1"), json!({"model": "nope"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    );
    assert_error(
        &founder
            .post(&format!("{SLOTS}/1"), json!({"model": "openai/x:y"}))
            .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &founder.post(&format!("{SLOTS}/1"), json!({})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &post_raw(&founder, &format!("{SLOTS}/1"), "{\"model\":").await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &founder.delete(&format!("{SLOTS}/3")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &admin.post(&format!("{SLOTS}/1"), body.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &member.delete(&format!("{SLOTS}/1")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.client().post(&format!("{SLOTS}/1"), body.clone()).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_error(
        &app.client().get(SLOTS).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    // One model, one slot; two concurrent assignments of it to different slots: one wins.
    let (p1, p3) = (format!("{SLOTS}/1"), format!("{SLOTS}/3"));
    let (a, b) = tokio::join!(
        founder.post(&p1, body.clone()),
        founder.post(&p3, body.clone())
    );
    let mut codes = [a.status.as_u16(), b.status.as_u16()];
    codes.sort();
    assert_eq!(codes, [200, 409], "{:?} {:?}", a.body, b.body);
    // A hot model cannot be removed.
    let err = app
        .state
        .ai
        .remove(&selah_ai::ModelId(MODEL_ID.into()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("hot slot"), "{err}");
}

#[tokio::test]
async fn slots_over_three_quarters_of_ram_are_refused_with_the_seeds_message() {
    let app = app_with_model(|_| {}).await;
    let founder = app.founder().await;
    let dir = app.data_dir.path().join("models");
    for name in ["s1", "s2", "s3"] {
        SyntheticGguf::llama(name, 5 * G)
            .write(&dir.join(format!("{name}.gguf")))
            .unwrap();
    }
    // A synthetic machine with 16 GB: the limit is 12 GB; each model needs a little over 5 GB.
    app.state.ai.memory().set_override(Some(MemoryFigures {
        total_bytes: 16 * G,
        available_bytes: 12 * G,
    }));
    let r = founder
        .post(&format!("{SLOTS}/1"), json!({"model": "local:s1"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let one = r.body["slots"][0]["estimated_bytes"].as_u64().unwrap();
    assert!(one > 5 * G && one < 6 * G, "{one}");
    let r = founder
        .post(&format!("{SLOTS}/2"), json!({"model": "local:s2"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["limit_gb"], 12.0);
    assert_eq!(r.body["ram_total_gb"], 16.0);
    let r = founder
        .post(&format!("{SLOTS}/3"), json!({"model": "local:s3"}))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    let would = 3.0 * one as f64 / G as f64;
    assert_eq!(
        r.body["error"]["message"],
        format!("Hot slots would use {would:.1} GB / 16.0 GB RAM. Limit: 12.0 GB")
    );
    // Replacing slot 2 with the third model is fine: it replaces, not adds.
    let r = founder
        .post(&format!("{SLOTS}/2"), json!({"model": "local:s3"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["slots"][1]["model"], "local:s3");

    // On the real machine: a synthetic model of 80% of total RAM is refused, naming the real RAM.
    app.state.ai.memory().set_override(None);
    let total = selah_ai::memory::MemoryProbe::new().figures().total_bytes;
    SyntheticGguf::llama("huge", total / 10 * 8)
        .write(&dir.join("huge.gguf"))
        .unwrap();
    let r = founder
        .post(&format!("{SLOTS}/4"), json!({"model": "local:huge"}))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    let msg = r.body["error"]["message"].as_str().unwrap();
    let ram = format!(
        "/ {:.1} GB RAM. Limit: {:.1} GB",
        total as f64 / G as f64,
        total as f64 * 0.75 / G as f64
    );
    assert!(
        msg.starts_with("Hot slots would use ") && msg.ends_with(&ram),
        "{msg} vs {ram}"
    );
}

#[tokio::test]
async fn on_demand_models_unload_after_keep_alive_and_hot_ones_stay() {
    let app = app_with_model(|c| {
        c.ai.keep_alive_secs = 1;
    })
    .await;
    let founder = app.founder().await;
    // A second id for the same file (a copy under another name), used on demand.
    std::fs::copy(
        crate::ai_support::test_model(),
        app.data_dir.path().join("models").join("other.gguf"),
    )
    .unwrap();
    let r = founder
        .post(&format!("{SLOTS}/1"), json!({"model": MODEL_ID}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    wait_slots(&founder, "hot load", |b| b["slots"][0]["loaded"] == true).await;
    generate(&app, "u", "local:other", "Hi", 4).await.unwrap();
    assert_eq!(
        listed(&founder, "local:other").await.unwrap()["loaded"],
        true
    );
    let start = Instant::now();
    while listed(&founder, "local:other").await.unwrap()["loaded"] == true {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the idle model was not unloaded"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        listed(&founder, MODEL_ID).await.unwrap()["loaded"],
        true,
        "the hot model stays"
    );
}

#[tokio::test]
async fn the_least_recently_used_model_is_evicted_under_the_budget_and_hot_ones_never() {
    let app = app_with_model(|_| {}).await;
    let dir = app.data_dir.path().join("models");
    for n in ["a", "b"] {
        std::fs::copy(
            crate::ai_support::test_model(),
            dir.join(format!("{n}.gguf")),
        )
        .unwrap();
    }
    generate(&app, "u", "local:a", "Hi", 2).await.unwrap();
    let st = app.state.ai.status();
    let used = st
        .models
        .iter()
        .find(|m| m.id == "local:a")
        .unwrap()
        .memory_bytes;
    let est = app
        .state
        .ai
        .estimated_bytes(&selah_ai::ModelId("local:b".into()))
        .await
        .unwrap();
    // A synthetic machine whose budget (75%) holds one model but not two.
    let budget = used.max(est) + used.min(est) / 2;
    let total = (budget as f64 / 0.75) as u64;
    app.state.ai.memory().set_override(Some(MemoryFigures {
        total_bytes: total,
        available_bytes: total,
    }));
    generate(&app, "u", "local:b", "Hi", 2).await.unwrap();
    let loaded: Vec<String> = app
        .state
        .ai
        .status()
        .models
        .iter()
        .filter(|m| m.loaded)
        .map(|m| m.id.clone())
        .collect();
    assert_eq!(loaded, ["local:b"], "a was least recently used and evicted");

    // With b in a hot slot, loading a would need to evict b: refused with a clear message.
    let founder = app.founder().await;
    app.state.ai.memory().set_override(Some(MemoryFigures {
        total_bytes: 64 * G,
        available_bytes: 64 * G,
    }));
    let r = founder
        .post(&format!("{SLOTS}/1"), json!({"model": "local:b"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.state.ai.memory().set_override(Some(MemoryFigures {
        total_bytes: total,
        available_bytes: total,
    }));
    let err = generate(&app, "u", "local:a", "Hi", 2).await.unwrap_err();
    assert!(err.contains("memory budget"), "{err}");
    assert_eq!(listed(&founder, "local:b").await.unwrap()["loaded"], true);
}

#[tokio::test]
async fn assignments_persist_on_postgres() {
    let app =
        TestApp::spawn_with(crate::common::Db::Postgres, crate::ai_support::ai_defaults).await;
    crate::ai_support::link_model(app.data_dir.path());
    let founder = app.founder().await;
    let r = founder
        .post(&format!("{SLOTS}/1"), json!({"model": MODEL_ID}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let again = founder
        .post(&format!("{SLOTS}/2"), json!({"model": MODEL_ID}))
        .await;
    assert_error(&again, StatusCode::CONFLICT, "conflict");
    let (config, dir) = app.stop().await;
    let app = TestApp::spawn_in(config, dir).await;
    let founder = app.login("founder", crate::common::FOUNDER_PASSWORD).await;
    let body = wait_slots(&founder, "the hot model to load", |b| {
        b["slots"][0]["loaded"] == true
    })
    .await;
    assert_eq!(body["slots"][0]["model"], MODEL_ID);
    assert_eq!(body["slots"][1]["model"], serde_json::Value::Null);
    assert_eq!(
        founder.delete(&format!("{SLOTS}/1")).await.status,
        StatusCode::OK
    );
    assert_error(
        &founder.delete(&format!("{SLOTS}/1")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    app.stop().await;
}
