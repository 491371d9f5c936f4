//! Engine status over HTTP (`/api/v1/monitoring/engine` and `/metal4`), `/metrics` and the
//! `engine` health check, with the real SmolLM2 model generating concurrently: queue figures
//! move, fairness holds, and a full queue answers 503 with Retry-After.

use std::time::{Duration, Instant};

use axum::response::IntoResponse;
use reqwest::StatusCode;
use selah_ai::{AiError, ChatMessage, ChatRole, GenEvent, ModelId, SamplingParams};
use selah_server::error::ApiError;

use crate::ai_support::{MODEL_ID, app_with_model};
use crate::common::{TestApp, assert_error};

fn long_params() -> SamplingParams {
    SamplingParams {
        temperature: 0.0,
        seed: Some(1),
        max_tokens: 48,
        ..Default::default()
    }
}

fn msgs() -> Vec<ChatMessage> {
    vec![ChatMessage {
        role: ChatRole::User,
        content: "Write a long story about a lighthouse keeper.".into(),
    }]
}

/// Runs one chat to the end in a task, returning the generated text.
fn spawn_chat(app: &TestApp, user: &str) -> tokio::task::JoinHandle<Result<String, String>> {
    let ai = app.state.ai.clone();
    let user = user.to_string();
    tokio::spawn(async move {
        let mut rx = ai
            .chat(&user, &ModelId(MODEL_ID.into()), msgs(), long_params())
            .await
            .map_err(|e| e.to_string())?;
        let mut text = String::new();
        while let Some(ev) = rx.recv().await {
            match ev {
                GenEvent::Token(t) => text.push_str(&t),
                GenEvent::Done { .. } => return Ok(text),
                GenEvent::Error(e) => return Err(e),
            }
        }
        Err("ended without Done".into())
    })
}

#[tokio::test]
async fn queue_figures_move_under_concurrent_requests() {
    let app = app_with_model(|c| {
        c.ai.max_sequences = 1;
        c.ai.queue_capacity = 8;
        c.health.enabled = false;
    })
    .await;
    let founder = app.founder().await;
    let guest = app.user_with_role(&founder, "guest1", "guest").await;
    let idle = guest.get("/api/v1/monitoring/engine").await;
    assert_eq!(idle.status, StatusCode::OK);
    assert_eq!(idle.body["status"], "idle");
    assert_eq!(idle.body["queue_depth"], 0);
    assert_eq!(idle.body["last_activity"], serde_json::Value::Null);

    // Load the model first so the queue, not the load, is what the requests wait for.
    app.state
        .ai
        .count_tokens(&ModelId(MODEL_ID.into()), "warm")
        .await
        .unwrap();
    let tasks: Vec<_> = ["alice", "alice", "bob", "carol"]
        .iter()
        .map(|u| spawn_chat(&app, u))
        .collect();
    let start = Instant::now();
    let busy = loop {
        let r = guest.get("/api/v1/monitoring/engine").await;
        if r.body["queue"]["pending"].as_u64().unwrap() >= 2 {
            break r.body;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the queue never filled: {:?}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(busy["status"], "processing");
    assert_eq!(busy["queue"]["in_flight"], 1, "max_sequences = 1");
    assert_eq!(busy["queue_depth"], busy["queue"]["pending"]);
    let m = busy["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == MODEL_ID)
        .cloned()
        .unwrap();
    assert_eq!(m["in_flight"], 1);
    assert_eq!(m["loaded"], true);
    let metrics = app.client().get("/metrics").await.text;
    let pending_line = metrics
        .lines()
        .find(|l| l.starts_with("selah_engine_queue_pending "))
        .unwrap();
    assert_ne!(pending_line, "selah_engine_queue_pending 0", "{metrics}");
    assert!(metrics.contains("selah_engine_queue_in_flight 1"));
    assert!(metrics.contains("selah_engine_models_loaded 1"));

    for t in tasks {
        assert!(!t.await.unwrap().unwrap().is_empty());
    }
    let done = guest.get("/api/v1/monitoring/engine").await;
    assert_eq!(done.body["status"], "idle");
    assert_eq!(done.body["queue"]["pending"], 0);
    assert_eq!(done.body["queue"]["in_flight"], 0);
    assert!(
        done.body["queue"]["avg_wait_ms"].as_f64().unwrap() > 0.0,
        "{:?}",
        done.body
    );
    assert!(done.body["last_activity"].as_i64().unwrap() > 0);
    // The seed's name serves the same document.
    let seed = guest.get("/api/v1/monitoring/metal4").await;
    assert_eq!(seed.status, StatusCode::OK);
    assert_eq!(seed.body["queue"], done.body["queue"]);
    assert_eq!(seed.body["models"], done.body["models"]);
    let h = app.client().get("/health").await;
    let engine = h.body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "engine")
        .cloned()
        .unwrap();
    assert_eq!(engine["status"], "healthy", "{engine}");
    assert_error(
        &app.client().get("/api/v1/monitoring/engine").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_error(
        &app.client().get("/api/v1/monitoring/metal4").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}

#[tokio::test]
async fn a_full_queue_is_refused_with_503_and_retry_after_and_degrades_health() {
    let app = app_with_model(|c| {
        c.ai.max_sequences = 1;
        c.ai.queue_capacity = 1;
        c.health.enabled = false;
    })
    .await;
    let model = ModelId(MODEL_ID.into());
    app.state.ai.count_tokens(&model, "warm").await.unwrap();
    let running = spawn_chat(&app, "alice");
    let waiting = spawn_chat(&app, "bob");
    let start = Instant::now();
    while app.state.ai.status().queue.pending < 1 {
        assert!(start.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The third request finds one running and one waiting: refused at once.
    let err = app
        .state
        .ai
        .chat("carol", &model, msgs(), long_params())
        .await
        .unwrap_err();
    let AiError::QueueFull { retry_after_secs } = err else {
        panic!("expected QueueFull, got {err}");
    };
    assert!(retry_after_secs >= 1);
    let resp = ApiError::from(AiError::QueueFull { retry_after_secs }).into_response();
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(
        resp.headers()["retry-after"],
        retry_after_secs.to_string().as_str()
    );
    // A full queue (100% of capacity) degrades /health.
    let h = app.client().get("/health").await;
    let engine = h.body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "engine")
        .cloned()
        .unwrap();
    assert_eq!(engine["status"], "degraded", "{engine}");
    running.await.unwrap().unwrap();
    waiting.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_cancelled_generation_frees_its_place() {
    let app = app_with_model(|c| {
        c.ai.max_sequences = 1;
        c.ai.queue_capacity = 4;
    })
    .await;
    let model = ModelId(MODEL_ID.into());
    let mut rx = app
        .state
        .ai
        .chat("alice", &model, msgs(), long_params())
        .await
        .unwrap();
    assert!(matches!(rx.recv().await, Some(GenEvent::Token(_))));
    assert_eq!(app.state.ai.status().queue.in_flight, 1);
    drop(rx);
    let start = Instant::now();
    while app.state.ai.status().queue.in_flight > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the place was not freed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut rx = app
        .state
        .ai
        .chat("bob", &model, msgs(), long_params())
        .await
        .unwrap();
    assert!(matches!(rx.recv().await, Some(GenEvent::Token(_))));
}
