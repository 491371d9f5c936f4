//! The baseline for `bench/llm`: llama.cpp driven directly through `llama-cpp-2` on a GGUF file,
//! the crate's own plain single-sequence loop (decode the prompt in one batch, then sample and
//! decode one token at a time), with none of Selah's machinery.
//!
//! `cargo run --release -p selah-ai --example direct -- MODEL [GEN_TOKENS] [THREADS] [RUNS] [BATCH_THREADS]`
//! prints one JSON object per run: prompt tokens/s, generation tokens/s, time to first token.

use std::num::NonZeroU32;
use std::time::Instant;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::{LogOptions, send_logs_to_tracing};

/// The bench's prompt (shared with the engine and HTTP runs so the figures compare).
const QUESTION: &str = "Write a long, detailed essay about the history of the Roman Empire, \
    from the founding of Rome to the fall of Constantinople, with many names and dates.";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .ok_or("usage: direct MODEL [GEN_TOKENS] [THREADS] [RUNS] [BATCH_THREADS]")?;
    let n_gen: usize = args.get(1).map_or(Ok(128), |s| s.parse())?;
    let threads: i32 = args.get(2).map_or(Ok(2), |s| s.parse())?;
    let runs: usize = args.get(3).map_or(Ok(3), |s| s.parse())?;
    let batch_threads: i32 = args.get(4).map_or(Ok(threads), |s| s.parse())?;

    send_logs_to_tracing(LogOptions::default().with_logs_enabled(false));
    let backend = LlamaBackend::init()?;
    let model = LlamaModel::load_from_file(&backend, path, &LlamaModelParams::default())?;
    let template = model.chat_template(None)?;
    let chat = [LlamaChatMessage::new("user".into(), QUESTION.into())?];
    let prompt = model.apply_chat_template(&template, &chat, true)?;
    let tokens = model.vocab().tokenize(prompt.as_bytes(), true, true);

    for _ in 0..runs {
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(2048))
            .with_n_batch(512)
            .with_n_threads(threads)
            .with_n_threads_batch(batch_threads);
        let mut ctx = model.new_context(&backend, params)?;
        let mut sampler = LlamaSampler::greedy();
        let mut batch = LlamaBatch::new(512, 1);

        let start = Instant::now();
        batch.add_sequence(&tokens, 0, false)?;
        ctx.decode(&mut batch)?;
        let mut token = sampler.sample(&ctx, batch.n_tokens() - 1);
        let first = start.elapsed();
        let gen_start = Instant::now();
        // Generation: one token per decode. End-of-sequence is ignored so every run times the
        // same number of tokens.
        let first_pos = tokens.len() as i32;
        for pos in first_pos..first_pos + n_gen as i32 - 1 {
            batch.clear();
            batch.add(token, pos, &[0], true)?;
            ctx.decode(&mut batch)?;
            token = sampler.sample(&ctx, 0);
        }
        let gen_time = gen_start.elapsed();
        println!(
            "{{\"prompt_tokens\":{},\"prompt_tps\":{:.1},\"gen_tokens\":{},\"gen_tps\":{:.1},\"ttft_ms\":{:.2}}}",
            tokens.len(),
            tokens.len() as f64 / first.as_secs_f64(),
            n_gen - 1,
            (n_gen - 1) as f64 / gen_time.as_secs_f64(),
            first.as_secs_f64() * 1000.0
        );
    }
    Ok(())
}
