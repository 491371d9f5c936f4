//! Sharing vault items: headers rewrapped by the owner's client for new recipients (the payload
//! untouched), the recipient decrypting with their own key, unsharing cutting access at once,
//! team items seen only by members who are recipients, and the refusals: neither a recipient
//! nor a stranger reshares, restores or touches the owner's uploads.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::{Method, StatusCode};
use selah_core::TeamRole;
use selah_vault::age::Recipient;
use serde_json::{Map, Value, json};

use crate::common::*;
use crate::scope::invite;
use crate::vault_support::*;

/// The owner's client: every version's header and the metadata rewrapped for `to`.
async fn rewrapped(owner: &Vaulted, item: &str, to: &[&Vaulted]) -> Value {
    let h = owner
        .api
        .get(&format!("/api/v1/vault/items/{item}/headers"))
        .await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.text);
    let keys: Vec<_> = to.iter().map(|v| v.key.recipient()).collect();
    let recipients: Vec<&dyn Recipient> = keys.iter().map(|k| k as &dyn Recipient).collect();
    let ident = [owner.key.identity() as &dyn selah_vault::age::Identity];
    let mut headers = Map::new();
    for (version, header) in h.body["headers"].as_object().unwrap() {
        let old = BASE64.decode(header.as_str().unwrap()).unwrap();
        let new = selah_vault::rewrap(&old, &ident, &recipients).unwrap();
        headers.insert(version.clone(), BASE64.encode(new).into());
    }
    let old_meta = BASE64.decode(h.body["meta"].as_str().unwrap()).unwrap();
    let plain = open(&old_meta, &owner.key).unwrap();
    let key_refs: Vec<_> = keys.iter().collect();
    json!({
        "recipients": to.iter().map(|v| v.id.clone()).collect::<Vec<_>>(),
        "meta": BASE64.encode(seal(&plain, &key_refs)),
        "headers": headers,
        "row_version": h.body["row_version"],
    })
}

/// The cast of these tests: a server, its founder, alice and bob (members of the team
/// "clinic", with vaults) and carol (with a vault, in no team of theirs).
struct Clinic {
    app: TestApp,
    founder: Api,
    alice: Vaulted,
    bob: Vaulted,
    carol: Vaulted,
    team: String,
}

async fn clinic(db: Db) -> Clinic {
    let app = TestApp::spawn_with(db, |_| {}).await;
    let founder = app.founder().await;
    let alice = with_vault(app.user_with_role(&founder, "alice", "member").await).await;
    let bob = with_vault(app.user_with_role(&founder, "bob", "member").await).await;
    let carol = with_vault(app.user_with_role(&founder, "carol", "member").await).await;
    let t = founder
        .post("/api/v1/teams", json!({"name": "clinic"}))
        .await;
    let team = t.body["id"].as_str().unwrap().to_string();
    invite(&founder, &team, &alice.api, &alice.id, TeamRole::Member).await;
    invite(&founder, &team, &bob.api, &bob.id, TeamRole::Member).await;
    Clinic {
        app,
        founder,
        alice,
        bob,
        carol,
        team,
    }
}

async fn sharing(db: Db) {
    let Clinic {
        app,
        founder,
        alice,
        bob,
        carol,
        team,
    } = clinic(db).await;

    // A personal item with two versions, shared with a teammate.
    let item = create(&alice, "file", "notes.txt", None).await;
    let id = item["id"].as_str().unwrap();
    let me = [&alice.key.recipient()];
    upload(&alice.api, id, &seal(b"v1", &me), 1 << 20).await;
    let v2 = seal(b"version two", &me);
    upload(&alice.api, id, &v2, 1 << 20).await;
    assert_error(
        &bob.api.get(&format!("/api/v1/vault/items/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let body = rewrapped(&alice, id, &[&alice, &bob]).await;
    let r = alice
        .api
        .put(
            &format!("/api/v1/vault/items/{id}/recipients"),
            body.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["recipients"].as_array().unwrap().len(), 2);
    // The same body again is stale.
    let again = alice
        .api
        .put(&format!("/api/v1/vault/items/{id}/recipients"), body)
        .await;
    assert_error(&again, StatusCode::CONFLICT, "conflict");

    let listed = bob.api.get("/api/v1/vault/items").await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(listed.body[0]["shared"], true);
    assert_eq!(name_of(&listed.body[0], &bob.key), "notes.txt");
    let got = download(&bob.api, id, None).await.unwrap();
    assert_eq!(open(&got, &bob.key).unwrap(), b"version two");
    // Only the header changed: same payload bytes after it.
    let off_new = selah_vault::payload_offset(&got).unwrap();
    let off_old = selah_vault::payload_offset(&v2).unwrap();
    assert_eq!(got[off_new..], v2[off_old..]);
    // A recipient of a personal item reads it; only the owner changes it.
    let rv = listed.body[0]["row_version"].clone();
    let r = bob
        .api
        .patch(
            &format!("/api/v1/vault/items/{id}"),
            json!({"parent_id": null, "row_version": rv}),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        bob.api
            .delete(&format!("/api/v1/vault/items/{id}?purge=true"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Refusals: someone outside every team of alice's; a wrong stanza count; a missing version.
    let mut to_carol = rewrapped(&alice, id, &[&alice, &carol]).await;
    let r = alice
        .api
        .put(
            &format!("/api/v1/vault/items/{id}/recipients"),
            to_carol.clone(),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    to_carol["recipients"] = json!([bob.id]);
    to_carol["headers"] = rewrapped(&alice, id, &[&alice]).await["headers"].clone();
    let r = alice
        .api
        .put(&format!("/api/v1/vault/items/{id}/recipients"), to_carol)
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let mut one_missing = rewrapped(&alice, id, &[&alice, &bob]).await;
    let first = one_missing["headers"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    one_missing["headers"]
        .as_object_mut()
        .unwrap()
        .remove(&first);
    let r = alice
        .api
        .put(&format!("/api/v1/vault/items/{id}/recipients"), one_missing)
        .await;
    assert_error(&r, StatusCode::CONFLICT, "conflict");

    // Unsharing cuts access at once.
    let alone = rewrapped(&alice, id, &[&alice]).await;
    let r = alice
        .api
        .put(&format!("/api/v1/vault/items/{id}/recipients"), alone)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(bob.api.get("/api/v1/vault/items").await.body, json!([]));
    assert!(download(&bob.api, id, None).await.is_err());
    let mine = download(&alice.api, id, None).await.unwrap();
    assert_eq!(open(&mine, &alice.key).unwrap(), b"version two");

    // Team items: members who are recipients see them and may change them; other members
    // do not see them; the personal context does not list them.
    let dave = with_vault(app.user_with_role(&founder, "dave", "member").await).await;
    invite(&founder, &team, &dave.api, &dave.id, TeamRole::Member).await;
    let mut alice_t = alice.api.clone();
    alice_t.team = Some(team.clone());
    let mut bob_t = bob.api.clone();
    bob_t.team = Some(team.clone());
    let mut dave_t = dave.api.clone();
    dave_t.team = Some(team.clone());
    let both = [&alice.key.recipient(), &bob.key.recipient()];
    let r = alice_t
        .post(
            "/api/v1/vault/items",
            json!({"kind": "file", "meta": meta("roster", &[], &both), "recipients": [bob.id]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let tid = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["team_id"], team.as_str());
    upload(&alice_t, &tid, &seal(b"team data", &both), 1 << 20).await;
    let seen = bob_t.get("/api/v1/vault/items").await;
    assert_eq!(seen.body.as_array().unwrap().len(), 1, "{}", seen.text);
    assert_eq!(seen.body[0]["shared"], false);
    assert_eq!(
        open(&download(&bob_t, &tid, None).await.unwrap(), &bob.key).unwrap(),
        b"team data"
    );
    let rv = seen.body[0]["row_version"].clone();
    let r = bob_t
        .patch(
            &format!("/api/v1/vault/items/{tid}"),
            json!({"meta": meta("roster v2", &[], &both), "row_version": rv}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(dave_t.get("/api/v1/vault/items").await.body, json!([]));
    assert!(download(&dave_t, &tid, None).await.is_err());
    assert_eq!(count(&alice.api, "/api/v1/vault/items").await, 1);
    // Outside the team, a team item cannot be shared; carol is refused as a recipient.
    let r = alice_t
        .post(
            "/api/v1/vault/items",
            json!({"kind": "file", "meta": meta("x", &[], &both), "recipients": [carol.id]}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
}

#[tokio::test]
async fn items_are_shared_by_rewrapped_headers_on_sqlite() {
    sharing(Db::Sqlite).await;
}

#[tokio::test]
async fn items_are_shared_by_rewrapped_headers_on_postgres() {
    sharing(Db::Postgres).await;
}

/// A recipient (bob) and a stranger outside every team of alice's (carol), each with a
/// well-formed body, are refused alice's sharing, restore and uploads with 404; carol does not
/// even read the headers, while bob does (a recipient reads what he decrypts). Alice's items,
/// headers, trash and upload are exactly as they were, and still hers to use.
async fn others_are_refused(db: Db) {
    let Clinic {
        app,
        alice,
        bob,
        carol,
        ..
    } = clinic(db).await;

    // A personal item shared with bob; another shared with him at creation, then trashed; and
    // a new version of the first one half uploaded.
    let me = [&alice.key.recipient()];
    let both = [&alice.key.recipient(), &bob.key.recipient()];
    let item = create(&alice, "file", "notes.txt", None).await;
    let id = item["id"].as_str().unwrap().to_string();
    upload(&alice.api, &id, &seal(b"secret", &me), 1 << 20).await;
    let share = rewrapped(&alice, &id, &[&alice, &bob]).await;
    let recipients = format!("/api/v1/vault/items/{id}/recipients");
    let r = alice.api.put(&recipients, share).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = alice
        .api
        .post(
            "/api/v1/vault/items",
            json!({"kind": "file", "meta": meta("old.txt", &[], &both), "recipients": [bob.id]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let old = r.body["id"].as_str().unwrap().to_string();
    let r = alice
        .api
        .delete(&format!("/api/v1/vault/items/{old}"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let next = seal(&bytes(300_000, 7), &both);
    let up = start_upload(&alice.api, &id, &next).await;
    let r = patch(&alice.api, &up, 0, next[..100_000].to_vec()).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let item_path = format!("/api/v1/vault/items/{id}");
    let headers_path = format!("/api/v1/vault/items/{id}/headers");
    let trash = "/api/v1/vault/items?trashed=true";
    let item_before = alice.api.get(&item_path).await.body;
    let headers_before = alice.api.get(&headers_path).await.body;
    let trash_before = alice.api.get(trash).await.body;
    assert_eq!(item_before["recipients"].as_array().unwrap().len(), 2);
    assert_eq!(trash_before.as_array().unwrap().len(), 1);

    // Bob, a recipient: reads the headers and rewraps them properly, keeping alice or not.
    let keep_alice = rewrapped(&bob, &id, &[&alice, &bob]).await;
    assert_eq!(keep_alice["row_version"], item_before["row_version"]);
    let only_bob = rewrapped(&bob, &id, &[&bob]).await;
    // Carol, a stranger: sees nothing; sends a body that passes every check but ownership
    // (alice's own rewrap for herself alone, one stanza: carol's).
    assert_error(
        &carol.api.get(&headers_path).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let mut from_carol = rewrapped(&alice, &id, &[&alice]).await;
    from_carol["recipients"] = json!([]);
    for (who, api, body) in [
        ("bob", &bob.api, keep_alice),
        ("bob alone", &bob.api, only_bob),
        ("carol", &carol.api, from_carol),
    ] {
        let r = api.put(&recipients, body).await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
        let r = api
            .post(&format!("/api/v1/vault/items/{old}/restore"), json!({}))
            .await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
        let r = tus(api, Method::HEAD, &up).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{who}: HEAD");
        assert!(!r.headers().contains_key("upload-offset"), "{who}");
        let r = tus(api, Method::DELETE, &up).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{who}: DELETE");
        let r = patch(api, &up, 100_000, next[100_000..].to_vec()).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{who}: PATCH");
    }

    // Nothing changed.
    assert_eq!(alice.api.get(&item_path).await.body, item_before);
    assert_eq!(alice.api.get(&headers_path).await.body, headers_before);
    assert_eq!(alice.api.get(trash).await.body, trash_before);
    assert_eq!(
        open(&download(&bob.api, &id, None).await.unwrap(), &bob.key).unwrap(),
        b"secret"
    );
    let head = tus(&alice.api, Method::HEAD, &up).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["upload-offset"], "100000");
    assert!(
        app.data_dir
            .path()
            .join("vault/uploads")
            .join(up.rsplit('/').next().unwrap())
            .exists()
    );
    // And alice still finishes her upload and restores her item.
    let r = patch(&alice.api, &up, 100_000, next[100_000..].to_vec()).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(r.headers().contains_key("selah-version-id"));
    assert_eq!(download(&alice.api, &id, None).await.unwrap(), next);
    let r = alice
        .api
        .post(&format!("/api/v1/vault/items/{old}/restore"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(count(&alice.api, "/api/v1/vault/items").await, 2);
}

#[tokio::test]
async fn recipients_and_strangers_cannot_reshare_restore_or_touch_uploads_on_sqlite() {
    others_are_refused(Db::Sqlite).await;
}

#[tokio::test]
async fn recipients_and_strangers_cannot_reshare_restore_or_touch_uploads_on_postgres() {
    others_are_refused(Db::Postgres).await;
}
