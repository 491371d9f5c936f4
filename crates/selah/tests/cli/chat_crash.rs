//! A reply cut off by `kill -9`: the real binary streams a reply from the real SmolLM2 model
//! (`SELAH_TEST_MODEL`), is killed mid-reply, and after a restart the reply is there, marked
//! `incomplete`, holding the text the client had received (up to the last flush, which is at
//! most ~250 ms old).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const PASSWORD: &str = "crash-password-long";

fn test_model() -> PathBuf {
    let p = std::env::var_os("SELAH_TEST_MODEL").map(PathBuf::from).expect(
        "SELAH_TEST_MODEL is not set: it must name SmolLM2-135M-Instruct.Q4_1.gguf \
         (`make test` sets it after scripts/fetch-models.sh fetches the model)",
    );
    assert!(p.is_file(), "SELAH_TEST_MODEL={} does not exist", p.display());
    p
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(data: &Path, port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_selah"))
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env_remove("SELAH_CONFIG")
        .env("SELAH_AI__OLLAMA_MODELS_DIR", "/nonexistent/selah-test-ollama")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

async fn login(http: &reqwest::Client, base: &str) -> String {
    let r: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "founder", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"].as_str().expect("login works").to_string()
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
    let data = tempfile::tempdir().unwrap();
    let models = data.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    std::os::unix::fs::symlink(test_model(), models.join("SmolLM2-135M-Instruct.Q4_1.gguf"))
        .unwrap();
    let http = reqwest::Client::new();

    let port = free_port();
    let mut server = serve(data.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    let r = http
        .post(format!("{base}/api/v1/setup/founder"))
        .json(&json!({"username": "founder", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token = login(&http, &base).await;
    let s: Value = http
        .post(format!("{base}/api/v1/chat/sessions"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sid = s["id"].as_str().unwrap().to_string();
    let mut resp = http
        .post(format!("{base}/api/v1/chat/sessions/{sid}/messages"))
        .bearer_auth(&token)
        .json(&json!({"content": "Count from 1 to 500, one number per line.",
                      "params": {"temperature": 0.0, "seed": 3, "max_tokens": 4000}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // Read a good part of the reply, then keep reading for well over one flush interval.
    let (mut buf, mut text) = (String::new(), String::new());
    while text.chars().count() < 40 {
        assert!(!read_tokens(&mut resp, &mut buf, &mut text).await, "the reply ended too soon: {text:?}");
    }
    let seen_early = text.clone();
    let until = Instant::now() + Duration::from_millis(800);
    while Instant::now() < until {
        assert!(!read_tokens(&mut resp, &mut buf, &mut text).await, "the reply ended too soon: {text:?}");
    }
    server.0.kill().unwrap(); // SIGKILL
    server.0.wait().unwrap();
    drop(resp);

    let port = free_port();
    let _server = serve(data.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    let token = login(&http, &base).await;
    let page: Value = http
        .get(format!("{base}/api/v1/chat/sessions/{sid}/messages"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let msgs = page["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2, "{page}");
    let reply = &msgs[1];
    assert_eq!(reply["status"], "incomplete", "{reply}");
    let kept = reply["content"].as_str().unwrap();
    assert!(kept.starts_with(&seen_early), "lost text the user saw: {kept:?} vs {seen_early:?}");
    assert!(text.starts_with(kept) || kept.starts_with(&text), "{kept:?} vs {text:?}");
}
