//! Chat messages in search, against the running server with the real models: a finished
//! exchange becomes searchable (full text and vectors) under its session's scope and title;
//! `source` narrows to documents or messages; another user never finds it; a caller without
//! chat.use gets documents only; renaming and deleting the session follow through; chat's own
//! retrieval cites documents, never other conversations. On SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::chat_messages::{chat, greedy, new_session};
use crate::common::*;
use crate::docs_support::*;

/// Searches until `found` holds for the hits (the worker indexes in the background).
async fn search_until(
    api: &Api,
    q: &str,
    extra: &str,
    found: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let hits = search(api, q, extra).await;
        if found(&hits) {
            return hits;
        }
        assert!(Instant::now() < until, "never found {q} {extra}: {hits:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn messages_are_searchable(db: Db) {
    let app = app_with_docs(db, |_| {}).await;
    let founder = app.founder().await;
    let other = app.user_with_role(&founder, "mira", "member").await;
    let doc = note(
        &founder,
        "Tides",
        "The quokka ferry leaves at the turn of the tide.",
    )
    .await;
    assert_eq!(settle(&founder, &doc).await["state"], "ready");

    let sid = new_session(&founder).await;
    let question = "Which harbour does the zanzibar quokka ferry sail from?";
    let (_, done) = chat(&founder, &sid, question, greedy(8)).await;
    let asked = done["user_message_id"].as_str().unwrap().to_string();
    // The chat's own retrieval cited the document, not the conversation.
    for c in done["citations"].as_array().unwrap() {
        assert_eq!(c["document_id"], doc.as_str(), "{c}");
    }

    // Full text, at once after indexing; the hit names its message and session.
    let is_question = |h: &Value| h["message_id"] == asked.as_str();
    let hits = search_until(
        &founder,
        "zanzibar quokka",
        "&mode=fulltext&source=messages",
        |h| h.iter().any(is_question),
    )
    .await;
    let hit = hits.iter().find(|h| is_question(h)).unwrap();
    assert_eq!(hit["kind"], "message", "{hit}");
    assert_eq!(hit["session_id"], sid.as_str(), "{hit}");
    assert_eq!(hit["document_id"], Value::Null, "{hit}");
    assert_eq!(hit["text"], question, "{hit}");
    assert_eq!(hit["title"], "t", "{hit}");
    assert!(!hit["highlights"].as_array().unwrap().is_empty(), "{hit}");
    // Vectors follow from the backlog.
    search_until(&founder, question, "&mode=vector&source=messages", |h| {
        h.iter()
            .any(|h| is_question(h) && h["vector_rank"].is_u64())
    })
    .await;
    // Both sources by default; one when asked.
    let both = search(&founder, "quokka ferry", "&mode=fulltext").await;
    assert!(both.iter().any(|h| h["kind"] == "document"), "{both:?}");
    assert!(both.iter().any(|h| h["kind"] == "message"), "{both:?}");
    let docs_only = search(&founder, "quokka ferry", "&source=documents").await;
    assert!(!docs_only.is_empty());
    assert!(
        docs_only.iter().all(|h| h["kind"] == "document"),
        "{docs_only:?}"
    );
    let r = founder.get("/api/v1/search?q=quokka&source=chats").await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");

    // Another user finds nothing of it, by either ranking.
    for mode in ["fulltext", "vector", "hybrid"] {
        for scope in ["current", "all"] {
            let hits = search(&other, question, &format!("&mode={mode}&scope={scope}")).await;
            assert!(hits.is_empty(), "{mode} {scope}: {hits:?}");
        }
    }

    // Renaming the session renames its hits.
    let r = founder
        .patch(
            &format!("/api/v1/chat/sessions/{sid}"),
            json!({"title": "Ferries"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let hits = search(
        &founder,
        "zanzibar quokka",
        "&mode=fulltext&source=messages",
    )
    .await;
    assert_eq!(
        hits.iter().find(|h| is_question(h)).unwrap()["title"],
        "Ferries"
    );
    // The new title is searchable at once (it is indexed with every message of the session).
    let by_title = search(&founder, "ferries", "&mode=fulltext&source=messages").await;
    assert!(by_title.iter().any(is_question), "{by_title:?}");

    // Without chat.use: documents only, and asking for messages is refused.
    let member = app.user_with_role(&founder, "noah", "member").await;
    let own = note(
        &member,
        "Timetable",
        "The zanzibar quokka ferry timetable, winter.",
    )
    .await;
    assert_eq!(settle(&member, &own).await["state"], "ready");
    let msid = new_session(&member).await;
    chat(
        &member,
        &msid,
        "Tell me about the zanzibar quokka ferry.",
        greedy(4),
    )
    .await;
    search_until(&member, "zanzibar quokka", "&mode=fulltext", |h| {
        h.iter().any(|h| h["kind"] == "message")
    })
    .await;
    deny_permission(&founder, &member, "chat.use").await;
    let hits = search(&member, "zanzibar quokka", "&mode=fulltext").await;
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["kind"] == "document"), "{hits:?}");
    let r = member
        .get("/api/v1/search?q=zanzibar&source=messages")
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");

    // Deleting the session takes its passages with it.
    let r = founder
        .delete(&format!("/api/v1/chat/sessions/{sid}"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    for mode in ["fulltext", "vector", "hybrid"] {
        let hits = search(&founder, question, &format!("&mode={mode}&source=messages")).await;
        assert!(hits.is_empty(), "{mode}: {hits:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn chat_messages_are_searchable_on_sqlite() {
    messages_are_searchable(Db::Sqlite).await;
}

#[tokio::test]
async fn chat_messages_are_searchable_on_postgres() {
    messages_are_searchable(Db::Postgres).await;
}
