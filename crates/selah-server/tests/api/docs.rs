//! Documents and search against the running server with the real embedding model
//! (all-MiniLM-L6-v2) and the real chat model (SmolLM2): upload → queued → indexing → ready →
//! found by search → cited in a chat answer; failure on a damaged PDF; deletion leaving no
//! passage, vector or index entry behind, and the orphan job; on SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Row;

use crate::chat_messages::{SseReader, greedy, new_session, raw};
use crate::common::*;
use crate::docs_support::*;

/// A small handbook whose facts are not in any model's training data.
pub const HANDBOOK: &str = "# Northern Cape Lighthouse handbook\n\n\
## Keepers\n\n\
The lighthouse on the northern cape is kept by Orlando Vance, who has lived in the keeper's \
cottage since the spring of 1987. His cat, a grey tabby called Pepper, sleeps on the lens cover.\n\n\
## The lamp\n\n\
The lamp burns paraffin. The wick is trimmed every evening at six, and the brass is polished \
on Sundays. Spare mantles are kept in the oak chest under the stairs.\n\n\
## Supplies\n\n\
The supply boat Marigold comes on Thursdays with bread, oil and letters. In winter storms it \
may not come for three weeks, so the pantry keeps tinned fish and hard biscuits for a month.\n";

fn char_slice(s: &str, start: u64, end: u64) -> String {
    s.chars()
        .skip(start as usize)
        .take((end - start) as usize)
        .collect()
}

async fn row_count(app: &TestApp, sql: &str, doc: &str) -> i64 {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(doc)
        .fetch_one(app.state.store.writer())
        .await
        .unwrap()
        .get::<i64, _>(0)
}

async fn metric(app: &TestApp, name: &str) -> f64 {
    let text = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("{name} not in /metrics"))
}

async fn upload_search_and_cite(db: Db) {
    let app = app_with_docs(db, |_| {}).await;
    let founder = app.founder().await;

    let r = upload(&founder, "handbook.md", HANDBOOK.as_bytes()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["state"], "queued");
    assert_eq!(r.body["title"], "handbook");
    assert_eq!(r.body["format"], "markdown");
    assert_eq!(r.body["size_bytes"], HANDBOOK.len());
    let id = r.body["id"].as_str().unwrap().to_string();

    let doc = settle(&founder, &id).await;
    assert_eq!(doc["state"], "ready", "{doc}");
    assert_eq!(doc["progress"], 100);
    assert!(doc["passages"].as_i64().unwrap() >= 1, "{doc}");
    let content = doc["content"].as_str().unwrap().to_string();
    assert!(content.contains("Orlando Vance"));

    // Found by meaning (no word of the question is "Pepper" or "tabby").
    let hits = search(&founder, "what is the name of the keeper's pet?", "").await;
    assert!(!hits.is_empty());
    let top = &hits[0];
    assert_eq!(top["document_id"], id.as_str());
    assert!(top["text"].as_str().unwrap().contains("Pepper"), "{top}");
    // The passage is exactly the span of the document's text it claims.
    assert_eq!(
        char_slice(
            &content,
            top["char_start"].as_u64().unwrap(),
            top["char_end"].as_u64().unwrap()
        ),
        top["text"].as_str().unwrap()
    );
    // Full text finds words and highlights them.
    let hits = search(&founder, "supply boat Thursdays", "&mode=fulltext").await;
    let top = &hits[0];
    assert!(top["text"].as_str().unwrap().contains("Marigold"), "{top}");
    let text: Vec<char> = top["text"].as_str().unwrap().chars().collect();
    let marked: Vec<String> = top["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            text[s["start"].as_u64().unwrap() as usize..s["end"].as_u64().unwrap() as usize]
                .iter()
                .collect::<String>()
                .to_lowercase()
        })
        .collect();
    assert!(marked.iter().any(|m| m.contains("thursday")), "{marked:?}");
    assert!(top["fulltext_rank"].as_u64() == Some(1), "{top}");
    assert!(
        search(&founder, "supply boat", "&mode=vector").await[0]["vector_rank"] == 1,
        "vector-only search ranks by vectors"
    );

    // Cited in a chat answer.
    let sid = new_session(&founder).await;
    let resp = raw(
        &founder,
        Method::POST,
        &format!("/api/v1/chat/sessions/{sid}/messages"),
        json!({"content": "What is the name of the lighthouse keeper's cat?", "params": greedy(24)}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let events = SseReader::new(resp).rest().await;
    let done = &events
        .iter()
        .find(|e| e.event == "done")
        .expect("done")
        .data;
    assert!(done["context"]["passages"].as_u64().unwrap() >= 1, "{done}");
    let cites = done["citations"].as_array().unwrap();
    assert!(!cites.is_empty(), "{done}");
    let c = cites
        .iter()
        .find(|c| c["document_id"] == id.as_str())
        .expect("the handbook is cited");
    let cited = char_slice(
        &content,
        c["char_start"].as_u64().unwrap(),
        c["char_end"].as_u64().unwrap(),
    );
    assert!(cited.contains("Pepper"), "{cited}");
    assert_eq!(c["title"], "handbook");
    // The citations are stored with the reply.
    let page = founder
        .get(&format!("/api/v1/chat/sessions/{sid}/messages"))
        .await;
    let reply = &page.body["messages"][1];
    assert_eq!(reply["citations"], done["citations"], "{reply}");
    app.stop().await;
}

#[tokio::test]
async fn upload_is_indexed_found_and_cited_on_sqlite() {
    upload_search_and_cite(Db::Sqlite).await;
}

#[tokio::test]
async fn upload_is_indexed_found_and_cited_on_postgres() {
    upload_search_and_cite(Db::Postgres).await;
}

/// Indexing a long document shows progress, keeps other requests answering, and a damaged PDF
/// fails with a reason the user can read.
#[tokio::test]
async fn states_progress_and_failure() {
    let app = app_with_docs(Db::Sqlite, |_| {}).await;
    let founder = app.founder().await;
    let long: String = (0..400)
        .map(|i| format!("Paragraph {i}: the tide tables for week {i} list high water at dawn and dusk, and the harbour master posts them by the gate.\n\n"))
        .collect();
    let r = upload(&founder, "tides.txt", long.as_bytes()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();

    let (mut saw_progress, mut served_meanwhile) = (false, 0);
    let start = Instant::now();
    loop {
        let d = founder.get(&format!("{DOCS}/{id}")).await.body;
        match d["state"].as_str().unwrap() {
            "ready" => break,
            "indexing" => {
                let p = d["progress"].as_i64().unwrap();
                if (1..100).contains(&p) {
                    saw_progress = true;
                    // Other work goes on while it indexes.
                    assert_eq!(founder.get("/api/v1/auth/me").await.status, StatusCode::OK);
                    assert!(search(&founder, "harbour", "").await.len() <= 10);
                    if metric(&app, "selah_documents{state=\"indexing\"}").await == 1.0 {
                        served_meanwhile += 1;
                    }
                }
            }
            "queued" => {}
            other => panic!("unexpected state {other}: {d}"),
        }
        assert!(start.elapsed() < Duration::from_secs(300), "too slow");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        saw_progress,
        "never saw indexing with progress between 1 and 99"
    );
    assert!(served_meanwhile > 0);
    assert_eq!(metric(&app, "selah_documents{state=\"ready\"}").await, 1.0);
    assert!(metric(&app, "selah_docs_passages_embedded_total").await >= 10.0);

    let bad = fixture("corrupt.pdf");
    let r = upload(&founder, "report.pdf", &bad).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let d = settle(&founder, r.body["id"].as_str().unwrap()).await;
    assert_eq!(d["state"], "failed", "{d}");
    let why = d["error"].as_str().unwrap().to_lowercase();
    assert!(why.contains("pdf"), "{why}");
    assert_eq!(d["passages"], 0);
    assert_eq!(metric(&app, "selah_documents{state=\"failed\"}").await, 1.0);
    app.stop().await;
}

/// A passage of several paragraphs is stored with one vector per paragraph after its own (their
/// mean), and vector search scores it by the paragraph closest to the question: exactly the
/// score of a passage holding that paragraph alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passages_rank_by_their_closest_paragraph() {
    let app = app_with_docs(Db::Sqlite, |_| {}).await;
    let founder = app.founder().await;
    let tide = "The harbour master posts the tide tables every Monday morning.";
    let three = note(
        &founder,
        "Notes",
        &format!("Bees make honey from the nectar of clover.\n\n{tide}\n\nOur choir rehearses hymns on Thursday evenings."),
    )
    .await;
    let one = note(&founder, "Notes", tide).await;
    for id in [&three, &one] {
        assert_eq!(settle(&founder, id).await["state"], "ready");
    }
    let floats = "SELECT SUM(LENGTH(v.vector)) / 4 FROM passage_vectors v JOIN passages p \
                  ON p.id = v.passage_id WHERE p.document_id = $1";
    assert_eq!(
        row_count(&app, floats, &three).await,
        4 * 384,
        "own vector + 3 paragraphs"
    );
    assert_eq!(
        row_count(&app, floats, &one).await,
        384,
        "one paragraph: its own vector only"
    );

    let hits = search(
        &founder,
        "When are the tide tables published?",
        "&mode=vector&k=2",
    )
    .await;
    assert_eq!(hits.len(), 2, "{hits:?}");
    let score = |id: &str| {
        hits.iter()
            .find(|h| h["document_id"] == id)
            .and_then(|h| h["vector_score"].as_f64())
            .unwrap()
    };
    assert!(
        (score(&three) - score(&one)).abs() < 1e-4,
        "{} vs {}",
        score(&three),
        score(&one)
    );
    // Hybrid reports the same closest-paragraph score.
    let hybrid = search(&founder, "When are the tide tables published?", "&k=2").await;
    let h3 = hybrid
        .iter()
        .find(|h| h["document_id"] == three.as_str())
        .unwrap();
    assert!((h3["vector_score"].as_f64().unwrap() - score(&three)).abs() < 1e-6);
    app.stop().await;
}

async fn delete_leaves_nothing(db: Db) {
    let app = app_with_docs(db, |_| {}).await;
    let founder = app.founder().await;
    let id = note(&founder, "Handbook", HANDBOOK).await;
    assert_eq!(settle(&founder, &id).await["state"], "ready");
    let keep = note(
        &founder,
        "Other",
        "Bees make honey from the nectar of clover.",
    )
    .await;
    settle(&founder, &keep).await;
    let passages = "SELECT COUNT(*) FROM passages WHERE document_id = $1";
    let vectors = "SELECT COUNT(*) FROM passage_vectors v WHERE v.passage_id IN \
                   (SELECT id FROM passages WHERE document_id = $1)";
    let n = row_count(&app, passages, &id).await;
    assert!(n >= 1);
    assert_eq!(row_count(&app, vectors, &id).await, n);
    let indexed = metric(&app, "selah_docs_index_vectors").await;
    let indexed_text = metric(&app, "selah_docs_index_passages").await;

    assert_eq!(
        founder.delete(&format!("{DOCS}/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(row_count(&app, passages, &id).await, 0);
    assert_eq!(
        row_count(
            &app,
            "SELECT COUNT(*) FROM passage_vectors WHERE model <> $1",
            ""
        )
        .await,
        row_count(
            &app,
            "SELECT COUNT(*) FROM passages WHERE document_id IS NOT NULL AND document_id <> $1",
            ""
        )
        .await,
        "every remaining vector belongs to a remaining passage"
    );
    assert_eq!(
        metric(&app, "selah_docs_index_vectors").await,
        indexed - n as f64
    );
    assert_eq!(
        metric(&app, "selah_docs_index_passages").await,
        indexed_text - n as f64
    );
    assert!(!app.data_dir.path().join("documents").join(&id).exists());
    for h in search(&founder, "lighthouse keeper cat paraffin", "").await {
        assert_ne!(h["document_id"], id.as_str(), "{h}");
    }
    assert_eq!(
        founder.get(&format!("{DOCS}/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        founder.delete(&format!("{DOCS}/{id}")).await.status,
        StatusCode::NOT_FOUND
    );

    // An orphan left by anything that bypassed the deletion is found and removed by the job.
    sqlx::query(
        "INSERT INTO passage_vectors (passage_id, model, vector, created_at) VALUES (987654321, 'm', $1, 0)",
    )
    .bind(vec![0u8; 16])
    .execute(app.state.store.writer())
    .await
    .unwrap();
    let r = founder.post("/api/v1/admin/cleanup", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let job: &Value = r.body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "orphan_embeddings")
        .expect("the orphan job ran");
    assert_eq!(job["ok"], true, "{job}");
    assert_eq!(job["stats"]["removed"], 1, "{job}");
    // The other document is untouched.
    assert_eq!(settle(&founder, &keep).await["state"], "ready");
    assert!(!search(&founder, "honey", "").await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn deletion_leaves_no_orphan_on_sqlite() {
    delete_leaves_nothing(Db::Sqlite).await;
}

#[tokio::test]
async fn deletion_leaves_no_orphan_on_postgres() {
    delete_leaves_nothing(Db::Postgres).await;
}

/// Editing a note re-indexes it under a new generation; the old text stops being found.
#[tokio::test]
async fn an_edited_note_is_indexed_again() {
    let app = app_with_docs(Db::Sqlite, |_| {}).await;
    let founder = app.founder().await;
    let id = note(
        &founder,
        "Garden",
        "The roses by the gate are pruned in March.",
    )
    .await;
    settle(&founder, &id).await;
    assert!(
        !search(&founder, "roses pruned", "&mode=fulltext")
            .await
            .is_empty()
    );
    let r = founder
        .patch(
            &format!("{DOCS}/{id}"),
            json!({"title": "Garden notes", "body": "The apple trees are grafted in April."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["title"], "Garden notes");
    let d = settle(&founder, &id).await;
    assert_eq!(d["state"], "ready");
    assert_eq!(d["content"], "The apple trees are grafted in April.");
    assert!(
        search(&founder, "roses pruned", "&mode=fulltext")
            .await
            .is_empty()
    );
    let hits = search(&founder, "apple trees grafted", "").await;
    assert_eq!(hits[0]["document_id"], id.as_str());
    assert_eq!(hits[0]["title"], "Garden notes");
    // A new title alone is searchable at once; the old one no longer finds the document.
    let r = founder
        .patch(&format!("{DOCS}/{id}"), json!({"title": "Orchard diary"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let hits = search(&founder, "orchard", "&mode=fulltext").await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["title"], "Orchard diary");
    assert!(
        search(&founder, "garden", "&mode=fulltext")
            .await
            .is_empty()
    );
    app.stop().await;
}

/// Changing the embedding model re-embeds every passage in the background; vector search works
/// again with the new model, and the cleanup job then removes the old model's vectors.
#[tokio::test]
async fn a_new_embedding_model_re_embeds_in_the_background() {
    let app = app_with_docs(Db::Sqlite, |_| {}).await;
    let founder = app.founder().await;
    let id = note(&founder, "Handbook", HANDBOOK).await;
    settle(&founder, &id).await;
    let (config, data_dir) = app.stop().await;

    // The same weights under another name count as another model (the id names the directory).
    let other = data_dir.path().join("models").join("minilm-copy");
    std::fs::create_dir_all(&other).unwrap();
    for f in [
        "config.json",
        "tokenizer.json",
        "model.safetensors",
        "sentence_bert_config.json",
    ] {
        std::os::unix::fs::symlink(embed_model().join(f), other.join(f)).unwrap();
    }
    let mut config = config;
    config.docs.embedding_model = other.clone();
    let app = TestApp::spawn_in(config, data_dir).await;
    let founder = app.login("founder", FOUNDER_PASSWORD).await;
    let start = Instant::now();
    loop {
        let hits = search(
            &founder,
            "what is the name of the keeper's pet?",
            "&mode=vector",
        )
        .await;
        if hits
            .first()
            .is_some_and(|h| h["document_id"] == id.as_str())
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "never re-embedded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let models = || async {
        sqlx::query("SELECT DISTINCT model FROM passage_vectors")
            .fetch_all(app.state.store.writer())
            .await
            .unwrap()
            .len()
    };
    assert_eq!(models().await, 2, "both models' vectors until the cleanup");
    let r = founder.post("/api/v1/admin/cleanup", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(models().await, 1);
    assert!(
        !search(
            &founder,
            "what is the name of the keeper's pet?",
            "&mode=vector"
        )
        .await
        .is_empty()
    );
    app.stop().await;
}
