//! The latency of embedding one search question, the part of every hybrid search that costs
//! most: each question of the relevance set (`tests/relevance/questions.json`) embedded alone,
//! `ROUNDS` times over (default 5), on the machine's cores as a search does. Prints one JSON
//! line with P50, P90 and P99 in milliseconds.
//!
//! `cargo run --release --example question_embed -- MODEL_DIR [QUESTIONS_JSON]`

use std::time::Instant;

use selah_ai::Embedder;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let model = args
        .next()
        .ok_or("usage: question_embed MODEL_DIR [QUESTIONS_JSON]")?;
    let questions = args
        .next()
        .unwrap_or_else(|| "tests/relevance/questions.json".to_string());
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    #[derive(serde::Deserialize)]
    struct Q {
        question: String,
    }
    let qs: Vec<Q> = serde_json::from_slice(&std::fs::read(&questions)?)?;
    let embedder = Embedder::load(std::path::Path::new(&model))?;
    // One warm-up pass: page in the weights, size the buffers.
    for q in &qs {
        embedder.embed(&[q.question.as_str()])?;
    }
    let mut ms = Vec::new();
    for _ in 0..rounds {
        for q in &qs {
            let t = Instant::now();
            embedder.embed(&[q.question.as_str()])?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({"part": "question_embed", "questions": ms.len(),
            "p50_ms": percentile(&ms, 0.5), "p90_ms": percentile(&ms, 0.9),
            "p99_ms": percentile(&ms, 0.99)})
    );
    Ok(())
}
