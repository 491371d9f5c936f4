//! Models over HTTP with the real SmolLM2 file (`SELAH_TEST_MODEL`): the list with GGUF
//! metadata, Ollama's on-disk store (a real manifest and blob layout built in a tempdir, not a
//! mock), imports, and the fit check with the real file and with synthetic GGUF sizes.

use reqwest::StatusCode;
use selah_ai::gguf_writer::SyntheticGguf;
use selah_ai::memory::MemoryFigures;
use serde_json::json;
use sha2::Digest;
use std::path::Path;

use crate::ai_support::{
    MODEL_ID, ai_defaults, app_with_model, audit_types, generate, listed, post_raw, test_model,
};
use crate::common::{Db, TestApp, assert_error};

const G: u64 = 1 << 30;

#[tokio::test]
async fn the_list_shows_the_real_model_with_its_gguf_metadata() {
    let app = app_with_model(|_| {}).await;
    let founder = app.founder().await;
    let guest = app.user_with_role(&founder, "guest1", "guest").await;
    let m = listed(&guest, MODEL_ID).await.expect("the model is listed");
    assert_eq!(m["provider"], "local");
    assert_eq!(m["name"], "SmolLM2-135M-Instruct.Q4_1");
    assert_eq!(m["architecture"], "llama");
    assert_eq!(m["quantization"], "Q4_1");
    assert_eq!(m["context_length"], 8192);
    assert_eq!(m["has_chat_template"], true);
    assert_eq!(
        m["file_size"],
        std::fs::metadata(test_model()).unwrap().len()
    );
    let params = m["parameters"].as_u64().unwrap();
    assert!((100_000_000..200_000_000).contains(&params), "{params}");
    assert_eq!(m["read_only"], false);
    assert_eq!(m["loaded"], false);
    assert_eq!(m["hot_slot"], serde_json::Value::Null);
    let r = guest.get("/api/v1/chat/models").await;
    assert_eq!(r.body["default_model"], MODEL_ID);
    assert_error(
        &app.client().get("/api/v1/chat/models").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}

/// Ollama's real on-disk layout: `manifests/registry.ollama.ai/library/<name>/<tag>` naming the
/// model layer by sha256, the weights in `blobs/sha256-<hex>` (here a symlink to the real file).
fn fake_ollama_store(dir: &Path) {
    let model = test_model();
    let bytes = std::fs::read(&model).unwrap();
    let hex = hex::encode(sha2::Sha256::digest(&bytes));
    std::fs::create_dir_all(dir.join("blobs")).unwrap();
    std::os::unix::fs::symlink(&model, dir.join("blobs").join(format!("sha256-{hex}"))).unwrap();
    selah_ai::ollama_store::write_manifest(
        dir,
        "library",
        "smollm2",
        "135m",
        &hex,
        bytes.len() as u64,
    )
    .unwrap();
}

#[tokio::test]
async fn an_ollama_store_model_is_listed_read_only_and_generates_from_the_blob() {
    let store = tempfile::tempdir().unwrap();
    fake_ollama_store(store.path());
    let app = TestApp::spawn_with(Db::Sqlite, |c| {
        ai_defaults(c);
        c.ai.ollama_models_dir = store.path().to_path_buf();
    })
    .await;
    let founder = app.founder().await;
    let m = listed(&founder, "ollama:smollm2:135m")
        .await
        .expect("listed");
    assert_eq!(m["provider"], "ollama");
    assert_eq!(m["read_only"], true);
    assert_eq!(m["architecture"], "llama");
    let (text, usage) = generate(&app, "u", "ollama:smollm2:135m", "Say hello.", 12)
        .await
        .unwrap();
    assert!(!text.is_empty());
    assert!(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    // Run from the blob: nothing was copied into the models directory.
    let copied = std::fs::read_dir(app.data_dir.path().join("models"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(copied, 0);
    let m = listed(&founder, "ollama:smollm2:135m").await.unwrap();
    assert_eq!(m["loaded"], true);
}

#[tokio::test]
async fn import_checks_the_file_and_the_fit_before_copying_and_never_overwrites() {
    let app = TestApp::spawn_with(Db::Sqlite, ai_defaults).await;
    let founder = app.founder().await;
    let admin = app.user_with_role(&founder, "admin1", "admin").await;
    let src = tempfile::tempdir().unwrap();
    let real = src.path().join("smol.gguf");
    std::os::unix::fs::symlink(test_model(), &real).unwrap();

    let r = founder
        .post("/api/v1/chat/models/import", json!({"path": real}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["id"], "local:smol");
    assert_eq!(r.body["quantization"], "Q4_1");
    let copy = app.data_dir.path().join("models").join("smol.gguf");
    assert!(
        copy.is_file() && !copy.is_symlink(),
        "a real copy in the models directory"
    );
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(test_model()).unwrap()
    );
    assert!(listed(&founder, "local:smol").await.is_some());
    let events = audit_types(&app).await;
    assert!(events.contains(&"model.imported".to_string()), "{events:?}");

    // The same name again: refused, the existing file untouched.
    let again = founder
        .post("/api/v1/chat/models/import", json!({"path": real}))
        .await;
    assert_error(&again, StatusCode::CONFLICT, "conflict");

    // Not a GGUF.
    let text = src.path().join("notes.gguf");
    std::fs::write(&text, "just some text").unwrap();
    assert_error(
        &founder
            .post("/api/v1/chat/models/import", json!({"path": text}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    );
    // Larger than half the memory available now (a sparse synthetic file: no disk used).
    let avail = selah_ai::memory::MemoryProbe::new()
        .figures()
        .available_bytes;
    let big = src.path().join("huge.gguf");
    SyntheticGguf::llama("huge", avail).write(&big).unwrap();
    let r = founder
        .post("/api/v1/chat/models/import", json!({"path": big}))
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert!(
        r.body["error"]["message"].as_str().unwrap().contains("GB"),
        "{:?}",
        r.body
    );
    assert!(
        !app.data_dir
            .path()
            .join("models")
            .join("huge.gguf")
            .exists()
    );
    // Nothing half-copied was left behind.
    let names: Vec<String> = std::fs::read_dir(app.data_dir.path().join("models"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["smol.gguf"]);

    // Refusals.
    assert_error(
        &founder
            .post("/api/v1/chat/models/import", json!({"path": "rel.gguf"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    );
    assert_error(
        &founder.post("/api/v1/chat/models/import", json!({})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &post_raw(&founder, "/api/v1/chat/models/import", "{not json").await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &admin
            .post("/api/v1/chat/models/import", json!({"path": real}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.client()
            .post("/api/v1/chat/models/import", json!({"path": real}))
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}

#[tokio::test]
async fn check_fit_applies_the_half_of_available_rule_to_real_and_synthetic_sizes() {
    let app = app_with_model(|_| {}).await;
    let founder = app.founder().await;
    let member = app.user_with_role(&founder, "member1", "member").await;

    // The real file on the real machine.
    let r = member
        .post("/api/v1/chat/models/check-fit", json!({"model": MODEL_ID}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["fits"], true);
    let size = r.body["model_size_gb"].as_f64().unwrap();
    let est = r.body["estimated_runtime_gb"].as_f64().unwrap();
    assert!(size > 0.05 && size < 0.15, "{size}");
    assert!(
        est > size,
        "the estimate adds the KV cache: {est} vs {size}"
    );
    assert!(r.body["available_gb"].as_f64().unwrap() > 0.0);
    assert!(r.body["recommendation"].as_str().unwrap().len() > 10);

    // Synthetic sizes on a synthetic machine: 16 GB RAM, 8 GB available, the limit is 4 GB.
    let dir = app.data_dir.path().join("models");
    SyntheticGguf::llama("three", 3 * G)
        .write(&dir.join("three.gguf"))
        .unwrap();
    SyntheticGguf::llama("five", 5 * G)
        .write(&dir.join("five.gguf"))
        .unwrap();
    app.state.ai.memory().set_override(Some(MemoryFigures {
        total_bytes: 16 * G,
        available_bytes: 8 * G,
    }));
    let r = member
        .post(
            "/api/v1/chat/models/check-fit",
            json!({"model": "local:three"}),
        )
        .await;
    assert_eq!(r.body["fits"], true, "{:?}", r.body);
    assert_eq!(r.body["available_gb"], 8.0);
    let est = r.body["estimated_runtime_gb"].as_f64().unwrap();
    assert!(est > 3.0 && est <= 4.0, "{est}");
    let r = member
        .post(
            "/api/v1/chat/models/check-fit",
            json!({"model": "local:five"}),
        )
        .await;
    assert_eq!(r.body["fits"], false, "{:?}", r.body);
    assert!(r.body["estimated_runtime_gb"].as_f64().unwrap() > 5.0);
    // The same 3 GB model no longer fits when only 6 GB is available.
    app.state.ai.memory().set_override(Some(MemoryFigures {
        total_bytes: 16 * G,
        available_bytes: 6 * G,
    }));
    let r = member
        .post(
            "/api/v1/chat/models/check-fit",
            json!({"model": "local:three"}),
        )
        .await;
    assert_eq!(r.body["fits"], false, "{:?}", r.body);
    // Synthetic sizes on the real machine: a tenth and twice the memory available.
    app.state.ai.memory().set_override(None);
    let avail = selah_ai::memory::MemoryProbe::new()
        .figures()
        .available_bytes;
    SyntheticGguf::llama("tenth", avail / 10)
        .write(&dir.join("tenth.gguf"))
        .unwrap();
    SyntheticGguf::llama("double", avail * 2)
        .write(&dir.join("double.gguf"))
        .unwrap();
    let r = member
        .post(
            "/api/v1/chat/models/check-fit",
            json!({"model": "local:tenth"}),
        )
        .await;
    assert_eq!(r.body["fits"], true, "{:?}", r.body);
    let r = member
        .post(
            "/api/v1/chat/models/check-fit",
            json!({"model": "local:double"}),
        )
        .await;
    assert_eq!(r.body["fits"], false, "{:?}", r.body);

    // Refusals.
    assert_error(
        &member
            .post(
                "/api/v1/chat/models/check-fit",
                json!({"model": "local:nope"}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &member
            .post("/api/v1/chat/models/check-fit", json!({"model": ""}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    );
    assert_error(
        &member
            .post("/api/v1/chat/models/check-fit", json!({"modle": MODEL_ID}))
            .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &post_raw(&member, "/api/v1/chat/models/check-fit", "[").await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &app.client()
            .post("/api/v1/chat/models/check-fit", json!({"model": MODEL_ID}))
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}
