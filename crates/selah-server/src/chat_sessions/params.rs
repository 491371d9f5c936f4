//! Sampling parameters as clients send them, validated into the engine's
//! [`SamplingParams`]. Shared by the chat API and the OpenAI-compatible endpoints.

use selah_ai::SamplingParams;
use serde::Deserialize;
use utoipa::ToSchema;

/// Most tokens a reply may ask for.
pub const MAX_REPLY_TOKENS: u32 = 8192;
/// Most stop strings.
pub const MAX_STOPS: usize = 4;
/// Longest stop string, in characters.
pub const MAX_STOP_CHARS: usize = 64;

/// Sampling parameters; each absent one takes Selah's default.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatParams {
    /// 0–2; 0 picks the most likely token every time (deterministic with a seed).
    pub temperature: Option<f32>,
    /// Nucleus mass, 0 (exclusive) to 1.
    pub top_p: Option<f32>,
    /// Candidates kept, 0 (all) to 1000.
    pub top_k: Option<i32>,
    /// Penalty for repeating recent tokens, 0.5–2 (1: none).
    pub repeat_penalty: Option<f32>,
    /// Random seed.
    pub seed: Option<u32>,
    /// Most tokens to generate, 1–8192.
    pub max_tokens: Option<u32>,
    /// Up to 4 strings (1–64 characters) that end the reply.
    pub stop: Option<Vec<String>>,
}

impl ChatParams {
    /// The engine's parameters, or a message saying which value is out of range.
    pub fn validate(self) -> Result<SamplingParams, String> {
        let d = SamplingParams::default();
        let temperature = self.temperature.unwrap_or(d.temperature);
        if !(0.0..=2.0).contains(&temperature) {
            return Err("temperature must be between 0 and 2".into());
        }
        let top_p = self.top_p.unwrap_or(d.top_p);
        if !(top_p > 0.0 && top_p <= 1.0) {
            return Err("top_p must be above 0 and at most 1".into());
        }
        let top_k = self.top_k.unwrap_or(d.top_k);
        if !(0..=1000).contains(&top_k) {
            return Err("top_k must be between 0 and 1000".into());
        }
        let repeat_penalty = self.repeat_penalty.unwrap_or(d.repeat_penalty);
        if !(0.5..=2.0).contains(&repeat_penalty) {
            return Err("repeat_penalty must be between 0.5 and 2".into());
        }
        let max_tokens = self.max_tokens.unwrap_or(d.max_tokens);
        if !(1..=MAX_REPLY_TOKENS).contains(&max_tokens) {
            return Err(format!(
                "max_tokens must be between 1 and {MAX_REPLY_TOKENS}"
            ));
        }
        let stop = self.stop.unwrap_or_default();
        if stop.len() > MAX_STOPS
            || stop
                .iter()
                .any(|s| s.is_empty() || s.chars().count() > MAX_STOP_CHARS)
        {
            return Err(format!(
                "stop takes at most {MAX_STOPS} strings of 1 to {MAX_STOP_CHARS} characters"
            ));
        }
        Ok(SamplingParams {
            temperature,
            top_p,
            top_k,
            repeat_penalty,
            seed: self.seed,
            max_tokens,
            stop,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_ranges() {
        let p = ChatParams::default().validate().unwrap();
        assert_eq!(p, SamplingParams::default());
        for bad in [
            ChatParams {
                temperature: Some(2.5),
                ..Default::default()
            },
            ChatParams {
                temperature: Some(f32::NAN),
                ..Default::default()
            },
            ChatParams {
                top_p: Some(0.0),
                ..Default::default()
            },
            ChatParams {
                top_k: Some(-1),
                ..Default::default()
            },
            ChatParams {
                repeat_penalty: Some(0.1),
                ..Default::default()
            },
            ChatParams {
                max_tokens: Some(0),
                ..Default::default()
            },
            ChatParams {
                max_tokens: Some(MAX_REPLY_TOKENS + 1),
                ..Default::default()
            },
            ChatParams {
                stop: Some(vec![String::new()]),
                ..Default::default()
            },
            ChatParams {
                stop: Some(vec!["a".into(); 5]),
                ..Default::default()
            },
        ] {
            assert!(bad.clone().validate().is_err(), "{bad:?}");
        }
        let ok = ChatParams {
            temperature: Some(0.0),
            seed: Some(7),
            max_tokens: Some(16),
            stop: Some(vec!["\n\n".into()]),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!((ok.temperature, ok.seed, ok.max_tokens), (0.0, Some(7), 16));
    }
}
