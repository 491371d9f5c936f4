//! The embedded engine against the real SmolLM2-135M-Instruct model (path in `SELAH_TEST_MODEL`,
//! set by `make test`; `scripts/fetch-models.sh` fetches it). These tests fail, never skip, when
//! the model is missing.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use selah_ai::{
    AiError, ChatMessage, ChatRole, EngineOptions, FinishReason, GenEvent, LocalModel,
    SamplingParams, TokenUsage,
};
use tokio::sync::mpsc::Receiver;

fn model_path() -> PathBuf {
    let path = std::env::var_os("SELAH_TEST_MODEL")
        .map(PathBuf::from)
        .expect(
            "SELAH_TEST_MODEL is not set: run `make test`, or `scripts/fetch-models.sh` and export \
         SELAH_TEST_MODEL=<the path it prints>",
        );
    assert!(
        path.is_file(),
        "SELAH_TEST_MODEL={} does not exist: run scripts/fetch-models.sh",
        path.display()
    );
    path
}

/// One thread per model: tests run in parallel on a 2-core machine, and llama.cpp's spinning
/// thread barrier collapses when its threads compete for cores (see docs/BENCHMARKS.md, "LLM").
fn opts(max_sequences: u32) -> EngineOptions {
    EngineOptions {
        threads: 1,
        batch_threads: 1,
        context_size: 1024,
        max_sequences,
        ..EngineOptions::default()
    }
}

fn load(opts: &EngineOptions) -> LocalModel {
    LocalModel::load(&model_path(), opts).expect("the test model loads")
}

/// One model shared by the tests that do not watch `active_sequences`.
fn shared() -> &'static LocalModel {
    static MODEL: OnceLock<LocalModel> = OnceLock::new();
    MODEL.get_or_init(|| load(&opts(4)))
}

fn prompt(model: &LocalModel, question: &str) -> String {
    model
        .render_chat(&[ChatMessage {
            role: ChatRole::User,
            content: question.into(),
        }])
        .expect("renders")
}

fn greedy(max_tokens: u32) -> SamplingParams {
    SamplingParams {
        temperature: 0.0,
        seed: Some(42),
        max_tokens,
        ..SamplingParams::default()
    }
}

/// Everything a generation produced.
#[derive(Debug)]
struct Run {
    pieces: Vec<String>,
    usage: TokenUsage,
    finish: FinishReason,
}

impl Run {
    fn text(&self) -> String {
        self.pieces.concat()
    }
}

async fn collect(mut rx: Receiver<GenEvent>) -> Run {
    let mut pieces = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("generation finishes");
        match ev.expect("the stream ends with Done") {
            GenEvent::Token(t) => pieces.push(t),
            GenEvent::Done { usage, finish } => {
                return Run {
                    pieces,
                    usage,
                    finish,
                };
            }
            GenEvent::Error(e) => panic!("generation failed: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_tokens_then_done() {
    let m = shared();
    let p = prompt(m, "What is the capital of France?");
    let run = collect(m.generate(p, greedy(24))).await;
    assert!(run.pieces.len() > 1, "streamed in pieces: {run:?}");
    assert!(run.pieces.iter().all(|p| !p.is_empty()));
    assert!(
        run.text().contains("Paris"),
        "a real answer: {:?}",
        run.text()
    );
    assert!(run.usage.completion_tokens >= run.pieces.len() as u32);
    assert!(matches!(
        run.finish,
        FinishReason::Stop | FinishReason::Length
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greedy_with_seed_is_identical_run_to_run_and_across_concurrent_sequences() {
    let m = shared();
    let p = prompt(m, "Write a short poem about the sea.");
    let a = collect(m.generate(p.clone(), greedy(40))).await;
    let b = collect(m.generate(p.clone(), greedy(40))).await;
    assert_eq!(a.text(), b.text());
    assert_eq!(a.usage, b.usage);
    let (c, d) = tokio::join!(
        collect(m.generate(p.clone(), greedy(40))),
        collect(m.generate(p.clone(), greedy(40)))
    );
    assert_eq!(c.text(), d.text(), "two sequences batched together agree");
    assert_eq!(a.text(), c.text(), "batched output equals the solo output");
    // Sampling with the same seed is reproducible too.
    let hot = SamplingParams {
        temperature: 0.9,
        seed: Some(7),
        max_tokens: 30,
        ..Default::default()
    };
    let e = collect(m.generate(p.clone(), hot.clone())).await;
    let f = collect(m.generate(p.clone(), hot)).await;
    assert_eq!(e.text(), f.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_strings_end_the_reply_before_the_stop() {
    let m = shared();
    let p = prompt(m, "List three colours of the rainbow, one per line.");
    let full = collect(m.generate(p.clone(), greedy(48))).await.text();
    // A stop string from the middle of the real reply, likely spanning a token boundary.
    let chars: Vec<char> = full.chars().collect();
    assert!(chars.len() > 20, "reply long enough to cut: {full:?}");
    let stop: String = chars[10..14].iter().collect();
    let expected = &full[..full.find(&stop).expect("stop occurs")];
    let params = SamplingParams {
        stop: vec![stop.clone()],
        ..greedy(48)
    };
    let run = collect(m.generate(p, params)).await;
    assert_eq!(run.text(), expected, "cut before {stop:?}");
    assert_eq!(run.finish, FinishReason::Stop);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_tokens_ends_with_length() {
    let m = shared();
    let p = prompt(m, "Tell me a long story about a dragon.");
    let run = collect(m.generate(p, greedy(5))).await;
    assert_eq!(run.usage.completion_tokens, 5);
    assert_eq!(run.finish, FinishReason::Length);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_context_window_ends_with_length() {
    let m = load(&EngineOptions {
        threads: 1,
        batch_threads: 1,
        context_size: 64,
        max_sequences: 1,
        ..EngineOptions::default()
    });
    assert_eq!(m.context_window(), 64);
    let p = prompt(&m, "Tell me a long story about a dragon and a knight.");
    let run = collect(m.generate(p, greedy(1000))).await;
    assert_eq!(run.finish, FinishReason::Length);
    assert_eq!(run.usage.prompt_tokens + run.usage.completion_tokens, 64);
    // A prompt that cannot fit is refused, not truncated.
    let long = prompt(&m, &"many words here ".repeat(40));
    let mut rx = m.generate(long, greedy(10));
    match rx.recv().await {
        Some(GenEvent::Error(e)) => assert!(e.contains("window is 64"), "{e}"),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_receiver_cancels_and_frees_the_sequence() {
    let m = load(&opts(2));
    let p = prompt(&m, "Tell me a very long story about a dragon.");
    let mut rx = m.generate(p.clone(), greedy(2000));
    assert!(matches!(rx.recv().await, Some(GenEvent::Token(_))));
    assert_eq!(m.active_sequences(), 1);
    drop(rx);
    let start = Instant::now();
    while m.active_sequences() > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "sequence still active after 2 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The freed slot serves a new generation, and its KV cells were cleared: same output as
    // a fresh model would give.
    let run = collect(m.generate(p.clone(), greedy(12))).await;
    let fresh = collect(shared().generate(p, greedy(12))).await;
    assert_eq!(run.text(), fresh.text());
}

/// The conversation so far, rendered with the chat template.
fn conversation(model: &LocalModel, turns: &[(ChatRole, &str)]) -> String {
    let messages: Vec<ChatMessage> = turns
        .iter()
        .map(|(role, content)| ChatMessage {
            role: *role,
            content: (*content).into(),
        })
        .collect();
    model.render_chat(&messages).expect("renders")
}

/// Greedy in effect (top-k 1), but unseeded and above temperature 0: a request that may use the
/// prompt cache.
fn argmax(max_tokens: u32) -> SamplingParams {
    SamplingParams {
        temperature: 0.7,
        top_k: 1,
        seed: None,
        max_tokens,
        ..SamplingParams::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_turn_computes_only_what_is_new_and_reproducible_requests_compute_it_all() {
    let warm = load(&opts(2));
    let q1 = "Name three rivers in Europe.";
    let first_prompt = conversation(&warm, &[(ChatRole::User, q1)]);
    let first = collect(warm.generate(first_prompt.clone(), argmax(32))).await;
    assert_eq!(
        first.usage.cached_prompt_tokens, 0,
        "a cold slot computes it all"
    );
    let reply = first.text();
    let turns = [
        (ChatRole::User, q1),
        (ChatRole::Assistant, reply.as_str()),
        (ChatRole::User, "Which of them is the longest?"),
    ];
    let second_prompt = conversation(&warm, &turns);
    let second = collect(warm.generate(second_prompt.clone(), argmax(32))).await;
    // Everything up to the first reply is shared; at least the first prompt is not computed
    // again (the reply's tokens may re-tokenize differently where they are cut).
    let first_len = warm.count_tokens(&first_prompt).unwrap() as u32;
    assert!(
        second.usage.cached_prompt_tokens >= first_len - 1
            && second.usage.cached_prompt_tokens < second.usage.prompt_tokens,
        "{:?} after a first prompt of {first_len}",
        second.usage
    );
    assert!(!second.text().is_empty());
    // A reproducible request for the same conversation ignores the warm slot: the same answer
    // as an engine that never ran anything.
    let cold = load(&opts(1));
    let repro = collect(warm.generate(second_prompt.clone(), greedy(32))).await;
    let expected = collect(cold.generate(second_prompt.clone(), greedy(32))).await;
    assert_eq!(repro.usage.cached_prompt_tokens, 0);
    assert_eq!(repro.text(), expected.text());
    assert_eq!(repro.usage, expected.usage);
    // An unrelated question shares only what the template puts first; the slot's cells after
    // that are cut away, and the answer is the one computed from scratch.
    let other = conversation(&warm, &[(ChatRole::User, "What is two plus two?")]);
    let reused = collect(warm.generate(other.clone(), argmax(16))).await;
    let fresh = collect(load(&opts(1)).generate(other.clone(), greedy(16))).await;
    let other_len = warm.count_tokens(&other).unwrap() as u32;
    assert!(
        reused.usage.cached_prompt_tokens > 0 && reused.usage.cached_prompt_tokens + 3 < other_len,
        "{:?} of {other_len}",
        reused.usage
    );
    assert_eq!(reused.text(), fresh.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_prompt_cache_off_every_prompt_is_computed_whole() {
    let on = load(&opts(1));
    let off = load(&EngineOptions {
        prompt_cache: false,
        ..opts(1)
    });
    let p = prompt(&on, "Name a colour.");
    for m in [&on, &off] {
        collect(m.generate(p.clone(), argmax(4))).await;
    }
    let len = on.count_tokens(&p).unwrap() as u32;
    let again_on = collect(on.generate(p.clone(), argmax(4))).await;
    let again_off = collect(off.generate(p, argmax(4))).await;
    assert_eq!(again_on.usage.cached_prompt_tokens, len - 1);
    assert_eq!(again_off.usage.cached_prompt_tokens, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_concurrent_generations_complete_and_interleave() {
    let m = Arc::new(load(&opts(4)));
    let arrivals: Arc<Mutex<Vec<usize>>> = Arc::default();
    let questions = [
        "Count from one to twenty in words.",
        "Describe a forest in detail.",
        "Explain how rain forms.",
        "Write a story about a cat.",
    ];
    let mut tasks = Vec::new();
    for (i, q) in questions.iter().enumerate() {
        let mut rx = m.generate(prompt(&m, q), greedy(24));
        let arrivals = arrivals.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                match rx.recv().await.expect("stream ends with Done") {
                    GenEvent::Token(_) => arrivals.lock().unwrap().push(i),
                    GenEvent::Done { usage, .. } => return usage,
                    GenEvent::Error(e) => panic!("{e}"),
                }
            }
        }));
    }
    for t in tasks {
        let usage = t.await.unwrap();
        assert!(usage.completion_tokens > 3, "{usage:?}");
    }
    let order = arrivals.lock().unwrap().clone();
    let first = |i: usize| order.iter().position(|&x| x == i).unwrap();
    let last = |i: usize| order.iter().rposition(|&x| x == i).unwrap();
    // Interleaved: every stream got its first token before any stream got its last.
    let latest_first = (0..4).map(first).max().unwrap();
    let earliest_last = (0..4).map(last).min().unwrap();
    assert!(
        latest_first < earliest_last,
        "streams ran one after another: {order:?}"
    );
    assert_eq!(m.active_sequences(), 0);
}

#[test]
fn non_gguf_and_truncated_files_fail_to_load_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.gguf");
    std::fs::write(&text, "just some text, not a model").unwrap();
    match LocalModel::load(&text, &opts(1)) {
        Err(AiError::BadModel(reason)) => assert!(reason.contains("not a GGUF"), "{reason}"),
        other => panic!("expected BadModel, got {other:?}"),
    }
    let real = std::fs::read(model_path()).unwrap();
    // Cut inside the metadata, then inside the weights (the header reads fine, the data is short).
    for (cut, expect) in [
        (200_000, "truncated"),
        (real.len() / 2, "llama.cpp could not load"),
    ] {
        let path = dir.path().join(format!("cut-{cut}.gguf"));
        std::fs::write(&path, &real[..cut]).unwrap();
        match LocalModel::load(&path, &opts(1)) {
            Err(AiError::BadModel(reason)) => assert!(reason.contains(expect), "{reason}"),
            other => panic!("expected BadModel for a cut at {cut}, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_tokens_matches_the_prompt_tokens_the_engine_reports() {
    let m = shared();
    let p = m
        .render_chat(&[
            ChatMessage {
                role: ChatRole::System,
                content: "You are terse.".into(),
            },
            ChatMessage {
                role: ChatRole::User,
                content: "Hi! Naïve café – ünïcödé 😀?".into(),
            },
            ChatMessage {
                role: ChatRole::Assistant,
                content: "Hello.".into(),
            },
            ChatMessage {
                role: ChatRole::User,
                content: "Say yes.".into(),
            },
        ])
        .unwrap();
    assert!(
        p.ends_with("<|im_start|>assistant\n"),
        "assistant turn opened: {p:?}"
    );
    assert!(p.contains("You are terse."));
    let counted = m.count_tokens(&p).unwrap();
    let run = collect(m.generate(p.clone(), greedy(2))).await;
    assert_eq!(run.usage.prompt_tokens as usize, counted);
    // Special tokens count as one each, so the count is far below the byte length.
    assert!(
        counted < p.len() / 2,
        "{counted} tokens for {} bytes",
        p.len()
    );
    assert_eq!(m.count_tokens("").unwrap(), 0);
}
