//! Which backends a configuration names: `ai.ollama_url` and each `ai.openai_backends` entry.

use std::sync::Arc;

use super::{Backend, Protocol, RemoteTiming};

/// The backends a configuration names: `ai.ollama_url` as `ollama`, each
/// `ai.openai_backends` entry `name=url`. Malformed entries are skipped with a warning.
pub fn from_config(
    ai: &selah_core::config::AiConfig,
    timing: &Arc<RemoteTiming>,
) -> Vec<Arc<Backend>> {
    let mut out = Vec::new();
    if !ai.ollama_url.trim().is_empty() {
        out.push(Arc::new(Backend::new(
            "ollama",
            Protocol::Ollama,
            ai.ollama_url.trim(),
            None,
            timing.clone(),
        )));
    }
    let key = Some(ai.openai_api_key.expose().to_string());
    for entry in &ai.openai_backends {
        match entry.split_once('=') {
            Some((name, url))
                if !name.trim().is_empty()
                    && name
                        .trim()
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                    && (url.starts_with("http://") || url.starts_with("https://")) =>
            {
                out.push(Arc::new(Backend::new(
                    name.trim(),
                    Protocol::OpenAi,
                    url.trim(),
                    key.clone(),
                    timing.clone(),
                )));
            }
            _ => {
                tracing::warn!(entry = %entry, "ignoring a malformed ai.openai_backends entry (want name=http://host:port/v1)")
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_come_from_the_configuration() {
        let ai = selah_core::config::AiConfig {
            ollama_url: "http://127.0.0.1:11434/".into(),
            openai_backends: vec![
                "lm=http://127.0.0.1:1234/v1".into(),
                "broken".into(),
                "x=ftp://h".into(),
            ],
            ..Default::default()
        };
        let b = from_config(&ai, &Arc::new(RemoteTiming::default()));
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].id_prefix(), "remote-ollama:");
        assert_eq!(b[0].base, "http://127.0.0.1:11434");
        assert_eq!(b[1].id_prefix(), "openai/lm:");
    }
}
