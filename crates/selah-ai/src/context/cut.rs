//! Cutting text to fit: the newest message from its start, the system part from its end.

use super::{CUT_MARKER, HEAD_CUT_MARKER, Tokenizer, render_count, system};
use crate::{AiError, ChatMessage};

/// Replaces the last message's content with the longest end of `text` (after [`CUT_MARKER`])
/// whose rendering fits `limit`. Returns the bytes kept and the final rendered count.
pub(super) async fn cut_to_fit<T: Tokenizer>(
    tok: &T,
    messages: &mut [ChatMessage],
    text: &str,
    limit: usize,
) -> Result<(usize, usize), AiError> {
    let starts: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let idx = messages.len() - 1;
    let set = |messages: &mut [ChatMessage], start: usize| {
        messages[idx].content = if start == 0 {
            text.to_string()
        } else {
            format!("{CUT_MARKER}{}", &text[start..])
        };
    };
    // Smallest cut point whose rendering fits (later cut points keep less text).
    let (mut lo, mut hi) = (1.min(starts.len() - 1), starts.len() - 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        set(messages, starts[mid]);
        if render_count(tok, messages).await? <= limit {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    set(messages, starts[lo]);
    let n = render_count(tok, messages).await?;
    Ok((text.len() - starts[lo], n))
}

/// The longest start of `text` (followed by [`HEAD_CUT_MARKER`]) whose rendering as a system
/// message fits `cap`.
pub(super) async fn cut_end<T: Tokenizer>(
    tok: &T,
    text: &str,
    cap: usize,
) -> Result<String, AiError> {
    let ends: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let with = |end: usize| format!("{}{HEAD_CUT_MARKER}", &text[..end]);
    let (mut lo, mut hi) = (0, ends.len().saturating_sub(1));
    // Largest end that fits; cost grows with the end.
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if render_count(tok, &[system(&with(ends[mid]))]).await? <= cap {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Ok(with(ends.get(lo).copied().unwrap_or(0)))
}
