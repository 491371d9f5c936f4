//! Full-text search over passages in the store, on SQLite and PostgreSQL: ranked within the
//! caller's scope only, and complete even when another user's passages outrank every one of the
//! caller's (SQLite ranks in FTS5 first and then filters, so the window must widen until it holds
//! the caller's best passages).

use selah_core::Role;
use selah_store::Store;
use selah_store::documents::NewDocument;
use selah_store::passages::{NewPassage, SearchScope, SourceFilter};

mod support;
use support::*;

/// A ready document of `owner` whose passages have these texts.
async fn ready_document(store: &Store, owner: &str, texts: &[String]) -> String {
    let scope = personal(owner);
    let doc = NewDocument {
        title: "notes",
        kind: "note",
        file_name: None,
        format: "markdown",
        size_bytes: 1,
        sha256: "00",
        body: Some("x"),
    };
    let id = store
        .create_document(&scope, &doc)
        .await
        .unwrap()
        .unwrap()
        .id;
    let pending = store.next_pending_document().await.unwrap().unwrap();
    assert_eq!(pending.id, id);
    assert!(
        store
            .start_indexing(&id, pending.generation, "x")
            .await
            .unwrap()
    );
    let passages: Vec<NewPassage> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| NewPassage {
            seq: i as i64,
            char_start: 0,
            char_end: 1,
            heading: None,
            text: t.clone(),
            tokens: 10,
        })
        .collect();
    store
        .put_document_passages(&id, pending.generation, owner, None, &passages)
        .await
        .unwrap();
    store
        .finish_document(&id, pending.generation)
        .await
        .unwrap()
        .unwrap();
    id
}

async fn outranked_callers_still_get_their_best_passages(store: Store) {
    let a = store.create_user("a", "h", Role::Member).await.unwrap().id;
    let b = store.create_user("b", "h", Role::Member).await.unwrap().id;
    // 400 of a's passages say "lantern" three times in a short text; b's say it once among
    // many other words, so every one of a's ranks above every one of b's.
    let loud: Vec<String> = (0..400)
        .map(|i| format!("lantern lantern lantern {i}"))
        .collect();
    ready_document(&store, &a, &loud).await;
    let filler = "the keeper walked along the harbour wall past boats nets ropes and gulls";
    let quiet: Vec<String> = (0..3).map(|i| format!("{filler} lantern {i}")).collect();
    let b_doc = ready_document(&store, &b, &quiet).await;

    let terms = vec!["lantern".to_string()];
    let search = |user: &str, limit| {
        let scope = SearchScope::One(personal(user));
        let terms = terms.clone();
        let store = store.clone();
        async move {
            store
                .fulltext_search(&scope, &terms, (None, SourceFilter::All), limit)
                .await
                .unwrap()
        }
    };
    let for_b = search(&b, 10).await;
    assert_eq!(
        for_b.len(),
        3,
        "b must find all three of their passages: {for_b:?}"
    );
    let a_hits = search(&a, 10).await;
    assert_eq!(a_hits.len(), 10);
    let scores: Vec<f64> = a_hits.iter().map(|h| h.1).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "best first: {scores:?}"
    );
    // b's ids are none of a's, and a document filter keeps to the document.
    assert!(for_b.iter().all(|h| !a_hits.iter().any(|x| x.0 == h.0)));
    let scope = SearchScope::One(personal(&b));
    let in_doc = store
        .fulltext_search(&scope, &terms, (Some(&b_doc), SourceFilter::All), 2)
        .await
        .unwrap();
    assert_eq!(in_doc.len(), 2);
}

#[tokio::test]
async fn sqlite_outranked_callers_still_get_their_best_passages() {
    let (store, _dir) = sqlite().await;
    outranked_callers_still_get_their_best_passages(store).await;
}

#[tokio::test]
async fn postgres_outranked_callers_still_get_their_best_passages() {
    let (store, _dir) = postgres().await;
    outranked_callers_still_get_their_best_passages(store).await;
}
