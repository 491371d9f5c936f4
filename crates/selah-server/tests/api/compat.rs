//! The OpenAI-compatible endpoints with the real SmolLM2 model, called the way OpenAI's own
//! Python client calls them: a Python script (standard library only) sends the same requests,
//! headers and bearer key, and reads streamed chunks line by line up to `[DONE]`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::ai_support::{MODEL_ID, app_with_model};
use crate::common::*;

const CLIENT: &str = r#"
import json, sys, urllib.request, urllib.error
base, key, model = sys.argv[1], sys.argv[2], sys.argv[3]
H = {"Authorization": "Bearer " + key, "Content-Type": "application/json",
     "Accept": "application/json", "User-Agent": "OpenAI/Python 1.54.0",
     "X-Stainless-Lang": "python", "X-Stainless-Package-Version": "1.54.0"}
def call(method, path, body=None, key_ok=True):
    h = dict(H)
    if not key_ok:
        h["Authorization"] = "Bearer sk-wrong"
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, headers=h, method=method)
    try:
        return urllib.request.urlopen(req, timeout=120)
    except urllib.error.HTTPError as e:
        return e
out = {}
msgs = [{"role": "system", "content": "You are terse."},
        {"role": "user", "content": [{"type": "text", "text": "Name a fruit."}]}]
body = {"model": model, "messages": msgs, "temperature": 0, "seed": 5, "max_tokens": 12,
        "n": 1, "frequency_penalty": 0, "user": "someone"}
r = call("POST", "/v1/chat/completions", body)
out["whole"] = {"status": r.status, "body": json.load(r)}
body["stream"] = True
body["stream_options"] = {"include_usage": True}
r = call("POST", "/v1/chat/completions", body)
chunks, done = [], False
for raw in r:
    line = raw.decode().strip()
    if not line.startswith("data: "):
        continue
    data = line[len("data: "):]
    if data == "[DONE]":
        done = True
        break
    chunks.append(json.loads(data))
out["stream"] = {"status": r.status, "type": r.headers.get("content-type"), "chunks": chunks, "done": done}
del body["model"], body["stream"], body["stream_options"]
r = call("POST", "/v1/chat/completions", body)
out["default_model"] = {"status": r.status, "body": json.load(r)}
r = call("GET", "/v1/models")
out["models"] = {"status": r.status, "body": json.load(r)}
r = call("GET", "/v1/models", key_ok=False)
out["bad_key"] = {"status": r.status, "body": json.load(r)}
print(json.dumps(out))
"#;

async fn python(base: &str, key: &str, model: &str) -> Value {
    let (base, key, model) = (base.to_string(), key.to_string(), model.to_string());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .args(["-c", CLIENT, &base, &key, &model])
            .output()
            .expect("python3 runs")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn openai_python_style_client_gets_openai_shapes() {
    let app = app_with_model(|_| {}).await;
    let founder = app.founder().await;
    let key = founder.token.clone().unwrap();
    let out = python(&app.base, &key, MODEL_ID).await;

    let whole = &out["whole"];
    assert_eq!(whole["status"], 200, "{whole}");
    let b = &whole["body"];
    assert_eq!(b["object"], "chat.completion");
    assert!(b["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(b["model"], MODEL_ID);
    assert_eq!(b["choices"][0]["index"], 0);
    assert_eq!(b["choices"][0]["message"]["role"], "assistant");
    let text = b["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(!text.is_empty());
    assert!(["stop", "length"].contains(&b["choices"][0]["finish_reason"].as_str().unwrap()));
    let u = &b["usage"];
    assert!(u["prompt_tokens"].as_u64().unwrap() > 0);
    assert!(u["completion_tokens"].as_u64().unwrap() <= 12);
    assert_eq!(
        u["total_tokens"].as_u64().unwrap(),
        u["prompt_tokens"].as_u64().unwrap() + u["completion_tokens"].as_u64().unwrap()
    );

    // The stream carries the same text (same seed, temperature 0), then usage, then [DONE].
    let s = &out["stream"];
    assert_eq!(s["status"], 200);
    assert!(s["type"].as_str().unwrap().starts_with("text/event-stream"));
    assert_eq!(s["done"], true);
    let chunks = s["chunks"].as_array().unwrap();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let streamed: String = chunks
        .iter()
        .filter_map(|c| c["choices"].get(0))
        .filter_map(|c| c["delta"]["content"].as_str())
        .collect();
    assert_eq!(streamed, text);
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    let finish: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"].get(0))
        .map(|c| &c["finish_reason"])
        .filter(|f| !f.is_null())
        .collect();
    assert_eq!(finish.len(), 1);
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    let lu = &last["usage"];
    for k in ["prompt_tokens", "completion_tokens", "total_tokens"] {
        assert_eq!(lu[k], u[k], "{k}");
    }
    // OpenAI's `prompt_tokens_details.cached_tokens`: none for a seeded request, which computes
    // its prompt whole even though the same prompt just ran (its answer depends on it alone).
    let cached = |u: &Value| {
        u["prompt_tokens_details"]["cached_tokens"]
            .as_u64()
            .unwrap()
    };
    assert_eq!((cached(u), cached(lu)), (0, 0), "{u} {lu}");

    // No model: the caller's default.
    assert_eq!(out["default_model"]["status"], 200);
    assert_eq!(out["default_model"]["body"]["model"], MODEL_ID);

    let m = &out["models"];
    assert_eq!(m["status"], 200);
    assert_eq!(m["body"]["object"], "list");
    let ids: Vec<&str> = m["body"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            assert_eq!(d["object"], "model");
            d["id"].as_str().unwrap()
        })
        .collect();
    assert!(ids.contains(&MODEL_ID), "{ids:?}");

    let bad = &out["bad_key"];
    assert_eq!(bad["status"], 401);
    assert_eq!(bad["body"]["error"]["type"], "authentication_error");
    assert!(bad["body"]["error"]["message"].as_str().is_some());
    app.stop().await;
}

fn assert_openai_error(r: &Resp, status: StatusCode, kind: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    let e = &r.body["error"];
    assert_eq!(e["type"], kind, "{}", r.text);
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(
        e.get("param").is_some() && e.get("code").is_some(),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn bad_requests_get_openai_errors() {
    let app = app_with_model(|_| {}).await;
    let founder = app.founder().await;
    let guest = app.user_with_role(&founder, "visitor", "guest").await;
    let p = "/v1/chat/completions";
    let hi = json!([{"role": "user", "content": "hi"}]);
    for body in [
        json!({"messages": []}),
        json!({"messages": hi, "n": 2}),
        json!({"messages": hi, "temperature": 9}),
        json!({"messages": hi, "seed": -1}),
        json!({"messages": [{"role": "tool", "content": "x"}]}),
        json!({"model": MODEL_ID}),
        json!({"messages": "hi"}),
    ] {
        assert_openai_error(
            &founder.post(p, body).await,
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
        );
    }
    let r = founder
        .post(p, json!({"model": "local:none", "messages": hi}))
        .await;
    assert_openai_error(&r, StatusCode::NOT_FOUND, "invalid_request_error");
    // Not JSON at all.
    let raw = founder
        .http
        .post(format!("{}{p}", founder.base))
        .bearer_auth(founder.token.as_ref().unwrap())
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    let body: Value = raw.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    // Longer than the window.
    let long = json!([{"role": "user", "content": "word ".repeat(5000)}]);
    let r = founder.post(p, json!({"messages": long})).await;
    assert_openai_error(&r, StatusCode::BAD_REQUEST, "invalid_request_error");
    // No token; a guest (who has chat.use) may.
    assert_openai_error(
        &app.client().post(p, json!({"messages": hi})).await,
        StatusCode::UNAUTHORIZED,
        "authentication_error",
    );
    assert_openai_error(
        &app.client().get("/v1/models").await,
        StatusCode::UNAUTHORIZED,
        "authentication_error",
    );
    let r = guest
        .post(
            p,
            json!({"messages": hi, "max_tokens": 2, "temperature": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // Without chat.use: 403 in OpenAI's shape.
    let gid = guest.get("/api/v1/auth/me").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    founder
        .post(
            "/api/v1/auth/step-up",
            json!({"password": FOUNDER_PASSWORD}),
        )
        .await;
    let r = founder
        .put(
            &format!("/api/v1/admin/users/{gid}/permissions"),
            json!({"grants": [], "denials": ["chat.use"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_openai_error(
        &guest.post(p, json!({"messages": hi})).await,
        StatusCode::FORBIDDEN,
        "permission_error",
    );
    assert_openai_error(
        &guest.get("/v1/models").await,
        StatusCode::FORBIDDEN,
        "permission_error",
    );
    app.stop().await;
}
