//! The context builder: decides what each turn's prompt contains so that it fits the model's
//! window minus the reply reserve, counted with the model's own tokenizer on the *rendered*
//! chat template (not just the message contents).
//!
//! Order of priority: one system message made of the system prompt, the user's preferences,
//! retrieved passages and the rolling summary (together capped at half the budget); then as
//! many recent messages as fit, newest first. The newest message is always included; if it
//! alone is larger than what is left, it is cut from its start with a marker. When older
//! messages are left out and the stored summary does not cover them yet, the result asks the
//! caller for a summary of just those messages (plus the previous summary); the caller has the
//! model write it, stores it, and builds again. The builder itself does no I/O beyond the
//! [`Tokenizer`], so it is tested with the real SmolLM2 tokenizer over random histories.

mod cut;
mod retrieval;
mod summary;

use std::future::Future;

use serde::Serialize;

pub use retrieval::{Citation, NoRetriever, Passage, RetrievalScope, RetrieveFuture, Retriever};
pub use summary::summary_prompt;

use cut::{cut_end, cut_to_fit};

use crate::{AiError, ChatMessage, ChatRole};

/// Marker put where a message was cut.
pub const CUT_MARKER: &str = "[…earlier part cut…] ";
/// Marker put where the system part was cut.
pub const HEAD_CUT_MARKER: &str = " […]";
/// Tokens kept, beyond the summary's own, for its heading and for the few tokens a text can
/// gain when counted again after generation.
const SUMMARY_FRAMING: usize = 16;

/// The model's tokenizer and chat template.
pub trait Tokenizer: Sync {
    /// Tokens in `text` (a rendered prompt or a message's content).
    fn count_tokens(&self, text: &str) -> impl Future<Output = Result<usize, AiError>> + Send;
    /// The prompt the model sees for these messages, assistant turn opened.
    fn render_chat(
        &self,
        messages: &[ChatMessage],
    ) -> impl Future<Output = Result<String, AiError>> + Send;
}

/// A stored message, oldest first in [`ContextRequest::history`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryMessage {
    /// Its id (the summary records the newest id it covers).
    pub id: String,
    /// Speaker.
    pub role: ChatRole,
    /// Text.
    pub content: String,
}

/// A rolling summary of the oldest messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The text.
    pub text: String,
    /// Id of the newest message it covers.
    pub through: String,
}

/// Everything a prompt may be built from.
#[derive(Debug, Clone, Copy)]
pub struct ContextRequest<'a> {
    /// Instructions put first.
    pub system_prompt: Option<&'a str>,
    /// The user's preferences, already rendered as text.
    pub preferences: Option<&'a str>,
    /// Retrieved passages, most relevant first.
    pub passages: &'a [Passage],
    /// The stored rolling summary.
    pub summary: Option<&'a Summary>,
    /// The conversation, oldest first; the last message is the one being answered.
    pub history: &'a [HistoryMessage],
    /// The model's context window, in tokens.
    pub window: usize,
    /// Tokens kept free for the reply.
    pub reply_reserve: usize,
    /// Room kept for a summary about to be written (its generation's `max_tokens`).
    pub summary_reserve: usize,
}

/// Tokens per part of a built prompt (contents; `template` is the rest: roles, delimiters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PartTokens {
    /// System prompt and preferences.
    pub instructions: usize,
    /// Retrieved passages.
    pub passages: usize,
    /// The rolling summary.
    pub summary: usize,
    /// The included messages.
    pub messages: usize,
    /// Everything else in the rendered template.
    pub template: usize,
}

/// What a built prompt contains and leaves out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ContextUsage {
    /// Messages of the history included.
    pub included_messages: usize,
    /// Older messages left out.
    pub omitted_messages: usize,
    /// Whether the rolling summary (of left-out messages) is in the prompt.
    pub summarised: bool,
    /// Passages included.
    pub passages: usize,
    /// Whether the newest message had to be cut.
    pub truncated: bool,
    /// Tokens per part.
    pub tokens: PartTokens,
}

/// Messages left out that the stored summary does not cover yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryNeeded {
    /// Index range in the history (start inclusive, end exclusive).
    pub from: usize,
    /// End of the range (exclusive).
    pub to: usize,
    /// Id of the newest message to cover (the new summary's `through`).
    pub through: String,
}

/// A prompt that fits.
#[derive(Debug, Clone)]
pub struct BuiltContext {
    /// The messages to send.
    pub messages: Vec<ChatMessage>,
    /// The rendered template's token count (never above `window - reply_reserve`).
    pub prompt_tokens: usize,
    /// `window - reply_reserve`.
    pub budget: usize,
    /// What went in and what stayed out.
    pub usage: ContextUsage,
    /// Set when left-out messages need summarising.
    pub summary_needed: Option<SummaryNeeded>,
    /// Where the included passages come from, in the order the prompt numbers them.
    pub citations: Vec<Citation>,
}

/// Builds the prompt for a turn. Fails with [`AiError::ContextOverflow`] only when not even
/// the template around an empty message fits the budget.
pub async fn build_context<T: Tokenizer>(
    tok: &T,
    req: &ContextRequest<'_>,
) -> Result<BuiltContext, AiError> {
    let budget = req.window.saturating_sub(req.reply_reserve);
    let overflow = |needed| AiError::ContextOverflow {
        needed,
        window: req.window,
    };
    let Some(last) = req.history.len().checked_sub(1) else {
        return Err(AiError::Engine("nothing to answer".into()));
    };
    // How far the summary reaches (a summary whose message is gone covers nothing).
    let covered = req
        .summary
        .and_then(|s| req.history.iter().position(|m| m.id == s.through))
        .map_or(0, |i| i + 1);
    let summary = req.summary.filter(|_| covered > 0);

    let mut content_tokens = Vec::with_capacity(req.history.len());
    for m in req.history {
        content_tokens.push(tok.count_tokens(&m.content).await?);
    }

    // First try without any summary: everything may fit.
    let plain = Head::build(tok, req, None, budget / 2).await?;
    let all = render_count(tok, &plain.messages(req.history, 0)).await?;
    let (head, first, extra) = if all <= budget {
        (plain, 0, 0)
    } else {
        let head = Head::build(tok, req, summary.map(|s| s.text.as_str()), budget / 2).await?;
        let mut first = fit(tok, req.history, &content_tokens, &head, budget).await?;
        let mut extra = 0;
        if first > covered {
            // A new summary will be written: keep room for its growth.
            // …but never more than a quarter of the budget, so small windows still work.
            extra = (req.summary_reserve + SUMMARY_FRAMING)
                .saturating_sub(head.summary_tokens)
                .min(budget / 4);
            first = fit(
                tok,
                req.history,
                &content_tokens,
                &head,
                budget.saturating_sub(extra),
            )
            .await?;
        }
        (head, first, extra)
    };

    let mut messages = head.messages(req.history, first.min(last));
    let mut prompt_tokens = render_count(tok, &messages).await?;
    let mut truncated = false;
    if prompt_tokens > budget.saturating_sub(extra) {
        // Only the newest message is left and it is too large: cut it from its start.
        let limit = budget.saturating_sub(extra);
        let text = &req.history[last].content;
        let (kept, n) = cut_to_fit(tok, &mut messages, text, limit).await?;
        if n > limit {
            return Err(overflow(n + req.reply_reserve));
        }
        truncated = kept < text.len();
        prompt_tokens = n;
    }

    let first = first.min(last);
    let included = req.history.len() - first;
    let summary_needed = (first > covered).then(|| SummaryNeeded {
        from: covered,
        to: first,
        through: req.history[first - 1].id.clone(),
    });
    let messages_tokens: usize = content_tokens[first..].iter().sum();
    let parts = PartTokens {
        instructions: head.instruction_tokens,
        passages: head.passage_tokens,
        summary: head.summary_tokens,
        messages: messages_tokens,
        template: 0,
    };
    let contents = parts.instructions + parts.passages + parts.summary + parts.messages;
    Ok(BuiltContext {
        messages,
        prompt_tokens,
        budget,
        usage: ContextUsage {
            included_messages: included,
            omitted_messages: first,
            summarised: first > 0 && head.summary_tokens > 0,
            passages: head.passages,
            truncated,
            tokens: PartTokens {
                template: prompt_tokens.saturating_sub(contents),
                ..parts
            },
        },
        summary_needed,
        citations: req.passages[..head.passages]
            .iter()
            .filter_map(|p| p.citation.clone())
            .collect(),
    })
}

/// The system message and its accounting.
struct Head {
    text: Option<String>,
    passages: usize,
    instruction_tokens: usize,
    passage_tokens: usize,
    summary_tokens: usize,
}

impl Head {
    /// Composes the system message, dropping the least relevant passages and then cutting the
    /// text's end until its rendered cost is at most `cap`.
    async fn build<T: Tokenizer>(
        tok: &T,
        req: &ContextRequest<'_>,
        summary: Option<&str>,
        cap: usize,
    ) -> Result<Self, AiError> {
        let mut instructions = String::new();
        if let Some(s) = req.system_prompt.filter(|s| !s.trim().is_empty()) {
            instructions.push_str(s.trim());
        }
        if let Some(p) = req.preferences.filter(|s| !s.trim().is_empty()) {
            push_part(&mut instructions, "The user's preferences:\n", p.trim());
        }
        let summary_part = summary.map(|s| format!("Summary of the earlier conversation:\n{s}"));
        let mut passages = req.passages.len();
        loop {
            let passage_text = passages_text(&req.passages[..passages]);
            let mut text = instructions.clone();
            if !passage_text.is_empty() {
                push_part(&mut text, "", &passage_text);
            }
            if let Some(s) = &summary_part {
                push_part(&mut text, "", s);
            }
            if text.is_empty() {
                return Ok(Head::empty());
            }
            let cost = render_count(tok, &[system(&text)]).await?;
            if cost > cap && passages > 0 {
                passages -= 1;
                continue;
            }
            let text = if cost > cap {
                cut_end(tok, &text, cap).await?
            } else {
                text
            };
            return Ok(Head {
                text: Some(text),
                passages,
                instruction_tokens: tok.count_tokens(&instructions).await?,
                passage_tokens: tok.count_tokens(&passage_text).await?,
                summary_tokens: match summary {
                    Some(s) => tok.count_tokens(s).await?,
                    None => 0,
                },
            });
        }
    }

    fn empty() -> Self {
        Head {
            text: None,
            passages: 0,
            instruction_tokens: 0,
            passage_tokens: 0,
            summary_tokens: 0,
        }
    }

    /// The system message (if any) followed by `history[first..]`.
    fn messages(&self, history: &[HistoryMessage], first: usize) -> Vec<ChatMessage> {
        let mut out: Vec<ChatMessage> = self.text.iter().map(|t| system(t)).collect();
        out.extend(history[first..].iter().map(|m| ChatMessage {
            role: m.role,
            content: m.content.clone(),
        }));
        out
    }
}

fn system(text: &str) -> ChatMessage {
    ChatMessage {
        role: ChatRole::System,
        content: text.to_string(),
    }
}

fn push_part(out: &mut String, title: &str, body: &str) {
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str(title);
    out.push_str(body);
}

fn passages_text(passages: &[Passage]) -> String {
    if passages.is_empty() {
        return String::new();
    }
    let mut s = String::from("Passages from the user's documents (cite them by source):");
    for (i, p) in passages.iter().enumerate() {
        s.push_str(&format!("\n[{}] ({}) {}", i + 1, p.source, p.text));
    }
    s
}

async fn render_count<T: Tokenizer>(tok: &T, messages: &[ChatMessage]) -> Result<usize, AiError> {
    let prompt = tok.render_chat(messages).await?;
    tok.count_tokens(&prompt).await
}

/// The oldest history index such that the head plus `history[index..]` fits `limit`; the
/// newest message's index when even it alone does not fit (the caller then cuts it).
async fn fit<T: Tokenizer>(
    tok: &T,
    history: &[HistoryMessage],
    content_tokens: &[usize],
    head: &Head,
    limit: usize,
) -> Result<usize, AiError> {
    let last = history.len() - 1;
    // Contents alone already exceeding the limit bound the search from below, so the real
    // (rendered) counts are only taken over a range that can fit.
    let mut lo = history.len();
    let mut sum = 0;
    while lo > 0 && sum + content_tokens[lo - 1] <= limit {
        sum += content_tokens[lo - 1];
        lo -= 1;
    }
    let mut lo = lo.min(last);
    let mut hi = last;
    // Smallest index in [lo, hi] that fits; cost decreases as the index grows.
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if render_count(tok, &head.messages(history, mid)).await? <= limit {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(lo)
}
