//! The prompt for a rolling summary.

use super::{CUT_MARKER, HistoryMessage, system};
use crate::{ChatMessage, ChatRole};

/// The prompt that asks the model to fold `messages` into `previous`, as chat messages. The
/// transcript is cut from its start to `max_chars` so the request itself stays small.
pub fn summary_prompt(
    previous: Option<&str>,
    messages: &[HistoryMessage],
    max_chars: usize,
) -> Vec<ChatMessage> {
    let mut transcript = String::new();
    for m in messages {
        transcript.push_str(m.role.as_str());
        transcript.push_str(": ");
        transcript.push_str(m.content.trim());
        transcript.push('\n');
    }
    if transcript.len() > max_chars {
        let mut start = transcript.len() - max_chars;
        while !transcript.is_char_boundary(start) {
            start += 1;
        }
        transcript = format!("{CUT_MARKER}{}", &transcript[start..]);
    }
    let mut user = String::new();
    if let Some(p) = previous.filter(|p| !p.trim().is_empty()) {
        user.push_str("Summary so far:\n");
        user.push_str(p.trim());
        user.push_str("\n\n");
    }
    user.push_str("Conversation to add:\n");
    user.push_str(&transcript);
    user.push_str("\nWrite the updated summary.");
    vec![
        system(
            "You keep a short running summary of a conversation. Keep names, facts, decisions \
             and open questions; drop small talk. Answer with the summary only, in a few sentences.",
        ),
        ChatMessage {
            role: ChatRole::User,
            content: user,
        },
    ]
}
