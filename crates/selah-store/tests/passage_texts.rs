//! The searchable passages' text the in-memory full-text index is built from, on SQLite and
//! PostgreSQL: every searchable passage once when paged, and never a generation still being
//! indexed.

use selah_core::Role;
use selah_store::Store;
use selah_store::documents::NewDocument;
use selah_store::passage_texts::PassageSet;
use selah_store::passages::NewPassage;

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

async fn texts_cover_searchable_passages_only(store: Store) {
    let a = store.create_user("a", "h", Role::Member).await.unwrap().id;
    let b = store.create_user("b", "h", Role::Member).await.unwrap().id;
    let texts: Vec<String> = (0..25).map(|i| format!("lantern {i}")).collect();
    let a_doc = ready_document(&store, &a, &texts).await;
    let b_doc = ready_document(&store, &b, &texts[..3]).await;

    // A new generation of b's document is being indexed: its passages are not searchable yet.
    let scope = personal(&b);
    store
        .update_document(&scope, &b_doc, None, Some(("changed", "01")))
        .await
        .unwrap()
        .unwrap();
    let pending = store.next_pending_document().await.unwrap().unwrap();
    assert!(
        store
            .start_indexing(&b_doc, pending.generation, "changed")
            .await
            .unwrap()
    );
    let fresh = NewPassage {
        seq: 0,
        char_start: 0,
        char_end: 7,
        heading: Some("h".into()),
        text: "changed".into(),
        tokens: 1,
    };
    store
        .put_document_passages(&b_doc, pending.generation, &b, None, &[fresh])
        .await
        .unwrap();

    // Paging walks every searchable passage once, in id order.
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = store
            .searchable_texts(PassageSet::Page { after, limit: 7 })
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        assert!(page.len() <= 7);
        after = last.id;
        seen.extend(page);
    }
    assert_eq!(seen.len(), 28);
    assert!(seen.windows(2).all(|w| w[0].id < w[1].id));
    assert!(seen.iter().all(|p| p.text != "changed"));
    let of_a: Vec<_> = seen.iter().filter(|p| p.owner_id == a).collect();
    assert_eq!(of_a.len(), 25);
    assert!(
        of_a.iter()
            .all(|p| p.document_id.as_deref() == Some(a_doc.as_str())
                && p.team_id.is_none()
                && p.title == "notes")
    );

    let b_texts = store
        .searchable_texts(PassageSet::Document(&b_doc))
        .await
        .unwrap();
    assert_eq!(b_texts.len(), 3);

    // Once the new generation is finished, only its passage is searchable.
    store
        .finish_document(&b_doc, pending.generation)
        .await
        .unwrap()
        .unwrap();
    let b_texts = store
        .searchable_texts(PassageSet::Document(&b_doc))
        .await
        .unwrap();
    assert_eq!(b_texts.len(), 1);
    assert_eq!(b_texts[0].text, "changed");
    assert_eq!(b_texts[0].heading.as_deref(), Some("h"));
    assert!(
        store
            .searchable_texts(PassageSet::Session("no-such-session"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn sqlite_texts_cover_searchable_passages_only() {
    let (store, _dir) = sqlite().await;
    texts_cover_searchable_passages_only(store).await;
}

#[tokio::test]
async fn postgres_texts_cover_searchable_passages_only() {
    let (store, _dir) = postgres().await;
    texts_cover_searchable_passages_only(store).await;
}
