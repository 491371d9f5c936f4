//! Shared helpers of the AI tests: the real SmolLM2 file (`SELAH_TEST_MODEL`, failing with a
//! clear message when missing), a server with it in the models directory, in-process generation
//! through the server's runtime, and audit and raw-body helpers.

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use selah_ai::{ChatMessage, ChatRole, GenEvent, ModelId, SamplingParams, TokenUsage};
use selah_core::Config;

use crate::common::{Api, Db, Resp, TestApp};

/// The real model's id once linked into the models directory.
pub const MODEL_ID: &str = "local:SmolLM2-135M-Instruct.Q4_1";

/// The real SmolLM2 file. Fails (never skips) when it is missing.
pub fn test_model() -> PathBuf {
    let p = std::env::var_os("SELAH_TEST_MODEL")
        .map(PathBuf::from)
        .expect(
            "SELAH_TEST_MODEL is not set: it must name SmolLM2-135M-Instruct.Q4_1.gguf \
         (`make test` sets it after scripts/fetch-models.sh fetches the model)",
        );
    assert!(
        p.is_file(),
        "SELAH_TEST_MODEL={} does not exist: run scripts/fetch-models.sh",
        p.display()
    );
    p
}

/// Test defaults for the AI section: no Ollama store from the machine, a small context.
pub fn ai_defaults(c: &mut Config) {
    c.ai.ollama_models_dir = PathBuf::from("/nonexistent/selah-test-ollama");
    c.ai.context_size = 2048;
    // One thread: llama.cpp's spinning threads stall on a shared 2-core machine.
    c.ai.threads = 1;
    c.ai.batch_threads = 1;
}

/// Links the real model into the app's models directory.
pub fn link_model(data_dir: &Path) {
    let dir = data_dir.join("models");
    std::fs::create_dir_all(&dir).unwrap();
    let dest = dir.join("SmolLM2-135M-Instruct.Q4_1.gguf");
    if !dest.exists() {
        std::os::unix::fs::symlink(test_model(), dest).unwrap();
    }
}

/// A server on SQLite whose models directory holds the real model.
pub async fn app_with_model(tweak: impl FnOnce(&mut Config)) -> TestApp {
    app_with_model_on(Db::Sqlite, tweak).await
}

/// A server on the given database whose models directory holds the real model.
pub async fn app_with_model_on(db: Db, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let app = TestApp::spawn_with(db, |c| {
        ai_defaults(c);
        tweak(c);
    })
    .await;
    link_model(app.data_dir.path());
    app
}

/// Generates a reply in-process through the server's runtime and collects it.
pub async fn generate(
    app: &TestApp,
    user: &str,
    model: &str,
    prompt: &str,
    max_tokens: u32,
) -> Result<(String, TokenUsage), String> {
    let params = SamplingParams {
        temperature: 0.0,
        seed: Some(7),
        max_tokens,
        ..Default::default()
    };
    let msgs = vec![ChatMessage {
        role: ChatRole::User,
        content: prompt.into(),
    }];
    let mut rx = app
        .state
        .ai
        .chat(user, &ModelId(model.into()), msgs, params)
        .await
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    while let Some(ev) = rx.recv().await {
        match ev {
            GenEvent::Token(t) => text.push_str(&t),
            GenEvent::Done { usage, .. } => return Ok((text, usage)),
            GenEvent::Error(e) => return Err(e),
        }
    }
    Err("the stream ended without Done".into())
}

/// Event types in the audit log, oldest first (after flushing the writer).
pub async fn audit_types(app: &TestApp) -> Vec<String> {
    use sqlx::Row;
    app.state.audit.flush().await;
    sqlx::query("SELECT event_type FROM audit_log ORDER BY seq")
        .fetch_all(app.state.store.reader())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("event_type"))
        .collect()
}

/// Posts a raw body as JSON (for malformed-JSON checks).
pub async fn post_raw(api: &Api, path: &str, body: &str) -> Resp {
    let mut req = api
        .http
        .post(format!("{}{path}", api.base))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(t) = &api.token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    Resp {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        text,
    }
}

/// Lists over HTTP and returns the entry with this id.
pub async fn listed(api: &Api, id: &str) -> Option<serde_json::Value> {
    let r = api.get("/api/v1/chat/models").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .cloned()
}
