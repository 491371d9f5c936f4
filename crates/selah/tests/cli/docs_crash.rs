//! Ingestion cut by `kill -9`: the real binary indexes a long note with the real embedding model
//! (`SELAH_TEST_EMBED_MODEL`), is killed half-way, and after a restart the document is not
//! reported ready with passages missing, none of its passages is searchable before it is, and
//! indexing resumes from the vectors already stored (fewer passages are embedded after the
//! restart than the document has) to a complete, searchable document.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{FOUNDER_PASSWORD, Server};

fn embed_model() -> PathBuf {
    let p = std::env::var_os("SELAH_TEST_EMBED_MODEL")
        .map(PathBuf::from)
        .expect("SELAH_TEST_EMBED_MODEL is not set (`make test` sets it)");
    assert!(p.join("model.safetensors").is_file(), "{}", p.display());
    p
}

async fn serve(data: &Path) -> Server {
    Server::start(data, |c| {
        c.env(
            "SELAH_AI__OLLAMA_MODELS_DIR",
            "/nonexistent/selah-test-ollama",
        );
    })
    .await
}

async fn embedded_total(base: &str) -> u64 {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("selah_docs_passages_embedded_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the embedded-passages counter")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_ingestion_resumes_and_never_reports_half_a_document() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let models = data.join("models");
    std::fs::create_dir_all(&models).unwrap();
    std::os::unix::fs::symlink(embed_model(), models.join("all-MiniLM-L6-v2")).unwrap();

    let mut server = serve(&data).await;
    let api = server.founder().await;
    let body: String = (0..500)
        .map(|i| format!("Entry {i}. The ferry timetable for pier {i} lists sailings at seven, noon and five, weather permitting; the skerry lamp is lit at dusk.\n\n"))
        .collect();
    let (st, d) = api
        .post(
            "/api/v1/docs/documents",
            json!({"title": "Timetables", "body": body}),
        )
        .await;
    assert_eq!(st, 201, "{d}");
    let id = d["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/docs/documents/{id}");

    // Wait until a good part, but not all, is embedded.
    let start = Instant::now();
    loop {
        let (_, d) = api.get(&path).await;
        let p = d["progress"].as_i64().unwrap_or(0);
        assert_ne!(
            d["state"], "ready",
            "indexed before it could be interrupted: {d}"
        );
        if d["state"] == "indexing" && p >= 20 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no progress: {d}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill9().await;

    let server = serve(&data).await;
    let api = server.client().login("founder", FOUNDER_PASSWORD).await;
    let (st, d) = api.get(&path).await;
    assert_eq!(st, 200, "{d}");
    let search = "/api/v1/search?q=ferry%20timetable%20pier&mode=fulltext&k=5";
    if d["state"] != "ready" {
        assert_eq!(d["state"], "indexing", "{d}");
        let (_, hits) = api.get(search).await;
        assert_eq!(
            hits,
            json!([]),
            "passages of an unfinished document are searchable"
        );
    }
    let d: Value = loop {
        let (_, d) = api.get(&path).await;
        if d["state"] == "ready" {
            break d;
        }
        assert_ne!(d["state"], "failed", "{d}");
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "never finished: {d}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let passages = d["passages"].as_u64().unwrap();
    let after_restart = embedded_total(&server.client().base).await;
    assert!(
        after_restart < passages,
        "resumed from scratch: {after_restart} embedded after the restart, {passages} passages"
    );
    let (_, hits) = api.get(search).await;
    assert_eq!(hits[0]["document_id"], id.as_str(), "{hits}");

    // The same text indexed in one go gives the same passages: nothing doubled or lost.
    let (st, d2) = api
        .post(
            "/api/v1/docs/documents",
            json!({"title": "Again", "body": d["body"]}),
        )
        .await;
    assert_eq!(st, 201, "{d2}");
    let again = format!("/api/v1/docs/documents/{}", d2["id"].as_str().unwrap());
    let d2: Value = loop {
        let (_, d2) = api.get(&again).await;
        if d2["state"] == "ready" {
            break d2;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(d2["passages"], d["passages"]);
}
