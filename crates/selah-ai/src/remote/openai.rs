//! The OpenAI-compatible API (llama.cpp server, vLLM, LM Studio): `POST /chat/completions`
//! with server-sent events, `GET /models`, both under the backend's base URL (which includes
//! `/v1`).

use serde_json::{Value, json};

use super::{Parsed, RemoteModel};
use crate::{ChatMessage, FinishReason, SamplingParams, TokenUsage};

/// The body of a streaming chat completion request (usage asked for in the last chunk).
pub fn chat_body(model: &str, messages: &[ChatMessage], p: &SamplingParams) -> Value {
    let mut b = json!({
        "model": model,
        "stream": true,
        "stream_options": {"include_usage": true},
        "messages": messages.iter().map(|m| json!({"role": m.role.as_str(), "content": m.content})).collect::<Vec<_>>(),
        "temperature": p.temperature,
        "top_p": p.top_p,
        "max_tokens": p.max_tokens,
    });
    if p.top_k > 0 {
        b["top_k"] = json!(p.top_k);
    }
    if let Some(seed) = p.seed {
        b["seed"] = json!(seed);
    }
    if !p.stop.is_empty() {
        b["stop"] = json!(p.stop);
    }
    b
}

/// The state carried across SSE lines: the finish reason arrives before the usage chunk.
#[derive(Debug, Default)]
pub struct SseState {
    finish: Option<FinishReason>,
    usage: TokenUsage,
}

/// One line of the SSE stream.
pub fn parse_line(line: &str, st: &mut SseState) -> Parsed {
    let line = line.trim();
    let Some(data) = line.strip_prefix("data:").map(str::trim) else {
        return Parsed::Skip; // comments, `event:` lines, blank separators
    };
    if data == "[DONE]" {
        return Parsed::Done {
            text: None,
            usage: st.usage,
            finish: st.finish.unwrap_or(FinishReason::Stop),
        };
    }
    let Ok(v) = serde_json::from_str::<Value>(data) else {
        return Parsed::Error("the backend sent an event that is not JSON".into());
    };
    if let Some(e) = v.get("error") {
        let msg = e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("backend error");
        return Parsed::Error(msg.to_string());
    }
    if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
        let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0) as u32;
        st.usage = TokenUsage {
            prompt_tokens: n("prompt_tokens"),
            completion_tokens: n("completion_tokens"),
            cached_prompt_tokens: u
                .pointer("/prompt_tokens_details/cached_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0) as u32,
        };
    }
    let choice = v.pointer("/choices/0");
    if let Some(reason) = choice
        .and_then(|c| c.get("finish_reason"))
        .and_then(Value::as_str)
    {
        st.finish = Some(if reason == "length" {
            FinishReason::Length
        } else {
            FinishReason::Stop
        });
    }
    match choice
        .and_then(|c| c.pointer("/delta/content"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(t) => Parsed::Token(t.to_string()),
        None => Parsed::Skip,
    }
}

/// Models from `/models`. Context lengths are taken where servers add them (vLLM's
/// `max_model_len`, LM Studio's `max_context_length`, llama.cpp's `meta.n_ctx_train`).
pub fn parse_models(v: &Value) -> Vec<RemoteModel> {
    v.get("data")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| {
                    let name = m.get("id")?.as_str()?.to_string();
                    let ctx = ["max_model_len", "max_context_length", "context_length"]
                        .iter()
                        .find_map(|k| m.get(*k).and_then(Value::as_u64))
                        .or_else(|| m.pointer("/meta/n_ctx_train").and_then(Value::as_u64));
                    Some(RemoteModel {
                        name,
                        size: None,
                        family: None,
                        quantization: None,
                        parameter_size: None,
                        context_length: ctx.map(|n| n as u32),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_deltas_finish_usage_and_done() {
        let mut st = SseState::default();
        assert_eq!(parse_line(": keep-alive", &mut st), Parsed::Skip);
        assert_eq!(
            parse_line(
                r#"data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}"#,
                &mut st
            ),
            Parsed::Token("Hel".into())
        );
        assert_eq!(
            parse_line(
                r#"data: {"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#,
                &mut st
            ),
            Parsed::Skip
        );
        assert_eq!(
            parse_line(
                r#"data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#,
                &mut st
            ),
            Parsed::Skip
        );
        assert_eq!(
            parse_line("data: [DONE]", &mut st),
            Parsed::Done {
                text: None,
                usage: TokenUsage {
                    prompt_tokens: 5,
                    completion_tokens: 2,
                    cached_prompt_tokens: 0
                },
                finish: FinishReason::Length
            }
        );
    }

    #[test]
    fn parses_models_with_context_lengths_where_given() {
        let m = parse_models(
            &json!({"object":"list","data":[{"id":"qwen","max_model_len":32768},{"id":"plain"}]}),
        );
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].context_length, Some(32768));
        assert_eq!(m[1].context_length, None);
    }
}
