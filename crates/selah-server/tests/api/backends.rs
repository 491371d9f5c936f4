//! Remote backends against a stand-in HTTP server written in this test: it speaks the Ollama
//! native API (`/api/tags`, `/api/show`, `/api/ps`, streaming NDJSON `/api/chat`) and the
//! OpenAI-compatible API (`/v1/models`, SSE `/v1/chat/completions`) as those servers document
//! them. A stand-in is used because Ollama (and any OpenAI-compatible server) cannot be
//! installed on this machine; the runtime talks to it over real HTTP exactly as to the real ones.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode as AxStatus;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use reqwest::StatusCode;
use serde_json::json;

use crate::ai_support::{MODEL_ID, app_with_model, generate, listed};
use crate::common::TestApp;

#[derive(Default)]
struct Knobs {
    /// Every request fails with 500.
    fail: AtomicBool,
    /// The next N chat requests fail with 500.
    fail_next: AtomicU32,
    /// Chat requests received.
    chats: AtomicU32,
}

type K = State<Arc<Knobs>>;

fn failing(k: &Knobs, chat: bool) -> bool {
    if chat {
        k.chats.fetch_add(1, Ordering::SeqCst);
        if k.fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return true;
        }
    }
    k.fail.load(Ordering::SeqCst)
}

fn boom() -> Response {
    (AxStatus::INTERNAL_SERVER_ERROR, "stand-in failure").into_response()
}

async fn tags(State(k): K) -> Response {
    if failing(&k, false) {
        return boom();
    }
    axum::Json(json!({"models": [{"name": "tiny:latest", "model": "tiny:latest", "size": 1234,
        "details": {"format": "gguf", "family": "llama", "parameter_size": "1M", "quantization_level": "Q4_0"}}]}))
        .into_response()
}

async fn show(State(k): K) -> Response {
    if failing(&k, false) {
        return boom();
    }
    axum::Json(
        json!({"model_info": {"general.architecture": "llama", "llama.context_length": 2048}}),
    )
    .into_response()
}

async fn ps(State(k): K) -> Response {
    if failing(&k, false) {
        return boom();
    }
    axum::Json(json!({"models": [{"name": "tiny:latest", "model": "tiny:latest"}]})).into_response()
}

async fn ollama_chat(State(k): K, axum::Json(body): axum::Json<serde_json::Value>) -> Response {
    if failing(&k, true) {
        return boom();
    }
    assert_eq!(body["stream"], true);
    let lines = [
        json!({"model": "tiny:latest", "message": {"role": "assistant", "content": "Hello"}, "done": false}),
        json!({"model": "tiny:latest", "message": {"role": "assistant", "content": " world"}, "done": false}),
        json!({"model": "tiny:latest", "message": {"role": "assistant", "content": ""}, "done": true,
               "done_reason": "stop", "prompt_eval_count": 11, "eval_count": 2}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    ([("content-type", "application/x-ndjson")], text).into_response()
}

async fn openai_models(State(k): K) -> Response {
    if failing(&k, false) {
        return boom();
    }
    axum::Json(json!({"object": "list", "data": [{"id": "tiny", "object": "model", "max_model_len": 4096}]})).into_response()
}

async fn openai_chat(State(k): K, axum::Json(body): axum::Json<serde_json::Value>) -> Response {
    if failing(&k, true) {
        return boom();
    }
    assert_eq!(body["stream"], true);
    let chunks = [
        json!({"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}]}),
        json!({"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": " there"}}]}),
        json!({"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
        json!({"id": "c1", "object": "chat.completion.chunk", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}}),
    ];
    let mut text: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    text.push_str("data: [DONE]\n\n");
    ([("content-type", "text/event-stream")], text).into_response()
}

/// Starts the stand-in on a free port.
async fn stand_in() -> (String, Arc<Knobs>) {
    let knobs = Arc::new(Knobs::default());
    let app = Router::new()
        .route("/api/tags", get(tags))
        .route("/api/show", post(show))
        .route("/api/ps", get(ps))
        .route("/api/chat", post(ollama_chat))
        .route("/v1/models", get(openai_models))
        .route("/v1/chat/completions", post(openai_chat))
        .with_state(knobs.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), knobs)
}

async fn app_with_backends(base: &str) -> TestApp {
    let base = base.to_string();
    let app = app_with_model(move |c| {
        c.ai.ollama_url = base.clone();
        c.ai.openai_backends = vec![format!("standin={base}/v1")];
        // Checks run when /health is asked, not from a cache.
        c.health.enabled = false;
    })
    .await;
    // Retries after 10, 20, 40 ms instead of 2, 4, 8 s.
    app.state
        .ai
        .remote_timing()
        .set_retry_base(Duration::from_millis(10));
    app
}

#[tokio::test]
async fn remote_models_are_listed_and_chat_through_both_protocols() {
    let (base, knobs) = stand_in().await;
    let app = app_with_backends(&base).await;
    let founder = app.founder().await;

    let m = listed(&founder, "remote-ollama:tiny:latest")
        .await
        .expect("Ollama model listed");
    assert_eq!(m["provider"], "remote-ollama");
    assert_eq!(m["available"], true);
    assert_eq!(m["loaded"], true, "from /api/ps");
    assert_eq!(m["quantization"], "Q4_0");
    let o = listed(&founder, "openai/standin:tiny")
        .await
        .expect("OpenAI model listed");
    assert_eq!(o["context_length"], 4096);
    assert!(
        listed(&founder, MODEL_ID).await.is_some(),
        "the local model too"
    );

    let (text, usage) = generate(&app, "u", "remote-ollama:tiny:latest", "hi", 8)
        .await
        .unwrap();
    assert_eq!(text, "Hello world");
    assert_eq!(
        (usage.prompt_tokens, usage.completion_tokens),
        (11, 2),
        "counts as the backend reports them"
    );
    let (text, usage) = generate(&app, "u", "openai/standin:tiny", "hi", 8)
        .await
        .unwrap();
    assert_eq!(text, "Hi there");
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (9, 2));
    let ai = &app.state.ai;
    assert_eq!(
        ai.context_window(&selah_ai::ModelId("remote-ollama:tiny:latest".into()))
            .await
            .unwrap(),
        2048
    );
    assert_eq!(knobs.chats.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn failures_before_the_first_token_are_retried() {
    let (base, knobs) = stand_in().await;
    let app = app_with_backends(&base).await;
    knobs.fail_next.store(2, Ordering::SeqCst);
    let (text, _) = generate(&app, "u", "remote-ollama:tiny:latest", "hi", 8)
        .await
        .unwrap();
    assert_eq!(text, "Hello world");
    assert_eq!(
        knobs.chats.load(Ordering::SeqCst),
        3,
        "two failures, then success"
    );
    let st = app.state.ai.status();
    assert_eq!(st.backends[0].state, "closed");
    assert_eq!(st.backends[0].failures, 0, "a success resets the count");
    // Four failures in a row (the first try and 3 retries): the chat fails, no fifth attempt.
    knobs.fail_next.store(4, Ordering::SeqCst);
    let err = generate(&app, "u", "remote-ollama:tiny:latest", "hi", 8)
        .await
        .unwrap_err();
    assert!(err.contains("unavailable"), "{err}");
    assert_eq!(knobs.chats.load(Ordering::SeqCst), 7);
}

#[tokio::test]
async fn the_breaker_opens_against_a_failing_backend_and_shows_in_health_status_and_metrics() {
    let (base, knobs) = stand_in().await;
    let app = app_with_backends(&base).await;
    let founder = app.founder().await;
    knobs.fail.store(true, Ordering::SeqCst);
    // 4 failed attempts, then 1 more: the fifth consecutive failure opens the circuit.
    assert!(
        generate(&app, "u", "openai/standin:tiny", "hi", 8)
            .await
            .is_err()
    );
    assert!(
        generate(&app, "u", "openai/standin:tiny", "hi", 8)
            .await
            .is_err()
    );
    let before = knobs.chats.load(Ordering::SeqCst);
    assert_eq!(before, 5, "the open circuit stopped the retries");
    // Open: refused at once, without calling the backend.
    let started = Instant::now();
    let err = generate(&app, "u", "openai/standin:tiny", "hi", 8)
        .await
        .unwrap_err();
    assert!(err.contains("circuit is open"), "{err}");
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(knobs.chats.load(Ordering::SeqCst), before);

    let st = founder.get("/api/v1/monitoring/engine").await;
    let b = st.body["backends"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "standin")
        .cloned()
        .unwrap();
    assert_eq!(b["state"], "open");
    assert!(b["failures"].as_u64().unwrap() >= 5);
    assert_eq!(
        st.body["status"], "error",
        "a generation failed in the last minute"
    );
    let h = app.client().get("/health").await;
    let engine = h.body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "engine")
        .cloned()
        .unwrap();
    assert_eq!(engine["status"], "degraded", "{engine}");
    assert!(engine["message"].as_str().unwrap().contains("standin"));
    let metrics = app.client().get("/metrics").await.text;
    assert!(
        metrics.contains("selah_backend_circuit_state{backend=\"standin\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("selah_backend_circuit_state{backend=\"ollama\"} 0"));

    // The embedded engine is unaffected by the dead backend.
    let (text, _) = generate(&app, "u", MODEL_ID, "Say hi.", 4).await.unwrap();
    assert!(!text.is_empty());

    // After the cool-down one probe goes through; the backend is back, so the circuit closes.
    knobs.fail.store(false, Ordering::SeqCst);
    for b in app.state.ai.backends() {
        b.breaker.set_cool_down(Duration::from_millis(50));
    }
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(app.state.ai.status().backends[1].state, "half_open");
    let (text, _) = generate(&app, "u", "openai/standin:tiny", "hi", 8)
        .await
        .unwrap();
    assert_eq!(text, "Hi there");
    assert_eq!(app.state.ai.status().backends[1].state, "closed");
    let st = founder.get("/api/v1/monitoring/engine").await;
    assert_eq!(st.body["backends"][1]["state"], "closed");
}

#[tokio::test]
async fn a_dead_backend_never_blocks_the_local_list_and_its_models_show_unavailable() {
    let (base, knobs) = stand_in().await;
    let app = app_with_backends(&base).await;
    let founder = app.founder().await;
    assert_eq!(
        listed(&founder, "remote-ollama:tiny:latest").await.unwrap()["available"],
        true
    );
    // The backend dies; the cached list is served marked unavailable once it is stale.
    knobs.fail.store(true, Ordering::SeqCst);
    for b in app.state.ai.backends() {
        b.expire_model_list();
    }
    let started = Instant::now();
    let m = listed(&founder, "remote-ollama:tiny:latest")
        .await
        .expect("last list kept");
    assert_eq!(m["available"], false);
    assert!(listed(&founder, MODEL_ID).await.is_some());
    assert!(started.elapsed() < Duration::from_secs(3));

    // A backend that does not answer at all (a closed port): the list still comes quickly.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let app2 = app_with_backends(&format!("http://{closed}")).await;
    let f2 = app2.founder().await;
    let started = Instant::now();
    let r = f2.get("/api/v1/chat/models").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(3));
    let ids: Vec<&str> = r.body["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [MODEL_ID]);
}
