//! The context builder against the real SmolLM2 tokenizer and chat template: over long random
//! histories (with system prompts, preferences, passages, summaries and oversized messages),
//! the built prompt's real token count never exceeds the window minus the reply reserve.
//!
//! The model file comes from `SELAH_TEST_MODEL` (the Makefile's test target sets it); the test
//! fails, never skips, when it is missing.

use std::future::Future;
use std::sync::OnceLock;

use proptest::prelude::*;
use selah_ai::context::{
    CUT_MARKER, ContextRequest, HistoryMessage, Passage, Summary, Tokenizer, build_context,
};
use selah_ai::engine::{EngineOptions, LocalModel};
use selah_ai::{AiError, ChatMessage, ChatRole};

fn model() -> &'static LocalModel {
    static MODEL: OnceLock<LocalModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let path = std::env::var("SELAH_TEST_MODEL").expect(
            "SELAH_TEST_MODEL must name the SmolLM2 GGUF (run scripts/fetch-models.sh; `make test` sets it)",
        );
        let opts = EngineOptions {
            threads: 1,
            batch_threads: 1,
            context_size: 2048,
            max_sequences: 1,
            ..EngineOptions::default()
        };
        LocalModel::load(std::path::Path::new(&path), &opts)
            .unwrap_or_else(|e| panic!("cannot load the test model {path}: {e}"))
    })
}

/// The real model's tokenizer, called directly (it is synchronous and fast).
struct Real;

impl Tokenizer for Real {
    fn count_tokens(&self, text: &str) -> impl Future<Output = Result<usize, AiError>> + Send {
        std::future::ready(model().count_tokens(text))
    }
    fn render_chat(
        &self,
        messages: &[ChatMessage],
    ) -> impl Future<Output = Result<String, AiError>> + Send {
        std::future::ready(model().render_chat(messages))
    }
}

fn run<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn text(max_words: usize) -> impl Strategy<Value = String> {
    let word = prop_oneof![
        "[a-z]{1,10}",
        "[A-Z][a-z]{0,8}[.,!?]?",
        "[0-9]{1,6}",
        "[éüßçøå]{1,4}",
        "[\u{4e00}-\u{4e2f}]{1,3}",
        Just("\n".to_string()),
        Just("<|im_end|>".to_string()),
    ];
    prop::collection::vec(word, 0..max_words).prop_map(|w| w.join(" "))
}

fn history() -> impl Strategy<Value = Vec<HistoryMessage>> {
    // Mostly ordinary messages, sometimes a huge one.
    let content = prop_oneof![8 => text(60), 1 => text(3000)];
    prop::collection::vec(content, 1..90).prop_map(|contents| {
        contents
            .into_iter()
            .enumerate()
            .map(|(i, content)| HistoryMessage {
                id: format!("m{i:04}"),
                role: if i % 2 == 0 {
                    ChatRole::User
                } else {
                    ChatRole::Assistant
                },
                content,
            })
            .collect()
    })
}

#[derive(Debug, Clone)]
struct Case {
    system: Option<String>,
    prefs: Option<String>,
    passages: Vec<Passage>,
    summary: Option<(String, usize)>,
    history: Vec<HistoryMessage>,
    window: usize,
    reserve: usize,
    summary_reserve: usize,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::option::of(text(400)),
        prop::option::of(text(80)),
        prop::collection::vec((text(4), text(300)), 0..5),
        prop::option::of((text(200), any::<prop::sample::Index>())),
        history(),
        256usize..2048,
        0usize..100,
        0usize..400,
    )
        .prop_map(
            |(system, prefs, passages, summary, history, window, reserve_pct, summary_reserve)| {
                let summary = summary.map(|(t, i)| (t, i.index(history.len())));
                Case {
                    system,
                    prefs,
                    passages: passages
                        .into_iter()
                        .map(|(source, text)| Passage {
                            source,
                            text,
                            citation: None,
                        })
                        .collect(),
                    summary,
                    // The reserve leaves at least 160 tokens: room for the template itself.
                    reserve: (window - 160) * reserve_pct / 100,
                    history,
                    window,
                    summary_reserve,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn built_prompt_never_exceeds_the_budget(c in case()) {
        let summary = c.summary.as_ref().map(|(text, i)| Summary {
            text: text.clone(),
            through: c.history[*i].id.clone(),
        });
        let req = ContextRequest {
            system_prompt: c.system.as_deref(),
            preferences: c.prefs.as_deref(),
            passages: &c.passages,
            summary: summary.as_ref(),
            history: &c.history,
            window: c.window,
            reply_reserve: c.reserve,
            summary_reserve: c.summary_reserve,
        };
        let built = run(build_context(&Real, &req)).expect("a budget of 160+ tokens always fits");
        let budget = c.window - c.reserve;
        let rendered = model().render_chat(&built.messages).unwrap();
        let real = model().count_tokens(&rendered).unwrap();
        prop_assert!(real <= budget, "{real} tokens > budget {budget}");
        prop_assert_eq!(real, built.prompt_tokens);

        // The included messages are the newest ones, in order; only the newest may be cut.
        let u = &built.usage;
        prop_assert_eq!(u.included_messages + u.omitted_messages, c.history.len());
        let head = built.messages.len() - u.included_messages;
        prop_assert!(head <= 1, "at most one system message leads");
        let tail: Vec<&ChatMessage> = built.messages.iter().skip(head).collect();
        let newest = &c.history[c.history.len() - 1].content;
        let sent = &tail[tail.len() - 1].content;
        if u.truncated {
            let rest = sent.strip_prefix(CUT_MARKER).expect("cut messages carry the marker");
            prop_assert!(newest.ends_with(rest));
        } else {
            prop_assert_eq!(sent, newest);
        }
        for (m, h) in tail.iter().zip(&c.history[u.omitted_messages..]).take(tail.len() - 1) {
            prop_assert_eq!(&m.content, &h.content);
        }

        // Left-out messages beyond the summary's reach are asked for, exactly.
        let covered = c.summary.as_ref().map_or(0, |(_, i)| i + 1);
        match &built.summary_needed {
            Some(n) => {
                prop_assert_eq!(n.from, covered);
                prop_assert_eq!(n.to, u.omitted_messages);
                prop_assert_eq!(&n.through, &c.history[n.to - 1].id);
            }
            None => prop_assert!(u.omitted_messages <= covered),
        }
    }
}

/// A short conversation fits whole, with nothing to summarise.
#[test]
fn short_history_is_sent_whole() {
    let history: Vec<HistoryMessage> = ["Hello!", "Hi, how can I help?", "What is 2 + 2?"]
        .iter()
        .enumerate()
        .map(|(i, t)| HistoryMessage {
            id: i.to_string(),
            role: if i % 2 == 0 {
                ChatRole::User
            } else {
                ChatRole::Assistant
            },
            content: t.to_string(),
        })
        .collect();
    let req = ContextRequest {
        system_prompt: Some("Be brief."),
        preferences: Some("tone: friendly"),
        passages: &[],
        summary: None,
        history: &history,
        window: 2048,
        reply_reserve: 512,
        summary_reserve: 128,
    };
    let built = run(build_context(&Real, &req)).unwrap();
    assert_eq!(built.usage.included_messages, 3);
    assert_eq!(built.usage.omitted_messages, 0);
    assert!(built.summary_needed.is_none());
    assert_eq!(built.messages.len(), 4);
    assert_eq!(built.messages[0].role, ChatRole::System);
    assert!(
        built.messages[0].content.contains("Be brief.")
            && built.messages[0].content.contains("tone: friendly")
    );
    let expected = model()
        .count_tokens(&model().render_chat(&built.messages).unwrap())
        .unwrap();
    assert_eq!(built.prompt_tokens, expected);
}

fn turns(contents: &[String]) -> Vec<HistoryMessage> {
    contents
        .iter()
        .enumerate()
        .map(|(i, c)| HistoryMessage {
            id: format!("m{i:04}"),
            role: if i % 2 == 0 {
                ChatRole::User
            } else {
                ChatRole::Assistant
            },
            content: c.clone(),
        })
        .collect()
}

/// Both edge paths, on purpose: an oversized newest message is cut from its start with the
/// marker, and older messages that no longer fit are asked to be summarised.
#[test]
fn oversized_message_is_cut_and_dropped_messages_need_a_summary() {
    let huge: String = (0..3000).map(|i| format!("w{i} ")).collect();
    let history = turns(std::slice::from_ref(&huge));
    let req = ContextRequest {
        system_prompt: None,
        preferences: None,
        passages: &[],
        summary: None,
        history: &history,
        window: 512,
        reply_reserve: 128,
        summary_reserve: 64,
    };
    let built = run(build_context(&Real, &req)).unwrap();
    assert!(built.usage.truncated);
    assert!(
        built.prompt_tokens <= 384 && built.prompt_tokens > 300,
        "{}",
        built.prompt_tokens
    );
    let sent = &built.messages.last().unwrap().content;
    assert!(sent.starts_with(CUT_MARKER) && huge.ends_with(&sent[CUT_MARKER.len()..]));

    let many: Vec<String> = (0..40)
        .map(|i| format!("Message number {i} about the harbour and its boats."))
        .collect();
    let history = turns(&many);
    let summary = Summary {
        text: "Earlier: greetings.".into(),
        through: "m0004".into(),
    };
    let req = ContextRequest {
        history: &history,
        summary: Some(&summary),
        ..req
    };
    let built = run(build_context(&Real, &req)).unwrap();
    let u = &built.usage;
    assert!(u.omitted_messages > 5 && u.included_messages >= 2, "{u:?}");
    assert!(u.summarised && u.tokens.summary > 0);
    let need = built
        .summary_needed
        .expect("dropped messages past the summary");
    assert_eq!((need.from, need.to), (5, u.omitted_messages));
    assert!(built.prompt_tokens <= 384);
}
