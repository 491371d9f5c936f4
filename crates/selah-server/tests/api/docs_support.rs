//! Shared helpers of the document tests: a server whose models directory holds the real chat
//! model and the real embedding model (`SELAH_TEST_EMBED_MODEL`, all-MiniLM-L6-v2, failing when
//! missing), multipart uploads built by hand, and polling a document until it settles.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use selah_core::Config;
use serde_json::{Value, json};

use crate::ai_support::{ai_defaults, link_model};
use crate::common::*;

pub const DOCS: &str = "/api/v1/docs/documents";

/// The embedding model directory the tests use.
pub fn embed_model() -> PathBuf {
    let p = std::env::var_os("SELAH_TEST_EMBED_MODEL")
        .map(PathBuf::from)
        .expect(
            "SELAH_TEST_EMBED_MODEL is not set: it must name the all-MiniLM-L6-v2 directory \
             (`make test` sets it after scripts/fetch-models.sh fetches the model)",
        );
    assert!(
        p.join("model.safetensors").is_file(),
        "SELAH_TEST_EMBED_MODEL={} holds no model.safetensors",
        p.display()
    );
    p
}

/// A fixture of selah-search's extraction tests.
pub fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../selah-search/tests/fixtures")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

/// Links both real models into a data directory's models directory.
pub fn link_models(data_dir: &Path) {
    link_model(data_dir);
    let dest = data_dir.join("models").join("all-MiniLM-L6-v2");
    if !dest.exists() {
        std::os::unix::fs::symlink(embed_model(), dest).unwrap();
    }
}

/// A server on `db` with both models in place before it starts (the ingestion worker loads
/// the embedding model at once).
pub async fn app_with_docs(db: Db, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    link_models(data_dir.path());
    let mut config = test_config();
    if db == Db::Postgres {
        config.database_url = selah_core::Secret::new(fresh_pg_database().await);
    }
    ai_defaults(&mut config);
    tweak(&mut config);
    TestApp::spawn_in(config, data_dir).await
}

/// One form part: (name, file name, content type, bytes).
pub type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// A multipart/form-data body with the given parts.
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = format!("selah-test-{}", uuid::Uuid::new_v4().simple());
    let mut body = Vec::new();
    for (name, file, ctype, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disp = match file {
            Some(f) => {
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n")
            }
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n"),
        };
        body.extend_from_slice(disp.as_bytes());
        if let Some(c) = ctype {
            body.extend_from_slice(format!("Content-Type: {c}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Sends a raw body with the client's credentials and team.
pub async fn send_raw(api: &Api, method: Method, path: &str, ctype: &str, body: Vec<u8>) -> Resp {
    let mut req = api
        .http
        .request(method, format!("{}{path}", api.base))
        .header("content-type", ctype)
        .body(body);
    if let Some(t) = &api.token {
        req = req.bearer_auth(t);
    }
    if let Some(t) = &api.team {
        req = req.header("x-selah-team", t);
    }
    let res = req.send().await.expect("request reaches the server");
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    Resp {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

/// Uploads one file.
pub async fn upload(api: &Api, file_name: &str, bytes: &[u8]) -> Resp {
    let (ctype, body) = multipart(&[("file", Some(file_name), None, bytes)]);
    send_raw(api, Method::POST, DOCS, &ctype, body).await
}

/// Writes a note and returns its id.
pub async fn note(api: &Api, title: &str, body: &str) -> String {
    let r = api.post(DOCS, json!({"title": title, "body": body})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

/// Polls a document until it is ready or failed; returns it.
pub async fn settle(api: &Api, id: &str) -> Value {
    settle_within(api, id, Duration::from_secs(180)).await
}

/// [`settle`] with a time limit of its own (many documents queued ahead of this one).
pub async fn settle_within(api: &Api, id: &str, limit: Duration) -> Value {
    let start = Instant::now();
    loop {
        let r = api.get(&format!("{DOCS}/{id}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let state = r.body["state"].as_str().unwrap().to_string();
        if state == "ready" || state == "failed" {
            return r.body;
        }
        assert!(
            start.elapsed() < limit,
            "document {id} still {state} after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Searches and returns the hits.
pub async fn search(api: &Api, query: &str, extra: &str) -> Vec<Value> {
    let q: String = url_encode(query);
    let r = api.get(&format!("/api/v1/search?q={q}{extra}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body.as_array().unwrap().clone()
}

/// Percent-encodes a query parameter value.
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
