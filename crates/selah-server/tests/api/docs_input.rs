//! Documents and search refuse bad input clearly and lose nothing: anonymous and guest writes,
//! malformed and incomplete multipart forms, empty, unknown-format and oversized files (with
//! and without a declared length: nothing is kept), invalid notes, edits and search
//! parameters; and concurrent uploads all land. Someone else's document, or one of another
//! scope, answers 404 (403 for a team guest's changes) and is left exactly as it was.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use selah_core::{Role, TeamRole};
use serde_json::json;

use crate::common::*;
use crate::docs_support::*;
use crate::scope::{direct_user, send_in};

fn leftovers(app: &TestApp) -> Vec<String> {
    match std::fs::read_dir(app.data_dir.path().join("documents")) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".upload-"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test]
async fn bad_uploads_are_refused_and_leave_nothing() {
    let app = app_with_docs(Db::Sqlite, |c| c.docs.max_upload_bytes = 64 * 1024).await;
    let founder = app.founder().await;

    let anon = app.client();
    assert_error(
        &upload(&anon, "a.txt", b"hello").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let (_, guest) = direct_user(&app, "guest", Role::Guest).await;
    assert_error(
        &upload(&guest, "a.txt", b"hello").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_eq!(guest.get(DOCS).await.status, StatusCode::OK);

    for (ctype, body) in [
        ("multipart/form-data; boundary=xyz", b"garbage".to_vec()),
        ("multipart/form-data", b"--x\r\n".to_vec()),
    ] {
        let r = send_raw(&founder, Method::POST, DOCS, ctype, body).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    }
    let incomplete: [&[Part<'_>]; 4] = [
        &[("title", None, None, &b"only a title"[..])],
        &[
            ("file", Some("a.txt"), None, &b"hi"[..]),
            ("colour", None, None, &b"red"[..]),
        ],
        &[
            ("file", Some("a.txt"), None, &b"hi"[..]),
            ("file", Some("b.txt"), None, &b"ho"[..]),
        ],
        &[
            ("file", Some("a.txt"), None, &b"hi"[..]),
            ("title", None, None, &b"   "[..]),
        ],
    ];
    for parts in incomplete {
        let (ct, body) = multipart(parts);
        let r = send_raw(&founder, Method::POST, DOCS, &ct, body).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    }
    assert_error(
        &upload(&founder, "empty.txt", b"").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    );
    let png = [
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
    ];
    assert_error(
        &upload(&founder, "photo.png", &png).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );

    // Too large, with a declared length (refused before reading) and streamed without one.
    let big = vec![b'a'; 100 * 1024];
    assert_error(
        &upload(&founder, "big.txt", &big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    let (ct, body) = multipart(&[("file", Some("big.txt"), None, big.as_slice())]);
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(8192).map(|c| Ok(c.to_vec())).collect();
    let r = founder
        .http
        .post(app.url(DOCS))
        .bearer_auth(founder.token.as_ref().unwrap())
        .header("content-type", ct)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Just under the limit is fine.
    let fits = vec![b'b'; 60 * 1024];
    assert_eq!(
        upload(&founder, "fits.txt", &fits).await.status,
        StatusCode::CREATED
    );

    assert!(leftovers(&app).is_empty(), "{:?}", leftovers(&app));
    let list = founder.get(DOCS).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1, "{}", list.text);
    app.stop().await;
}

#[tokio::test]
async fn bad_notes_edits_and_searches_are_refused() {
    let app = app_with_docs(Db::Sqlite, |_| {}).await;
    let founder = app.founder().await;
    for (body, status, code) in [
        (
            json!({"title": "", "body": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            json!({"title": "t", "body": "  "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            json!({"title": "t", "body": "x".repeat(1024 * 1024 + 1)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            json!({"title": "t".repeat(201), "body": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            json!({"title": "t", "body": "x", "extra": 1}),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            json!({"title": 5, "body": "x"}),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ] {
        assert_error(&founder.post(DOCS, body).await, status, code);
    }
    let r = send_raw(
        &founder,
        Method::POST,
        DOCS,
        "application/json",
        b"{not json".to_vec(),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    let r = send_raw(
        &founder,
        Method::POST,
        DOCS,
        "text/plain",
        b"hello".to_vec(),
    )
    .await;
    assert_error(
        &r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let huge = format!(
        r#"{{"title":"t","body":"{}"}}"#,
        "x".repeat(3 * 1024 * 1024)
    );
    let r = send_raw(
        &founder,
        Method::POST,
        DOCS,
        "application/json",
        huge.into_bytes(),
    )
    .await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    let file = upload(&founder, "a.txt", b"Some text about owls.").await;
    let fid = file.body["id"].as_str().unwrap();
    let r = founder
        .patch(&format!("{DOCS}/{fid}"), json!({"body": "new"}))
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let r = founder.patch(&format!("{DOCS}/{fid}"), json!({})).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let r = founder
        .patch(&format!("{DOCS}/{fid}"), json!({"title": ""}))
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let r = founder.get(&format!("{DOCS}?limit=0")).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");

    for (q, status, code) in [
        ("q=", StatusCode::UNPROCESSABLE_ENTITY, "validation"),
        ("q=%20%20", StatusCode::UNPROCESSABLE_ENTITY, "validation"),
        ("q=owls&k=0", StatusCode::UNPROCESSABLE_ENTITY, "validation"),
        (
            "q=owls&k=51",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        ("q=owls&k=many", StatusCode::BAD_REQUEST, "bad_request"),
        (
            "q=owls&scope=everyone",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        ("q=owls&mode=magic", StatusCode::BAD_REQUEST, "bad_request"),
        (
            "q=owls&fusion=average",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        ("k=3", StatusCode::BAD_REQUEST, "bad_request"),
    ] {
        assert_error(
            &founder.get(&format!("/api/v1/search?{q}")).await,
            status,
            code,
        );
    }
    let long = "a".repeat(1001);
    assert_error(
        &founder.get(&format!("/api/v1/search?q={long}")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    );
    // Quotes, operators and stopwords only: answered, not an error.
    for q in ["%22owls%22%20OR%20NOT", "the%20and%20of", "%2A%28%29%3A%5E"] {
        assert_eq!(
            founder.get(&format!("/api/v1/search?q={q}")).await.status,
            StatusCode::OK,
            "{q}"
        );
    }
    app.stop().await;
}

/// A title over the limit POST uses (200 characters, counted as characters) is refused by
/// PATCH too, alone or with a new body, and the document is left exactly as it was.
#[tokio::test]
async fn an_oversized_title_is_refused_on_edit_and_changes_nothing() {
    let app = app_with_docs(Db::Sqlite, |_| {}).await;
    let founder = app.founder().await;
    let id = note(
        &founder,
        "Minutes",
        "The board met on Tuesday and chose a treasurer.",
    )
    .await;
    let before = settle(&founder, &id).await;
    assert_eq!(before["state"], "ready");
    let path = format!("{DOCS}/{id}");
    for body in [
        json!({"title": "t".repeat(201)}),
        json!({"title": "é".repeat(201)}),
        json!({"title": format!("  {}  ", "x".repeat(201))}),
        json!({"title": "t".repeat(201), "body": "The minutes were replaced."}),
    ] {
        let r = founder.patch(&path, body).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("200 characters"),
            "{}",
            r.text
        );
    }
    let after = founder.get(&path).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.text);
    assert_eq!(after.body, before, "a refused edit changes nothing");
    assert_eq!(after.body["title"], "Minutes");
    // Exactly at the limit, in two-byte characters, is accepted.
    let r = founder
        .patch(&path, json!({"title": "é".repeat(200)}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(founder.get(&path).await.body["title"], "é".repeat(200));
    app.stop().await;
}

/// Everyone but the owner, in every context they can name, gets 404 for a document: another
/// member, a team outsider (also when naming the team), a guest outside the team, and the
/// owner in the wrong context. Guests lack `docs.write`, so their changes get 403; a team
/// guest reads the team's document (`docs.read`). Nothing changes for the owner.
async fn others_cannot_touch_a_document(db: Db) {
    let app = app_with_docs(db, |_| {}).await;
    let (alice_id, alice) = direct_user(&app, "alice", Role::Member).await;
    let (bob_id, bob) = direct_user(&app, "bob", Role::Member).await;
    let (_, carol) = direct_user(&app, "carol", Role::Member).await;
    let (guest_id, guest) = direct_user(&app, "gus", Role::Guest).await;
    let team = app
        .state
        .store
        .create_team("clinic", &alice_id)
        .await
        .unwrap()
        .team
        .id;
    for (uid, role) in [(&bob_id, TeamRole::Member), (&guest_id, TeamRole::Guest)] {
        app.state.store.add_member(&team, uid, role).await.unwrap();
    }
    let alice_t = Api {
        team: Some(team.clone()),
        ..alice.clone()
    };
    let mine = note(
        &alice,
        "Diary",
        "Alice keeps her diary about the garden here.",
    )
    .await;
    let ours = note(&alice_t, "Roster", "The night shift rota of the clinic.").await;
    let mine_before = settle(&alice, &mine).await;
    let ours_before = settle(&alice_t, &ours).await;
    assert_eq!(mine_before["state"], "ready");
    assert_eq!(ours_before["state"], "ready");

    let nf = StatusCode::NOT_FOUND;
    // (who, context, document, GET answer, PATCH and DELETE answer)
    let cases = [
        ("bob", &bob, None, &mine, nf, nf),
        ("bob in the team", &bob, Some(&team), &mine, nf, nf),
        ("carol", &carol, None, &mine, nf, nf),
        // A guest outside any team lacks docs.write: refused before the document is looked up.
        ("guest", &guest, None, &mine, nf, StatusCode::FORBIDDEN),
        ("bob, personal", &bob, None, &ours, nf, nf),
        ("carol", &carol, None, &ours, nf, nf),
        ("carol naming the team", &carol, Some(&team), &ours, nf, nf),
        (
            "guest, personal",
            &guest,
            None,
            &ours,
            nf,
            StatusCode::FORBIDDEN,
        ),
        ("alice, personal", &alice, None, &ours, nf, nf),
        (
            "guest in the team",
            &guest,
            Some(&team),
            &ours,
            StatusCode::OK,
            StatusCode::FORBIDDEN,
        ),
    ];
    for (who, api, ctx, doc, read, change) in cases {
        let path = format!("{DOCS}/{doc}");
        let ctx = ctx.map(String::as_str);
        let code = |s: StatusCode| if s == nf { "not_found" } else { "forbidden" };
        let r = send_in(api, Method::GET, &path, ctx, None).await;
        if read == StatusCode::OK {
            assert_eq!(r.status, StatusCode::OK, "{who}: {}", r.text);
            assert_eq!(r.body, ours_before, "{who}");
        } else {
            assert_error(&r, read, code(read));
        }
        let r = send_in(
            api,
            Method::PATCH,
            &path,
            ctx,
            Some(json!({"title": "Taken over", "body": "Overwritten."})),
        )
        .await;
        assert_error(&r, change, code(change));
        let r = send_in(
            api,
            Method::PATCH,
            &path,
            ctx,
            Some(json!({"title": "Taken"})),
        )
        .await;
        assert_error(&r, change, code(change));
        let r = send_in(api, Method::DELETE, &path, ctx, None).await;
        assert_error(&r, change, code(change));
    }

    // The owner finds both exactly as they were, listed where they belong.
    let r = alice.get(&format!("{DOCS}/{mine}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body, mine_before);
    assert_eq!(r.body["title"], "Diary");
    let r = alice_t.get(&format!("{DOCS}/{ours}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body, ours_before);
    assert_eq!(r.body["title"], "Roster");
    let titles = |r: &Resp| -> Vec<String> {
        r.body
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(titles(&alice.get(DOCS).await), ["Diary"]);
    assert_eq!(titles(&alice_t.get(DOCS).await), ["Roster"]);
    app.stop().await;
}

#[tokio::test]
async fn others_cannot_read_change_or_delete_a_document_on_sqlite() {
    others_cannot_touch_a_document(Db::Sqlite).await;
}

#[tokio::test]
async fn others_cannot_read_change_or_delete_a_document_on_postgres() {
    others_cannot_touch_a_document(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_uploads_all_land() {
    let app = app_with_docs(Db::Sqlite, |_| {}).await;
    let founder = app.founder().await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let api = founder.clone();
            tokio::spawn(async move {
                let text = format!("Report {i}: the weather station on hill {i} measured rain.");
                let r = upload(&api, &format!("report{i}.txt"), text.as_bytes()).await;
                assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
                r.body["id"].as_str().unwrap().to_string()
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap());
    }
    assert_eq!(ids.len(), 8);
    for id in &ids {
        assert_eq!(settle(&founder, id).await["state"], "ready");
    }
    let listed: BTreeSet<String> = founder
        .get(DOCS)
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, ids);
    let hits = search(&founder, "weather station rain", "&k=20").await;
    let found: BTreeSet<&str> = hits
        .iter()
        .map(|h| h["document_id"].as_str().unwrap())
        .collect();
    assert_eq!(found.len(), 8);
    app.stop().await;
}
