//! `bench/search`'s in-process part, on the relevance corpus (`tests/relevance/`):
//!
//! 1. extracts and chunks every corpus file as ingestion does, and embeds every passage with the
//!    real model: embedding throughput (passages/s);
//! 2. grows the collection to `TARGET` vectors (each real passage vector repeated with noise of
//!    [`NOISE`], so the copies are distinct points that still cluster where real passages do),
//!    builds the HNSW graph (build time), and measures vector search with the question vectors:
//!    ANN recall@10 against exact search (by id, and by score: a hit scoring at least the exact
//!    10th counts, which forgives ties), and ANN and exact latency (P50/P99);
//!    and the latency of embedding one question (every hybrid search does);
//! 3. builds the full-text index over `TARGET` passages (the corpus repeated): build time, and
//!    search latency (P50/P99, 50 candidates as hybrid search asks for);
//! 4. writes a data directory (SQLite) holding those `TARGET` passages with their vectors, owned
//!    by a founder `bench` / `bench-password-long`, for the HTTP latency run;
//! 5. writes `passages.jsonl` (texts), `our_vectors.f32` (the real passages' vectors) and
//!    `questions.jsonl` for the Python baseline and the cross-check.
//!
//! `bench/search/run.sh` runs it; by hand, `cargo build --release --workspace --examples`, then
//! `target/release/examples/search_bench CORPUS QUESTIONS MODEL OUT [TARGET]`
//! prints one JSON object per part.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use selah_ai::Embedder;
use selah_core::Role;
use selah_search::parts::paragraphs;
use selah_search::{
    ChunkOptions, DocFormat, TextFields, TextIndex, VectorIndex, chunk_text, extract_file,
    query_terms,
};
use selah_store::Store;
use selah_store::documents::NewDocument;
use selah_store::passages::NewPassage;
use serde_json::json;

struct Passage {
    doc: usize,
    seq: usize,
    char_start: usize,
    char_end: usize,
    heading: Option<String>,
    text: String,
    tokens: usize,
}

/// The title an upload gets: the file name without its extension.
fn title_of(name: &str) -> String {
    name.rsplit_once('.').map_or(name, |(s, _)| s).to_string()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Width of the uniform noise added to each component of a copied vector. Components of a unit
/// 384-d vector are about ±0.05, so a copy keeps a cosine of about 0.8 with its source and of
/// about 0.6 with its sibling copies: near enough to cluster, far enough to rank apart. (Noise of
/// 0.02 left dozens of near-identical copies per passage whose order was decided by the noise,
/// which made recall by id measure nothing.)
const NOISE: f32 = 0.1;

fn noisy(v: &[f32], seed: &mut u64, amount: f32) -> Vec<f32> {
    let mut out: Vec<f32> = v
        .iter()
        .map(|x| {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x + amount * (((*seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5)
        })
        .collect();
    let n = out.iter().map(|x| x * x).sum::<f32>().sqrt();
    out.iter_mut().for_each(|x| *x /= n);
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    anyhow::ensure!(
        args.len() >= 4,
        "usage: search_bench CORPUS QUESTIONS MODEL OUT [TARGET]"
    );
    let (corpus, questions, model, out) = (
        PathBuf::from(&args[0]),
        PathBuf::from(&args[1]),
        PathBuf::from(&args[2]),
        PathBuf::from(&args[3]),
    );
    let target: usize = args.get(4).map_or(Ok(100_000), |s| s.parse())?;
    std::fs::create_dir_all(&out)?;
    let embedder = Embedder::load(&model)?;

    // 1. Extract, chunk, embed.
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let mut contents = Vec::new();
    let mut passages = Vec::new();
    let opts = ChunkOptions {
        target_tokens: 200,
        max_tokens: embedder.max_tokens() - 26,
        overlap_tokens: 32,
    };
    let counter = |t: &str| embedder.count_tokens(t).unwrap_or(t.len());
    for (d, f) in files.iter().enumerate() {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let head = std::fs::read(f)?;
        let format = DocFormat::detect(&name, None, &head[..head.len().min(4096)])
            .ok_or_else(|| anyhow::anyhow!("{name}: unknown format"))?;
        let text = extract_file(format, f)?.text;
        for c in chunk_text(&text, &counter, &opts) {
            passages.push(Passage {
                doc: d,
                seq: c.index,
                char_start: c.char_start,
                char_end: c.char_end,
                heading: c.heading.clone(),
                text: c.text(&text).to_string(),
                tokens: c.tokens,
            });
        }
        contents.push((name, text));
    }
    let contents_names: Vec<String> = contents.iter().map(|(n, _)| n.clone()).collect();
    let inputs: Vec<String> = passages
        .iter()
        .map(|p| {
            selah_server::docs::ingest::embedding_input(
                &title_of(&contents_names[p.doc]),
                p.heading.as_deref(),
                &p.text,
            )
        })
        .collect();
    let start = Instant::now();
    let mut vectors = Vec::with_capacity(inputs.len());
    for batch in inputs.chunks(32) {
        let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
        vectors.extend(embedder.embed(&refs)?);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"part": "embed", "passages": vectors.len(), "documents": files.len(),
        "seconds": secs, "passages_per_s": vectors.len() as f64 / secs})
    );

    let mut jsonl = std::io::BufWriter::new(std::fs::File::create(out.join("passages.jsonl"))?);
    for i in &inputs {
        writeln!(jsonl, "{}", json!({"text": i}))?;
    }
    jsonl.flush()?;
    let mut raw = std::io::BufWriter::new(std::fs::File::create(out.join("our_vectors.f32"))?);
    for v in &vectors {
        for x in v {
            raw.write_all(&x.to_le_bytes())?;
        }
    }
    raw.flush()?;
    #[derive(serde::Deserialize)]
    struct Q {
        question: String,
    }
    let qs: Vec<Q> = serde_json::from_slice(&std::fs::read(&questions)?)?;
    let mut qfile = std::io::BufWriter::new(std::fs::File::create(out.join("questions.jsonl"))?);
    for q in &qs {
        writeln!(qfile, "{}", json!({"question": q.question}))?;
    }
    qfile.flush()?;
    let qrefs: Vec<&str> = qs.iter().map(|q| q.question.as_str()).collect();
    let qvecs = embedder.embed(&qrefs)?;
    // A search embeds its question alone: that latency is part of every hybrid search.
    let mut embed_ms = Vec::new();
    for _ in 0..3 {
        for q in &qrefs {
            let t = Instant::now();
            embedder.embed(&[q])?;
            embed_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    embed_ms.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({"part": "question_embed", "questions": embed_ms.len(),
        "p50_ms": percentile(&embed_ms, 0.5), "p99_ms": percentile(&embed_ms, 0.99)})
    );

    // 2. Grow to TARGET, build the graph, measure.
    let dim = embedder.dimensions();
    let mut all: Vec<(i64, Vec<f32>, ())> = Vec::with_capacity(target);
    let mut seed = 42u64;
    let mut origin = Vec::with_capacity(target);
    for i in 0..target {
        let src = i % vectors.len();
        let v = if i < vectors.len() {
            vectors[src].clone()
        } else {
            noisy(&vectors[src], &mut seed, NOISE)
        };
        all.push((i as i64 + 1, v, ()));
        origin.push(src);
    }
    let start = Instant::now();
    let (idx, _) = VectorIndex::load_graph(dim, all, None);
    let build = start.elapsed().as_secs_f64();
    let (mut ann_ms, mut exact_ms, mut found) = (Vec::new(), Vec::new(), 0usize);
    let mut found_by_score = 0usize;
    for _ in 0..5 {
        for q in &qvecs {
            let t = Instant::now();
            let (got, _) = idx.search(q, 10, |_| true);
            ann_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            let want = idx.search_exact(q, 10, |_| true);
            exact_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            found += got
                .iter()
                .filter(|g| want.iter().any(|w| w.0 == g.0))
                .count();
            let tenth = want.last().map_or(f32::MIN, |w| w.1);
            found_by_score += got.iter().filter(|g| g.1 >= tenth - 1e-6).count();
        }
    }
    ann_ms.sort_by(f64::total_cmp);
    exact_ms.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({"part": "index", "vectors": idx.len(), "graph": idx.has_graph(),
        "graph_build_s": build,
        "noise": NOISE,
        "ann_recall_at_10": found as f64 / (5 * qvecs.len() * 10) as f64,
        "ann_recall_at_10_by_score": found_by_score as f64 / (5 * qvecs.len() * 10) as f64,
        "ann_p50_ms": percentile(&ann_ms, 0.5), "ann_p99_ms": percentile(&ann_ms, 0.99),
        "exact_p50_ms": percentile(&exact_ms, 0.5), "exact_p99_ms": percentile(&exact_ms, 0.99)})
    );

    // 3. The full-text index at TARGET passages (the corpus repeated), in-process.
    let start = Instant::now();
    let mut text = TextIndex::new();
    for i in 0..target {
        let p = &passages[i % passages.len()];
        let fields = TextFields {
            title: &title_of(&contents_names[p.doc]),
            heading: p.heading.as_deref(),
            text: &p.text,
        };
        text.insert(i as i64 + 1, fields, ());
    }
    let text_build = start.elapsed().as_secs_f64();
    let mut text_ms = Vec::new();
    for _ in 0..5 {
        for q in &qrefs {
            let terms = query_terms(q);
            let t = Instant::now();
            std::hint::black_box(text.search(&terms, 50, |_| true));
            text_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    text_ms.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({"part": "text_index", "passages": text.len(), "build_s": text_build,
        "p50_ms": percentile(&text_ms, 0.5), "p99_ms": percentile(&text_ms, 0.99)})
    );
    drop(text);

    // 4. A data directory with TARGET passages for the HTTP run.
    let data = out.join("data");
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data)?;
    let start = Instant::now();
    fill_store(
        &data,
        &contents,
        &passages,
        &vectors,
        target,
        &mut seed,
        &selah_server::docs::ingest::vector_model(&embedder),
    )
    .await?;
    println!(
        "{}",
        json!({"part": "store", "passages": target, "seconds": start.elapsed().as_secs_f64()})
    );
    Ok(())
}

/// Writes `target` passages (the corpus repeated, vectors with noise after the first copy, each
/// with stand-ins for its paragraph vectors) into a
/// fresh SQLite store in `data`, as ready documents of a founder account.
async fn fill_store(
    data: &Path,
    contents: &[(String, String)],
    passages: &[Passage],
    vectors: &[Vec<f32>],
    target: usize,
    seed: &mut u64,
    model: &str,
) -> anyhow::Result<()> {
    let (store, _) = Store::open("", data).await?;
    let hash = selah_server::auth::password::hash_password("bench-password-long".into())
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let user = store.create_user("bench", &hash, Role::Founder).await?;
    let scope = selah_store::Scope::Personal {
        user_id: user.id.clone(),
    };
    let mut written = 0usize;
    let mut copy = 0usize;
    while written < target {
        for (d, (name, content)) in contents.iter().enumerate() {
            if written >= target {
                break;
            }
            let doc = store
                .create_document(
                    &scope,
                    &NewDocument {
                        title: &title_of(name),
                        kind: "file",
                        file_name: Some(name),
                        format: "text",
                        size_bytes: content.len() as i64,
                        sha256: "bench",
                        body: None,
                    },
                )
                .await?
                .expect("personal scope");
            store
                .start_indexing(&doc.id, doc.generation, content)
                .await?;
            let mine: Vec<(usize, &Passage)> = passages
                .iter()
                .enumerate()
                .filter(|(_, p)| p.doc == d)
                .take(target - written)
                .collect();
            let rows: Vec<NewPassage> = mine
                .iter()
                .map(|(_, p)| NewPassage {
                    seq: p.seq as i64,
                    char_start: p.char_start as i64,
                    char_end: p.char_end as i64,
                    heading: p.heading.clone(),
                    text: p.text.clone(),
                    tokens: p.tokens as i64,
                })
                .collect();
            store
                .put_document_passages(&doc.id, doc.generation, &user.id, None, &rows)
                .await?;
            let pending = store
                .unembedded_passages(&doc.id, doc.generation, model, i64::MAX)
                .await?;
            let vecs: Vec<(i64, Vec<f32>)> = pending
                .iter()
                .zip(&mine)
                .map(|(u, (i, p))| {
                    let mut v = if copy == 0 {
                        vectors[*i].clone()
                    } else {
                        noisy(&vectors[*i], seed, NOISE)
                    };
                    // As many paragraph vectors as ingestion would store (noisy copies: what
                    // the latency depends on is how many there are), so that searches pay for
                    // ranking candidates by their closest paragraph.
                    let parts = paragraphs(&p.text).len();
                    if parts > 1 {
                        let own = v.clone();
                        for _ in 0..parts {
                            v.extend(noisy(&own, seed, NOISE));
                        }
                    }
                    (u.id, v)
                })
                .collect();
            store.put_vectors(model, &vecs, None).await?;
            store.finish_document(&doc.id, doc.generation).await?;
            written += rows.len();
        }
        copy += 1;
    }
    store.close().await;
    Ok(())
}
