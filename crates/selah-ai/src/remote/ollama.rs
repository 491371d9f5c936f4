//! Ollama's native API: `POST /api/chat` (streaming NDJSON), `GET /api/tags` (models),
//! `POST /api/show` (a model's details), `GET /api/ps` (models loaded now).

use serde_json::{Value, json};

use super::{Parsed, RemoteModel};
use crate::{ChatMessage, FinishReason, SamplingParams, TokenUsage};

/// The body of a streaming `/api/chat` request.
pub fn chat_body(model: &str, messages: &[ChatMessage], p: &SamplingParams) -> Value {
    let mut options = json!({
        "temperature": p.temperature,
        "top_p": p.top_p,
        "top_k": p.top_k,
        "repeat_penalty": p.repeat_penalty,
        "num_predict": p.max_tokens,
    });
    if let Some(seed) = p.seed {
        options["seed"] = json!(seed);
    }
    if !p.stop.is_empty() {
        options["stop"] = json!(p.stop);
    }
    json!({
        "model": model,
        "stream": true,
        "messages": messages.iter().map(|m| json!({"role": m.role.as_str(), "content": m.content})).collect::<Vec<_>>(),
        "options": options,
    })
}

/// One NDJSON line of a chat stream.
pub fn parse_line(line: &str) -> Parsed {
    let line = line.trim();
    if line.is_empty() {
        return Parsed::Skip;
    }
    let Ok(v) = serde_json::from_str::<Value>(line) else {
        return Parsed::Error("the backend sent a line that is not JSON".into());
    };
    if let Some(e) = v.get("error").and_then(Value::as_str) {
        return Parsed::Error(e.to_string());
    }
    if v.get("done").and_then(Value::as_bool) == Some(true) {
        let count = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0) as u32;
        let finish = match v.get("done_reason").and_then(Value::as_str) {
            Some("length") => FinishReason::Length,
            _ => FinishReason::Stop,
        };
        // The last line may still carry text.
        let text = content(&v);
        return Parsed::Done {
            text,
            // Ollama does not say how much of the prompt its cache served.
            usage: TokenUsage {
                prompt_tokens: count("prompt_eval_count"),
                completion_tokens: count("eval_count"),
                cached_prompt_tokens: 0,
            },
            finish,
        };
    }
    match content(&v) {
        Some(t) => Parsed::Token(t),
        None => Parsed::Skip,
    }
}

fn content(v: &Value) -> Option<String> {
    v.pointer("/message/content")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Models from `/api/tags`.
pub fn parse_tags(v: &Value) -> Vec<RemoteModel> {
    v.get("models")
        .and_then(Value::as_array)
        .map(|models| {
            models
                .iter()
                .filter_map(|m| {
                    let name = m.get("name").or_else(|| m.get("model"))?.as_str()?;
                    let d = m.get("details");
                    let s = |k: &str| {
                        d.and_then(|d| d.get(k))
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    };
                    Some(RemoteModel {
                        name: name.to_string(),
                        size: m.get("size").and_then(Value::as_u64),
                        family: s("family"),
                        quantization: s("quantization_level"),
                        parameter_size: s("parameter_size"),
                        context_length: None,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The context length in an `/api/show` answer (`model_info["<arch>.context_length"]`).
pub fn parse_show_context(v: &Value) -> Option<u32> {
    let info = v.get("model_info")?.as_object()?;
    info.iter()
        .find(|(k, _)| k.ends_with(".context_length"))
        .and_then(|(_, v)| v.as_u64())
        .map(|n| n as u32)
}

/// Names of the models loaded now, from `/api/ps`.
pub fn parse_ps(v: &Value) -> Vec<String> {
    v.get("models")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| {
                    m.get("name")
                        .or_else(|| m.get("model"))?
                        .as_str()
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tokens_the_final_line_and_errors() {
        assert_eq!(
            parse_line(
                r#"{"model":"m","message":{"role":"assistant","content":"Hi"},"done":false}"#
            ),
            Parsed::Token("Hi".into())
        );
        assert_eq!(
            parse_line(
                r#"{"message":{"role":"assistant","content":""},"done":true,"done_reason":"length","prompt_eval_count":7,"eval_count":3}"#
            ),
            Parsed::Done {
                text: None,
                usage: TokenUsage {
                    prompt_tokens: 7,
                    completion_tokens: 3,
                    cached_prompt_tokens: 0
                },
                finish: FinishReason::Length
            }
        );
        assert_eq!(
            parse_line(r#"{"error":"model not found"}"#),
            Parsed::Error("model not found".into())
        );
        assert_eq!(parse_line("  "), Parsed::Skip);
    }

    #[test]
    fn parses_tags_show_and_ps() {
        let tags = json!({"models":[{"name":"llama3:8b","size":4,"details":{"family":"llama","quantization_level":"Q4_0","parameter_size":"8B"}}]});
        let m = parse_tags(&tags);
        assert_eq!(m[0].name, "llama3:8b");
        assert_eq!(m[0].quantization.as_deref(), Some("Q4_0"));
        assert_eq!(
            parse_show_context(&json!({"model_info":{"llama.context_length":8192}})),
            Some(8192)
        );
        assert_eq!(
            parse_ps(&json!({"models":[{"name":"llama3:8b"}]})),
            ["llama3:8b"]
        );
    }

    #[test]
    fn sampling_parameters_become_ollama_options() {
        let p = SamplingParams {
            seed: Some(3),
            stop: vec!["END".into()],
            max_tokens: 9,
            ..Default::default()
        };
        let b = chat_body(
            "m",
            &[ChatMessage {
                role: crate::ChatRole::User,
                content: "hi".into(),
            }],
            &p,
        );
        assert_eq!(b["options"]["seed"], 3);
        assert_eq!(b["options"]["num_predict"], 9);
        assert_eq!(b["options"]["stop"][0], "END");
        assert_eq!(b["messages"][0]["role"], "user");
    }
}
