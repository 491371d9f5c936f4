//! `bench/search`'s HTTP latency client: `GET /api/v1/search` against a running `selah serve`,
//! one request at a time over one kept-alive connection, timed from the request to the whole
//! body read and parsed, as `http_bench.py` times it.
//!
//! Why a second client: the server and its client share this machine's two cores, and the
//! Python client spends about as much CPU per request on its own HTTP and JSON as a full-text
//! search costs the server; this one spends a small fraction of that, so what it measures is
//! nearer to the server's own latency. `http_bench.py` runs both and reports both.
//!
//! `search_latency BASE_URL TOKEN QUESTIONS_JSONL [REPEAT] [MODES]` (REPEAT default 10, MODES
//! default `hybrid,fulltext,vector`) prints one JSON object per mode.

use std::time::Instant;

use serde_json::{Value, json};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn search(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    question: &str,
    mode: &str,
) -> anyhow::Result<usize> {
    let resp = client
        .get(format!("{base}/api/v1/search"))
        .query(&[("q", question), ("k", "10"), ("mode", mode)])
        .bearer_auth(token)
        .send()
        .await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    anyhow::ensure!(status.is_success(), "search answered {status}");
    let hits: Value = serde_json::from_slice(&body)?;
    Ok(hits.as_array().map_or(0, Vec::len))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() >= 4,
        "usage: search_latency BASE_URL TOKEN QUESTIONS_JSONL [REPEAT] [MODES]"
    );
    let (base, token) = (args[1].trim_end_matches('/'), args[2].as_str());
    let repeat: usize = args.get(4).map_or(Ok(10), |r| r.parse())?;
    let modes = args.get(5).map_or("hybrid,fulltext,vector", String::as_str);
    let questions: Vec<String> = std::fs::read_to_string(&args[3])?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l)?;
            v["question"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| anyhow::anyhow!("a line without a question"))
        })
        .collect::<anyhow::Result<_>>()?;
    anyhow::ensure!(!questions.is_empty(), "no questions");
    // One connection, kept alive, as the Python client uses.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()?;
    for mode in modes.split(',') {
        for q in questions.iter().take(5) {
            search(&client, base, token, q, mode).await?;
        }
        let mut times = Vec::with_capacity(repeat * questions.len());
        let mut empty = 0;
        for _ in 0..repeat {
            for q in &questions {
                let t = Instant::now();
                let n = search(&client, base, token, q, mode).await?;
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                empty += usize::from(n == 0);
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{}",
            json!({
                "part": "http_search", "client": "rust", "mode": mode,
                "requests": times.len(), "empty_answers": empty,
                "p50_ms": percentile(&times, 0.5), "p99_ms": percentile(&times, 0.99),
                "max_ms": times.last(),
            })
        );
    }
    Ok(())
}
