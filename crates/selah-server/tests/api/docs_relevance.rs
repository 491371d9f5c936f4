//! The relevance set (`tests/relevance/`: a corpus of Debian documentation and questions with
//! their answer passages) through the running server: every corpus file is uploaded and indexed
//! with the real embedding model, every question is searched with full text only, vectors only
//! and hybrid, and recall@5 and nDCG@10 are computed.
//!
//! A hit is relevant when its span in the document's text contains the answer or covers at
//! least half of it. Each question has one answer, so nDCG@10 is `1 / log2(1 + rank)` of the
//! first relevant hit (0 when none is in the top 10), averaged. The figures are printed (run with
//! `--nocapture`) and recorded in docs/BENCHMARKS.md.
//!
//! The target, hybrid recall@5 ≥ 0.9, is asserted; measured today it is 0.917
//! (BENCHMARKS.md).

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

use crate::common::*;
use crate::docs_support::*;

#[derive(Deserialize)]
struct Question {
    id: String,
    question: String,
    doc: String,
    answer: String,
}

fn relevance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/relevance")
}

/// The answer's span in the document's text, in characters.
fn answer_span(content: &str, answer: &str) -> Option<(usize, usize)> {
    let byte = content.find(answer)?;
    let start = content[..byte].chars().count();
    Some((start, start + answer.chars().count()))
}

fn relevant(hit: &Value, doc_id: &str, span: (usize, usize)) -> bool {
    if hit["document_id"] != doc_id {
        return false;
    }
    let (s, e) = (
        hit["char_start"].as_u64().unwrap() as usize,
        hit["char_end"].as_u64().unwrap() as usize,
    );
    let overlap = e.min(span.1).saturating_sub(s.max(span.0));
    overlap * 2 >= span.1 - span.0
}

#[derive(Default, Debug)]
struct Scores {
    recall5: f64,
    ndcg10: f64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hybrid_search_finds_the_answers() {
    let dir = relevance_dir();
    let questions: Vec<Question> =
        serde_json::from_slice(&std::fs::read(dir.join("questions.json")).unwrap()).unwrap();
    assert!(questions.len() >= 40);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("corpus"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 200, "{} corpus files", files.len());

    let app = app_with_docs(Db::Sqlite, |_| {}).await;
    let founder = app.founder().await;
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut order = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let r = upload(&founder, &name, &std::fs::read(f).unwrap()).await;
        assert_eq!(r.status, reqwest::StatusCode::CREATED, "{name}: {}", r.text);
        ids.insert(name.clone(), r.body["id"].as_str().unwrap().to_string());
        order.push(name);
    }
    // Documents are indexed in upload order; the whole corpus gets 20 minutes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1200);
    let mut contents: HashMap<String, String> = HashMap::new();
    for name in &order {
        let id = &ids[name];
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let d = settle_within(&founder, id, left).await;
        assert_eq!(d["state"], "ready", "{name}: {d}");
        contents.insert(name.clone(), d["content"].as_str().unwrap().to_string());
    }

    let mut table = Vec::new();
    // Hybrid with score fusion (the default), and with rank fusion for comparison.
    for (mode, params) in [
        ("fulltext", "&mode=fulltext"),
        ("vector", "&mode=vector"),
        ("hybrid", "&mode=hybrid"),
        ("hybrid-rrf", "&mode=hybrid&fusion=rrf"),
    ] {
        let mut s = Scores::default();
        let mut missed = Vec::new();
        for q in &questions {
            let doc_id = &ids[&q.doc];
            let span = answer_span(&contents[&q.doc], &q.answer).unwrap_or_else(|| {
                panic!(
                    "{}: the answer is not in the extracted text of {}",
                    q.id, q.doc
                )
            });
            let hits = search(&founder, &q.question, &format!("&k=10{params}")).await;
            let first = hits.iter().position(|h| relevant(h, doc_id, span));
            if first.is_some_and(|r| r < 5) {
                s.recall5 += 1.0;
            } else {
                missed.push(q.id.clone());
            }
            if let Some(r) = first {
                s.ndcg10 += 1.0 / ((r + 2) as f64).log2();
            }
        }
        let n = questions.len() as f64;
        s.recall5 /= n;
        s.ndcg10 /= n;
        println!(
            "relevance {mode}: recall@5 {:.3} nDCG@10 {:.3} ({} questions, {} documents); missed at 5: {missed:?}",
            s.recall5,
            s.ndcg10,
            questions.len(),
            files.len()
        );
        table.push((mode, s));
    }
    let hybrid = &table[2].1;
    // Measured 0.917 with score fusion (0.896 with rank fusion) on 2026-11-23, the same in every
    // run: ranking is deterministic. The target.
    let floor = 0.9;
    assert!(
        hybrid.recall5 >= floor,
        "hybrid recall@5 {:.3} fell below {floor}: {table:?}",
        hybrid.recall5
    );
    assert!(
        hybrid.recall5 >= table[0].1.recall5 && hybrid.recall5 >= table[1].1.recall5,
        "hybrid must find at least as much as each ranking alone: {table:?}"
    );
    app.stop().await;
}
