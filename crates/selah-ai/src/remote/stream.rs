//! Reading a backend's streamed answer: NDJSON lines (Ollama) or server-sent events (OpenAI),
//! split into lines as the chunks arrive and parsed into [`GenEvent`]s.

use super::{Parsed, Protocol, ollama, openai, short};
use crate::{FinishReason, GenEvent};

/// Splits a response body into lines and parses them.
pub(crate) struct LineStream {
    resp: reqwest::Response,
    buf: Vec<u8>,
    protocol: Protocol,
    sse: openai::SseState,
}

impl LineStream {
    /// Reads `resp` as `protocol`'s stream.
    pub(crate) fn new(resp: reqwest::Response, protocol: Protocol) -> Self {
        Self {
            resp,
            buf: Vec::new(),
            protocol,
            sse: openai::SseState::default(),
        }
    }

    /// The next meaningful event; Err when the stream fails or ends without one.
    pub(crate) async fn next_event(&mut self) -> Result<GenEvent, String> {
        loop {
            while let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                let line = String::from_utf8_lossy(&line);
                let parsed = match self.protocol {
                    Protocol::Ollama => ollama::parse_line(&line),
                    Protocol::OpenAi => openai::parse_line(&line, &mut self.sse),
                };
                match parsed {
                    Parsed::Skip => continue,
                    Parsed::Token(t) => return Ok(GenEvent::Token(t)),
                    Parsed::Error(e) => return Err(e),
                    Parsed::Done {
                        text: Some(t),
                        usage,
                        finish,
                    } => {
                        // Deliver the text now, the end on the next call.
                        let done = serde_json::json!({"done": true, "prompt_eval_count": usage.prompt_tokens,
                            "eval_count": usage.completion_tokens,
                            "done_reason": if finish == FinishReason::Length { "length" } else { "stop" }});
                        let mut rest = format!("{done}\n").into_bytes();
                        rest.extend_from_slice(&self.buf);
                        self.buf = rest;
                        return Ok(GenEvent::Token(t));
                    }
                    Parsed::Done {
                        text: None,
                        usage,
                        finish,
                    } => {
                        return Ok(GenEvent::Done { usage, finish });
                    }
                }
            }
            match self.resp.chunk().await {
                Ok(Some(bytes)) => self.buf.extend_from_slice(&bytes),
                Ok(None) => {
                    if self.buf.is_empty() {
                        return Err("the stream ended early".into());
                    }
                    self.buf.push(b'\n');
                }
                Err(e) => return Err(short(&e)),
            }
        }
    }
}
