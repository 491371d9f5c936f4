//! A reply cut off by `kill -9`: the real binary streams a reply from the real SmolLM2 model
//! (`SELAH_TEST_MODEL`), is killed mid-reply, and after a restart the reply is there, marked
//! `incomplete`, holding the text the client had received (up to the last flush, which is at
//! most ~250 ms old).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{FOUNDER_PASSWORD, Server};

fn test_model() -> PathBuf {
    let p = std::env::var_os("SELAH_TEST_MODEL")
        .map(PathBuf::from)
        .expect(
            "SELAH_TEST_MODEL is not set: it must name SmolLM2-135M-Instruct.Q4_1.gguf \
         (`make test` sets it after scripts/fetch-models.sh fetches the model)",
        );
    assert!(
        p.is_file(),
        "SELAH_TEST_MODEL={} does not exist",
        p.display()
    );
    p
}

async fn serve(data: &std::path::Path) -> Server {
    Server::start(data, |c| {
        c.env(
            "SELAH_AI__OLLAMA_MODELS_DIR",
            "/nonexistent/selah-test-ollama",
        );
    })
    .await
}

/// Pulls `token` texts off an SSE body; returns (text, whether the stream ended).
async fn read_tokens(resp: &mut reqwest::Response, buf: &mut String, text: &mut String) -> bool {
    let Some(chunk) = resp.chunk().await.unwrap() else {
        return true;
    };
    buf.push_str(&String::from_utf8_lossy(&chunk));
    while let Some(i) = buf.find("\n\n") {
        let block: String = buf.drain(..i + 2).collect();
        if block.contains("event: done") || block.contains("event: error") {
            return true;
        }
        if let Some(d) = block.lines().find_map(|l| l.strip_prefix("data: ")) {
            let v: Value = serde_json::from_str(d).unwrap();
            text.push_str(v["text"].as_str().unwrap_or(""));
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_reply_keeps_the_text_as_incomplete() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let models = data.join("models");
    std::fs::create_dir_all(&models).unwrap();
    std::os::unix::fs::symlink(test_model(), models.join("SmolLM2-135M-Instruct.Q4_1.gguf"))
        .unwrap();

    let mut server = serve(&data).await;
    let api = server.founder().await;
    let (st, s) = api.post("/api/v1/chat/sessions", json!({})).await;
    assert_eq!(st, 201, "{s}");
    let sid = s["id"].as_str().unwrap().to_string();
    let mut resp = api
        .http
        .post(format!("{}/api/v1/chat/sessions/{sid}/messages", api.base))
        .bearer_auth(api.token.as_ref().unwrap())
        // Greedy decoding without a repetition penalty makes this model list numbers until
        // max_tokens: a reply long enough to be killed in the middle of.
        .json(&json!({
            "content": "List the numbers from 1 to 1000, separated by commas.",
            "params": {"temperature": 0.0, "seed": 1, "repeat_penalty": 1.0, "max_tokens": 3000},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // Read a good part of the reply, then keep reading for well over one flush interval.
    let (mut buf, mut text) = (String::new(), String::new());
    while text.chars().count() < 40 {
        assert!(
            !read_tokens(&mut resp, &mut buf, &mut text).await,
            "the reply ended too soon: {text:?}"
        );
    }
    let seen_early = text.clone();
    let until = Instant::now() + Duration::from_millis(800);
    while Instant::now() < until {
        assert!(
            !read_tokens(&mut resp, &mut buf, &mut text).await,
            "the reply ended too soon: {text:?}"
        );
    }
    server.kill9().await;
    drop(resp);

    let server = serve(&data).await;
    let api = server.client().login("founder", FOUNDER_PASSWORD).await;
    let (st, page) = api
        .get(&format!("/api/v1/chat/sessions/{sid}/messages"))
        .await;
    assert_eq!(st, 200, "{page}");
    let msgs = page["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2, "{page}");
    let reply = &msgs[1];
    assert_eq!(reply["status"], "incomplete", "{reply}");
    let kept = reply["content"].as_str().unwrap();
    assert!(
        kept.starts_with(&seen_early),
        "lost text the user saw: {kept:?} vs {seen_early:?}"
    );
    // The server may have written (and flushed) a little past what the client had read.
    assert!(
        text.starts_with(kept) || kept.starts_with(&text),
        "{kept:?} vs {text:?}"
    );
    server.stop().await;
}
