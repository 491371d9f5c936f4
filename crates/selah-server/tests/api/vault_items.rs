//! Vault items over HTTP: boundary-size round trips through tus uploads and streamed downloads,
//! the tus protocol's refusals, folders, trash, restore and purge (blobs removed from disk),
//! the cleanup job, tampering detected by the client, and simultaneous changes and moves.
//! Both backends where the SQL differs.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;
use crate::vault_support::*;

const SIZES: [usize; 6] = [0, 1, 65535, 65536, 65537, 10 << 20];

async fn round_trips(db: Db) {
    let app = TestApp::spawn_with(db, |_| {}).await;
    let founder = app.founder().await;
    let alice = with_vault(app.user_with_role(&founder, "alice", "member").await).await;
    let me = [&alice.key.recipient()];
    for (i, size) in SIZES.into_iter().enumerate() {
        let plain = bytes(size, i as u8);
        let file = seal(&plain, &me);
        let item = create(&alice, "file", &format!("file {size}"), None).await;
        let id = item["id"].as_str().unwrap();
        assert!(item["size"].is_null() && item["current_version_id"].is_null());
        // Uneven pieces, so the hash state carries across requests.
        let version = upload(&alice.api, id, &file, 1_000_003).await;
        let got = download(&alice.api, id, None).await.unwrap();
        assert_eq!(
            got, file,
            "size {size}: the stored age file comes back unchanged"
        );
        assert_eq!(open(&got, &alice.key).unwrap(), plain, "size {size}");
        let detail = alice.api.get(&format!("/api/v1/vault/items/{id}")).await;
        assert_eq!(detail.body["current_version_id"], version.as_str());
        assert_eq!(detail.body["size"], file.len());
        assert_eq!(detail.body["versions"][0]["size"], file.len());
        assert_eq!(name_of(&detail.body, &alice.key), format!("file {size}"));
    }
    // A second version becomes current; the first stays downloadable.
    let item = create(&alice, "note", "a note", None).await;
    let id = item["id"].as_str().unwrap();
    let v1 = upload(&alice.api, id, &seal(b"first", &me), 1 << 20).await;
    upload(&alice.api, id, &seal(b"second", &me), 1 << 20).await;
    let now = download(&alice.api, id, None).await.unwrap();
    assert_eq!(open(&now, &alice.key).unwrap(), b"second");
    let old = download(&alice.api, id, Some(&v1)).await.unwrap();
    assert_eq!(open(&old, &alice.key).unwrap(), b"first");
    assert_eq!(
        count(&alice.api, "/api/v1/vault/items").await,
        SIZES.len() + 1
    );
}

#[tokio::test]
async fn every_boundary_size_round_trips_on_sqlite() {
    round_trips(Db::Sqlite).await;
}

#[tokio::test]
async fn every_boundary_size_round_trips_on_postgres() {
    round_trips(Db::Postgres).await;
}

async fn status_of(r: reqwest::Response) -> (StatusCode, String) {
    let s = r.status();
    (s, r.text().await.unwrap_or_default())
}

#[tokio::test]
async fn the_tus_protocol_refuses_what_it_must() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.vault.max_file_bytes = 1 << 20).await;
    let founder = app.founder().await;
    let alice = with_vault(app.user_with_role(&founder, "alice", "member").await).await;
    let bob = with_vault(app.user_with_role(&founder, "bob", "member").await).await;
    let item = create(&alice, "file", "f", None).await;
    let id = item["id"].as_str().unwrap();
    let file = seal(&bytes(200_000, 1), &[&alice.key.recipient()]);

    let r = tus(&alice.api, Method::OPTIONS, "/api/v1/vault/uploads")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.headers()["tus-version"], "1.0.0");
    assert_eq!(r.headers()["tus-max-size"], (1 << 20).to_string().as_str());

    // Creation: version header, lengths, metadata, the item.
    let post = |len: String, meta: String| {
        tus(&alice.api, Method::POST, "/api/v1/vault/uploads")
            .header("upload-length", len)
            .header("upload-metadata", meta)
    };
    let good_meta = upload_metadata(id, &file);
    let no_version = alice
        .api
        .http
        .post(app.url("/api/v1/vault/uploads"))
        .bearer_auth(alice.api.token.as_ref().unwrap())
        .header("upload-length", "10")
        .header("upload-metadata", &good_meta)
        .send()
        .await
        .unwrap();
    assert_eq!(no_version.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(no_version.headers()["tus-resumable"], "1.0.0");
    for (len, meta, want) in [
        ("0", good_meta.clone(), StatusCode::UNPROCESSABLE_ENTITY),
        ("-1", good_meta.clone(), StatusCode::BAD_REQUEST),
        ("ten", good_meta.clone(), StatusCode::BAD_REQUEST),
        ("2000000", good_meta.clone(), StatusCode::PAYLOAD_TOO_LARGE),
        ("10", "item x".into(), StatusCode::BAD_REQUEST),
        ("10", "sha256 eA==".into(), StatusCode::BAD_REQUEST),
        (
            "10",
            upload_metadata("00000000-0000-7000-8000-000000000000", &file),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (s, t) = status_of(post(len.into(), meta).send().await.unwrap()).await;
        assert_eq!(s, want, "Upload-Length {len}: {t}");
    }
    // Someone else's item, and a folder, cannot get uploads.
    let r = tus(&bob.api, Method::POST, "/api/v1/vault/uploads")
        .header("upload-length", file.len().to_string())
        .header("upload-metadata", &good_meta)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let folder = create(&alice, "folder", "d", None).await;
    let r = post(
        "10".into(),
        upload_metadata(folder["id"].as_str().unwrap(), &file),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Appending: content type, offsets, ownership, length.
    let path = start_upload(&alice.api, id, &file).await;
    let r = tus(&alice.api, Method::PATCH, &path)
        .header("upload-offset", "0")
        .body(file[..10].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = patch(&alice.api, &path, 0, file[..70_000].to_vec()).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (s, t) = status_of(patch(&alice.api, &path, 0, file[..10].to_vec()).await).await;
    assert_eq!(s, StatusCode::CONFLICT, "{t}");
    assert!(
        t.contains("70000"),
        "the error names the server's offset: {t}"
    );
    assert_eq!(
        patch(&bob.api, &path, 70_000, file[70_000..].to_vec())
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "an upload is its creator's"
    );
    let head = tus(&alice.api, Method::HEAD, &path).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["upload-offset"], "70000");
    assert_eq!(
        head.headers()["upload-length"],
        file.len().to_string().as_str()
    );
    assert_eq!(head.headers()["cache-control"], "no-store");
    // Too many bytes: what fits is kept, the rest refused, and the upload completes.
    let mut extra = file[70_000..].to_vec();
    extra.extend_from_slice(b"overflow");
    let (s, t) = status_of(patch(&alice.api, &path, 70_000, extra).await).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{t}");
    let r = patch(&alice.api, &path, file.len() as u64, Vec::new()).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(r.headers().contains_key("selah-version-id"));
    assert_eq!(download(&alice.api, id, None).await.unwrap(), file);

    // Complete but not what was announced: discarded with 460.
    let path = start_upload(&alice.api, id, &file).await;
    let mut flipped = file.clone();
    flipped[100_000] ^= 1;
    let (s, t) = status_of(patch(&alice.api, &path, 0, flipped).await).await;
    assert_eq!(s.as_u16(), 460, "{t}");
    assert_eq!(
        tus(&alice.api, Method::HEAD, &path)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    // Complete and as announced, but not an age file: discarded with 422.
    let junk = bytes(5000, 9);
    let path = start_upload(&alice.api, id, &junk).await;
    let (s, t) = status_of(patch(&alice.api, &path, 0, junk).await).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{t}");
    // Abandoned: gone, file and all.
    let path = start_upload(&alice.api, id, &file).await;
    assert_eq!(
        patch(&alice.api, &path, 0, file[..1000].to_vec())
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let r = tus(&alice.api, Method::DELETE, &path).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let upload_id = path.rsplit('/').next().unwrap();
    assert!(
        !app.data_dir
            .path()
            .join("vault/uploads")
            .join(upload_id)
            .exists()
    );
    // Still one version: the refused uploads added none.
    let detail = alice.api.get(&format!("/api/v1/vault/items/{id}")).await;
    assert_eq!(detail.body["versions"].as_array().unwrap().len(), 1);

    // Signed out, and without vault.use.
    let anon = app.client();
    let r = tus(&anon, Method::HEAD, &path).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    deny_permission(&founder, &bob.api, "vault.use").await;
    let r = tus(&bob.api, Method::POST, "/api/v1/vault/uploads")
        .header("upload-length", "10")
        .header("upload-metadata", &good_meta)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// Two requests append to one upload at once: one is refused, and the file is still right.
#[tokio::test]
async fn concurrent_appends_to_one_upload_do_not_mix() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let alice = with_vault(app.user_with_role(&founder, "alice", "member").await).await;
    let item = create(&alice, "file", "f", None).await;
    let id = item["id"].as_str().unwrap();
    let file = seal(&bytes(8 << 20, 3), &[&alice.key.recipient()]);
    let path = start_upload(&alice.api, id, &file).await;
    let sends = (0..4).map(|_| patch(&alice.api, &path, 0, file.clone()));
    let results = futures_util::future::join_all(sends).await;
    let ok = results
        .iter()
        .filter(|r| r.status() == StatusCode::NO_CONTENT)
        .count();
    let refused = results
        .iter()
        .filter(|r| r.status() == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, refused), (1, 3));
    assert_eq!(download(&alice.api, id, None).await.unwrap(), file);
}

/// Folders, moves, the trash and purging, with the blob files on disk.
async fn trash_and_purge(db: Db) {
    let app = TestApp::spawn_with(db, |_| {}).await;
    let founder = app.founder().await;
    let alice = with_vault(app.user_with_role(&founder, "alice", "member").await).await;
    let me = [&alice.key.recipient()];
    let folder = create(&alice, "folder", "Reports", None).await;
    let fid = folder["id"].as_str().unwrap();
    let sub = create(&alice, "folder", "2026", Some(fid)).await;
    let sid = sub["id"].as_str().unwrap();
    let file = create(&alice, "file", "q3.pdf", Some(sid)).await;
    let id = file["id"].as_str().unwrap();
    let version = upload(&alice.api, id, &seal(b"q3", &me), 1 << 20).await;
    let blob = app
        .data_dir
        .path()
        .join("vault/blobs")
        .join(&version[version.len() - 2..])
        .join(&version);
    assert!(blob.exists());

    let children = alice
        .api
        .get(&format!("/api/v1/vault/items?parent_id={fid}"))
        .await;
    assert_eq!(children.body.as_array().unwrap().len(), 1);
    let root = alice.api.get("/api/v1/vault/items?parent_id=root").await;
    assert_eq!(root.body.as_array().unwrap().len(), 1);

    // Moves: not into itself or its own subtree; a stale row version is refused.
    let rv = folder["row_version"].as_i64().unwrap();
    let r = alice
        .api
        .patch(
            &format!("/api/v1/vault/items/{fid}"),
            json!({"parent_id": sid, "row_version": rv}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let r = alice
        .api
        .patch(
            &format!("/api/v1/vault/items/{fid}"),
            json!({"parent_id": fid, "row_version": rv}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let detail = alice.api.get(&format!("/api/v1/vault/items/{id}")).await;
    let rv = detail.body["row_version"].as_i64().unwrap();
    let r = alice
        .api
        .patch(
            &format!("/api/v1/vault/items/{id}"),
            json!({"parent_id": null, "meta": meta("renamed.pdf", &["tax"], &me), "row_version": rv}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["parent_id"].is_null());
    assert_eq!(name_of(&r.body, &alice.key), "renamed.pdf");
    let again = alice
        .api
        .patch(
            &format!("/api/v1/vault/items/{id}"),
            json!({"parent_id": sid, "row_version": rv}),
        )
        .await;
    assert_error(&again, StatusCode::CONFLICT, "conflict");
    let rv = r.body["row_version"].as_i64().unwrap();
    let r = alice
        .api
        .patch(
            &format!("/api/v1/vault/items/{id}"),
            json!({"parent_id": sid, "row_version": rv}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // Trashing the top folder takes the subtree; the trash lists only what was trashed.
    assert_eq!(
        alice
            .api
            .delete(&format!("/api/v1/vault/items/{fid}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(alice.api.get("/api/v1/vault/items").await.body, json!([]));
    let trash = alice.api.get("/api/v1/vault/items?trashed=true").await;
    assert_eq!(trash.body.as_array().unwrap().len(), 1);
    assert_eq!(trash.body[0]["id"], fid);
    // A trashed item is still downloadable (restore is the way back), not changeable.
    assert!(download(&alice.api, id, None).await.is_ok());
    let r = alice
        .api
        .patch(
            &format!("/api/v1/vault/items/{id}"),
            json!({"row_version": 99}),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = alice
        .api
        .post(&format!("/api/v1/vault/items/{id}/restore"), json!({}))
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = alice
        .api
        .post(&format!("/api/v1/vault/items/{fid}/restore"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(count(&alice.api, "/api/v1/vault/items").await, 3);

    // Purging removes rows and the blob file.
    let r = alice
        .api
        .delete(&format!("/api/v1/vault/items/{fid}?purge=true"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(alice.api.get("/api/v1/vault/items").await.body, json!([]));
    assert_error(
        &alice.api.get(&format!("/api/v1/vault/items/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert!(!blob.exists(), "the purge removed the blob");
}

#[tokio::test]
async fn folders_trash_restore_and_purge_on_sqlite() {
    trash_and_purge(Db::Sqlite).await;
}

#[tokio::test]
async fn folders_trash_restore_and_purge_on_postgres() {
    trash_and_purge(Db::Postgres).await;
}

/// Two changes of one item sent at the same moment with the same row_version: one lands, the
/// other gets 409, and the stored item is the winner's (its name and its place).
async fn concurrent_patches(db: Db) {
    let app = TestApp::spawn_with(db, |_| {}).await;
    let founder = app.founder().await;
    let alice = with_vault(app.user_with_role(&founder, "alice", "member").await).await;
    let me = [&alice.key.recipient()];
    let folder = create(&alice, "folder", "target", None).await;
    let fid = folder["id"].as_str().unwrap();
    for round in 0..5 {
        let item = create(&alice, "file", "start", None).await;
        let id = item["id"].as_str().unwrap();
        let rv = item["row_version"].as_i64().unwrap();
        let path = format!("/api/v1/vault/items/{id}");
        let (ra, rb) = tokio::join!(
            alice.api.patch(
                &path,
                json!({"meta": meta("by a", &[], &me), "row_version": rv})
            ),
            alice.api.patch(
                &path,
                json!({"meta": meta("by b", &[], &me), "parent_id": fid, "row_version": rv})
            ),
        );
        let (winner, loser, name, parent) = match (ra.status, rb.status) {
            (StatusCode::OK, StatusCode::CONFLICT) => (&ra, &rb, "by a", None),
            (StatusCode::CONFLICT, StatusCode::OK) => (&rb, &ra, "by b", Some(fid)),
            other => panic!("round {round}: {other:?}: {} / {}", ra.text, rb.text),
        };
        assert_error(loser, StatusCode::CONFLICT, "conflict");
        assert_eq!(winner.body["row_version"], rv + 1, "{}", winner.text);
        let stored = alice.api.get(&path).await;
        assert_eq!(stored.status, StatusCode::OK, "{}", stored.text);
        assert_eq!(stored.body["row_version"], rv + 1, "round {round}");
        assert_eq!(name_of(&stored.body, &alice.key), name, "round {round}");
        assert_eq!(stored.body["parent_id"].as_str(), parent, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_patches_with_one_row_version_give_one_winner_on_sqlite() {
    concurrent_patches(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_patches_with_one_row_version_give_one_winner_on_postgres() {
    concurrent_patches(Db::Postgres).await;
}

/// Folder A moved into B and B into A at the same moment: exactly one move lands (the other
/// is refused as a move into its own subtree), so the tree never holds a cycle.
async fn crossed_moves(db: Db) {
    let app = TestApp::spawn_with(db, |_| {}).await;
    let founder = app.founder().await;
    let alice = with_vault(app.user_with_role(&founder, "alice", "member").await).await;
    for round in 0..10 {
        let a = create(&alice, "folder", "a", None).await;
        let b = create(&alice, "folder", "b", None).await;
        let (aid, bid) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
        let (pa, pb) = (
            format!("/api/v1/vault/items/{aid}"),
            format!("/api/v1/vault/items/{bid}"),
        );
        let (ra, rb) = tokio::join!(
            alice.api.patch(
                &pa,
                json!({"parent_id": bid, "row_version": a["row_version"]})
            ),
            alice.api.patch(
                &pb,
                json!({"parent_id": aid, "row_version": b["row_version"]})
            ),
        );
        // Read the parents one by one (no recursive query runs over a possible cycle).
        let a_parent = alice.api.get(&pa).await.body["parent_id"].clone();
        let b_parent = alice.api.get(&pb).await.body["parent_id"].clone();
        assert!(
            !(a_parent == bid && b_parent == aid),
            "round {round}: a cycle (a in b and b in a): {} {} / {} {}",
            ra.status,
            ra.text,
            rb.status,
            rb.text
        );
        let (loser, moved, parent, other) = match (ra.status, rb.status) {
            (StatusCode::OK, s) if s != StatusCode::OK => (&rb, &a_parent, bid, &b_parent),
            (s, StatusCode::OK) if s != StatusCode::OK => (&ra, &b_parent, aid, &a_parent),
            other => panic!("round {round}: {other:?}: {} / {}", ra.text, rb.text),
        };
        assert_error(loser, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(moved, parent, "round {round}: the winner's move is stored");
        assert!(
            other.is_null(),
            "round {round}: the loser stays at the root"
        );
    }
    // The tree is whole: both folders of every round are under the root, one inside the other.
    assert_eq!(
        count(&alice.api, "/api/v1/vault/items?parent_id=root").await,
        10
    );
}

/// A loop through four folders: x and y at the root, p inside y, q inside x. Moving x into p
/// and y into q each pass the cycle check alone and touch four different rows; together they
/// would close x → p → y → q → x. Moves in one vault wait their turn, so the second sees the
/// first and is refused.
async fn crossed_chain_moves(db: Db) {
    let app = TestApp::spawn_with(db, |_| {}).await;
    let founder = app.founder().await;
    let alice = with_vault(app.user_with_role(&founder, "alice", "member").await).await;
    for round in 0..5 {
        let x = create(&alice, "folder", "x", None).await;
        let y = create(&alice, "folder", "y", None).await;
        let (xid, yid) = (x["id"].as_str().unwrap(), y["id"].as_str().unwrap());
        let p = create(&alice, "folder", "p", Some(yid)).await;
        let q = create(&alice, "folder", "q", Some(xid)).await;
        let (px, py) = (
            format!("/api/v1/vault/items/{xid}"),
            format!("/api/v1/vault/items/{yid}"),
        );
        let (rx, ry) = tokio::join!(
            alice.api.patch(
                &px,
                json!({"parent_id": p["id"], "row_version": x["row_version"]})
            ),
            alice.api.patch(
                &py,
                json!({"parent_id": q["id"], "row_version": y["row_version"]})
            ),
        );
        let statuses = [rx.status, ry.status];
        assert!(
            statuses.contains(&StatusCode::OK)
                && statuses.contains(&StatusCode::UNPROCESSABLE_ENTITY),
            "round {round}: one move wins, the other would close a loop: {} {} / {} {}",
            rx.status,
            rx.text,
            ry.status,
            ry.text
        );
        let x_parent = alice.api.get(&px).await.body["parent_id"].clone();
        let y_parent = alice.api.get(&py).await.body["parent_id"].clone();
        assert!(
            x_parent.is_null() || y_parent.is_null(),
            "round {round}: a loop: x in {x_parent}, y in {y_parent}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crossed_moves_through_a_chain_never_make_a_loop_on_sqlite() {
    crossed_chain_moves(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crossed_moves_through_a_chain_never_make_a_loop_on_postgres() {
    crossed_chain_moves(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crossed_folder_moves_never_make_a_cycle_on_sqlite() {
    crossed_moves(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crossed_folder_moves_never_make_a_cycle_on_postgres() {
    crossed_moves(Db::Postgres).await;
}

/// The cleanup job purges old trash and removes files nothing names.
#[tokio::test]
async fn the_cleanup_job_purges_old_trash_and_stray_files() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.vault.trash_days = 0).await;
    let founder = app.founder().await;
    let alice = with_vault(app.user_with_role(&founder, "alice", "member").await).await;
    let me = [&alice.key.recipient()];
    let kept = create(&alice, "file", "kept", None).await;
    upload(
        &alice.api,
        kept["id"].as_str().unwrap(),
        &seal(b"kept", &me),
        1 << 20,
    )
    .await;
    let gone = create(&alice, "file", "gone", None).await;
    let gone_id = gone["id"].as_str().unwrap();
    let v = upload(&alice.api, gone_id, &seal(b"gone", &me), 1 << 20).await;
    alice
        .api
        .delete(&format!("/api/v1/vault/items/{gone_id}"))
        .await;
    // A stray file, as a crash between a purge's commit and its removals would leave.
    let stray_dir = app.data_dir.path().join("vault/blobs/ab");
    std::fs::create_dir_all(&stray_dir).unwrap();
    let stray = stray_dir.join("00000000-0000-7000-8000-0000000000ab");
    std::fs::write(&stray, b"stray").unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&stray)
        .unwrap()
        .set_modified(old)
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;

    let r = founder.post("/api/v1/admin/cleanup", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let job = r.body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "vault_cleanup")
        .unwrap()
        .clone();
    assert_eq!(job["ok"], true, "{job}");
    assert_eq!(job["stats"]["purged_items"], 1, "{job}");
    assert_eq!(job["stats"]["files_removed"], 1, "{job}");
    assert!(!stray.exists());
    assert!(
        !app.data_dir
            .path()
            .join("vault/blobs")
            .join(&v[v.len() - 2..])
            .join(&v)
            .exists()
    );
    assert_eq!(count(&alice.api, "/api/v1/vault/items").await, 1);
    assert!(
        download(&alice.api, kept["id"].as_str().unwrap(), None)
            .await
            .is_ok()
    );
}

/// A flipped byte in a stored blob: the server cuts the download off (its SHA-256 no longer
/// matches) and the client's decryption fails; a header swapped in from another item does not
/// open the payload.
#[tokio::test]
async fn tampered_blobs_and_swapped_headers_do_not_decrypt() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let alice = with_vault(app.user_with_role(&founder, "alice", "member").await).await;
    let me = [&alice.key.recipient()];
    let a = create(&alice, "file", "a", None).await;
    let a_id = a["id"].as_str().unwrap();
    let va = upload(&alice.api, a_id, &seal(&bytes(300_000, 4), &me), 1 << 20).await;
    let b = create(&alice, "file", "b", None).await;
    let b_id = b["id"].as_str().unwrap();
    let b_file = seal(&bytes(300_000, 5), &me);
    upload(&alice.api, b_id, &b_file, 1 << 20).await;

    let blob = app
        .data_dir
        .path()
        .join("vault/blobs")
        .join(&va[va.len() - 2..])
        .join(&va);
    let mut stored = std::fs::read(&blob).unwrap();
    stored[200_000] ^= 0x40;
    std::fs::write(&blob, &stored).unwrap();
    match download(&alice.api, a_id, None).await {
        Err(_) => {}
        Ok(got) => {
            assert!(
                got.len() < stored.len(),
                "a corrupt blob is never served whole"
            );
            assert!(open(&got, &alice.key).is_err());
        }
    }

    // B's header over A's payload, as a malicious server could serve: the file key is B's,
    // so the payload's first chunk fails to authenticate.
    let headers = alice
        .api
        .get(&format!("/api/v1/vault/items/{b_id}/headers"))
        .await;
    let b_header = headers.body["headers"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    let a_headers = alice
        .api
        .get(&format!("/api/v1/vault/items/{a_id}/headers"))
        .await;
    let r = alice
        .api
        .put(
            &format!("/api/v1/vault/items/{a_id}/recipients"),
            json!({"recipients": [], "meta": a_headers.body["meta"], "headers": {va.clone(): b_header},
                   "row_version": a_headers.body["row_version"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    std::fs::write(&blob, {
        stored[200_000] ^= 0x40;
        &stored
    })
    .unwrap();
    let swapped = download(&alice.api, a_id, None).await.unwrap();
    let err = open(&swapped, &alice.key).unwrap_err();
    assert!(!err.to_string().is_empty());
    assert_eq!(open(&b_file, &alice.key).unwrap(), bytes(300_000, 5));
}

/// Malformed item requests get clear errors and change nothing.
#[tokio::test]
async fn malformed_item_requests_are_refused() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let alice = with_vault(app.user_with_role(&founder, "alice", "member").await).await;
    let me = [&alice.key.recipient()];
    let good = meta("x", &[], &me);
    for (body, status) in [
        (
            json!({"kind": "blob", "meta": good}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"kind": "file", "meta": "%%%"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"kind": "file", "meta": base64_of(b"plain text name.txt")}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"kind": "file", "meta": base64_of(&vec![b'a'; 70_000])}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"kind": "file", "meta": good, "parent_id": "nope"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"kind": "file", "meta": good, "parent_id": "00000000-0000-7000-8000-000000000000"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"kind": "file", "meta": good, "recipients": ["00000000-0000-7000-8000-000000000000"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"kind": "file"}), StatusCode::BAD_REQUEST),
        (
            json!({"kind": "file", "meta": good, "name": "leak.txt"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let r = alice.api.post("/api/v1/vault/items", body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
    }
    for q in [
        "limit=0",
        "limit=9999",
        "parent_id=x",
        "after=x",
        "trashed=maybe",
        "other=1",
    ] {
        let r = alice.api.get(&format!("/api/v1/vault/items?{q}")).await;
        assert!(r.status.is_client_error(), "{q}: {}", r.status);
    }
    assert_eq!(alice.api.get("/api/v1/vault/items").await.body, json!([]));
    for path in [
        "/api/v1/vault/items/..%2f..%2fetc",
        "/api/v1/vault/items/x/content",
    ] {
        assert_eq!(
            alice.api.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// A restart keeps an unfinished upload where it is (the client resumes at the same offset)
/// and publishes a committed version whose file a crash left under `uploads/`.
#[tokio::test]
async fn a_restart_keeps_partial_uploads_and_publishes_committed_ones() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let alice = with_vault(app.user_with_role(&founder, "alice", "member").await).await;
    let me = [&alice.key.recipient()];
    let a = create(&alice, "file", "a", None).await;
    let a_id = a["id"].as_str().unwrap().to_string();
    let file = seal(&bytes(500_000, 8), &me);
    let partial_path = start_upload(&alice.api, &a_id, &file).await;
    assert_eq!(
        patch(&alice.api, &partial_path, 0, file[..200_000].to_vec())
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let b = create(&alice, "file", "b", None).await;
    let b_id = b["id"].as_str().unwrap().to_string();
    let b_file = seal(b"committed before the crash", &me);
    let v = upload(&alice.api, &b_id, &b_file, 1 << 20).await;
    let vault = app.data_dir.path().join("vault");
    let blob = vault.join("blobs").join(&v[v.len() - 2..]).join(&v);
    std::fs::rename(&blob, vault.join("uploads").join(&v)).unwrap();
    // Served from uploads/ even before the restart publishes it.
    assert_eq!(download(&alice.api, &b_id, None).await.unwrap(), b_file);

    let (config, dir) = app.stop().await;
    let app = TestApp::spawn_in(config, dir).await;
    let mut alice_api = alice.api.clone();
    alice_api.base = app.base.clone();
    assert!(
        blob.exists(),
        "the committed version was published at start"
    );
    let head = tus(&alice_api, Method::HEAD, &partial_path)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["upload-offset"], "200000");
    let r = patch(&alice_api, &partial_path, 200_000, file[200_000..].to_vec()).await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(download(&alice_api, &a_id, None).await.unwrap(), file);
    assert_eq!(download(&alice_api, &b_id, None).await.unwrap(), b_file);
}

/// tus clients (tus-js-client) send `filename` and `filetype` in `Upload-Metadata`: the server
/// must not keep them, since a file name is what it must never learn (docs/SECURITY.md).
#[tokio::test]
async fn tus_filename_metadata_is_not_stored() {
    const NAME: &str = "SPINDRIFT-2093-name.pdf";
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let alice = with_vault(app.user_with_role(&founder, "alice", "member").await).await;
    let item = create(&alice, "file", "x", None).await;
    let id = item["id"].as_str().unwrap();
    let file = seal(&bytes(100_000, 2), &[&alice.key.recipient()]);
    let b64 = |v: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(v)
    };
    let r = tus(&alice.api, Method::POST, "/api/v1/vault/uploads")
        .header("upload-length", file.len().to_string())
        .header(
            "upload-metadata",
            format!(
                "filename {},filetype {},{}",
                b64(NAME),
                b64("application/pdf"),
                upload_metadata(id, &file)
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let path = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(
        patch(&alice.api, &path, 0, file.clone()).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(download(&alice.api, id, None).await.unwrap(), file);
    // The database (and its write-ahead log) and the blobs, after a clean stop.
    let (_, data) = app.stop().await;
    let holding = |needle: &[u8]| -> Vec<std::path::PathBuf> {
        files_under(data.path())
            .into_iter()
            .filter(|p| {
                let b = std::fs::read(p).unwrap_or_default();
                b.windows(needle.len()).any(|w| w == needle)
            })
            .collect()
    };
    assert_eq!(holding(NAME.as_bytes()), Vec::<std::path::PathBuf>::new());
    assert_eq!(
        holding(b"application/pdf"),
        Vec::<std::path::PathBuf>::new()
    );
    // The search finds what is stored: the SHA-256 announced with the same header.
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&file));
    assert!(!holding(sha.as_bytes()).is_empty(), "the search works");
}
