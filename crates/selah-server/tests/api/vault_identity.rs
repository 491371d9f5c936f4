//! The vault identity over HTTP: made and wrapped in the client (selah-vault, as the CLI and the
//! browser will), stored by the server as an opaque passphrase-wrapped age file, re-wrapped
//! under a new passphrase with optimistic concurrency, and public keys visible to teammates.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::StatusCode;
use selah_core::TeamRole;
use selah_vault::age::secrecy::{ExposeSecret, SecretString};
use selah_vault::{VaultIdentity, WorkFactor};
use serde_json::{Value, json};

use selah_store::audit::AuditFilter;

use crate::common::*;
use crate::scope::invite;

/// Cheap scrypt so the tests are fast; real clients keep age's default.
const FAST: WorkFactor = WorkFactor {
    log_n: Some(10),
    max_log_n: Some(10),
};

fn pass(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn body(id: &VaultIdentity, wrapped: &[u8], version: i64) -> Value {
    json!({"public_key": id.public_key(), "wrapped_identity": BASE64.encode(wrapped), "version": version})
}

async fn user_id(api: &Api) -> String {
    api.get("/api/v1/auth/me").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn identity_round_trip(db: Db) {
    let app = TestApp::spawn_with(db, |_| {}).await;
    let founder = app.founder().await;
    let alice = app.user_with_role(&founder, "alice", "member").await;
    assert_error(
        &alice.get("/api/v1/vault/identity").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // Made and wrapped on the client; the server stores what it cannot open.
    let id = VaultIdentity::generate();
    let wrapped = id.wrap(&pass("first passphrase"), FAST).unwrap();
    let r = alice
        .put("/api/v1/vault/identity", body(&id, &wrapped, 0))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["version"], 1);
    let got = alice.get("/api/v1/vault/identity").await;
    assert_eq!(got.body["public_key"], id.public_key().as_str());
    let stored = BASE64
        .decode(got.body["wrapped_identity"].as_str().unwrap())
        .unwrap();
    assert_eq!(stored, wrapped);
    let opened = VaultIdentity::unwrap(&stored, &pass("first passphrase"), FAST).unwrap();
    assert_eq!(opened.public_key(), id.public_key());

    // Creating again is refused: the first identity stays.
    let other = VaultIdentity::generate();
    let again = other.wrap(&pass("x"), FAST).unwrap();
    let r = alice
        .put("/api/v1/vault/identity", body(&other, &again, 0))
        .await;
    assert_error(&r, StatusCode::CONFLICT, "conflict");

    // A passphrase change re-wraps the same key at the stored version.
    let rewrapped =
        VaultIdentity::change_passphrase(&stored, &pass("first passphrase"), &pass("second"), FAST)
            .unwrap();
    let r = alice
        .put("/api/v1/vault/identity", body(&id, &rewrapped, 1))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["version"], 2);
    // A device still at version 1 is told to fetch the new one, not allowed to overwrite it.
    let stale = id.wrap(&pass("third"), FAST).unwrap();
    let r = alice
        .put("/api/v1/vault/identity", body(&id, &stale, 1))
        .await;
    assert_error(&r, StatusCode::CONFLICT, "conflict");
    // A different public key would orphan every item encrypted to the stored one.
    let r = alice
        .put("/api/v1/vault/identity", body(&other, &again, 2))
        .await;
    assert_error(&r, StatusCode::CONFLICT, "conflict");
    let now = alice.get("/api/v1/vault/identity").await;
    assert_eq!(now.body["version"], 2);
    let stored = BASE64
        .decode(now.body["wrapped_identity"].as_str().unwrap())
        .unwrap();
    assert!(VaultIdentity::unwrap(&stored, &pass("first passphrase"), FAST).is_err());
    VaultIdentity::unwrap(&stored, &pass("second"), FAST).unwrap();

    // Audited without keys.
    app.state.audit.flush().await;
    for kind in ["vault.identity_created", "vault.identity_rewrapped"] {
        let f = AuditFilter {
            event_type: Some(kind.into()),
            ..Default::default()
        };
        let records = app
            .state
            .store
            .query_audit(&f, None, 100)
            .await
            .unwrap()
            .records;
        assert_eq!(records.len(), 1, "{kind}");
        let text = format!("{records:?}");
        assert!(!text.contains(&id.public_key()), "{text}");
        assert!(!text.contains(&BASE64.encode(&rewrapped)[..40]), "{text}");
    }
}

#[tokio::test]
async fn an_identity_is_stored_wrapped_and_rewrapped_on_sqlite() {
    identity_round_trip(Db::Sqlite).await;
}

#[tokio::test]
async fn an_identity_is_stored_wrapped_and_rewrapped_on_postgres() {
    identity_round_trip(Db::Postgres).await;
}

#[tokio::test]
async fn malformed_oversized_and_unauthorised_requests_are_refused() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let bob = app.user_with_role(&founder, "bob", "member").await;
    let id = VaultIdentity::generate();
    let wrapped = id.wrap(&pass("p"), FAST).unwrap();
    let to_key = {
        let mut out = Vec::new();
        selah_vault::encrypt(&b"not a passphrase file"[..], &mut out, &[&id.recipient()]).unwrap();
        out
    };
    let cases = [
        json!({"public_key": "age1nope", "wrapped_identity": BASE64.encode(&wrapped), "version": 0}),
        json!({"public_key": id.to_secret().expose_secret().to_string(), "wrapped_identity": BASE64.encode(&wrapped), "version": 0}),
        json!({"public_key": id.public_key(), "wrapped_identity": "%%% not base64", "version": 0}),
        json!({"public_key": id.public_key(), "wrapped_identity": BASE64.encode(b"hello"), "version": 0}),
        json!({"public_key": id.public_key(), "wrapped_identity": BASE64.encode(&to_key), "version": 0}),
        json!({"public_key": id.public_key(), "wrapped_identity": BASE64.encode(vec![b'a'; 6000]), "version": 0}),
        json!({"public_key": id.public_key(), "wrapped_identity": BASE64.encode(&wrapped), "version": -1}),
    ];
    for case in cases {
        let r = bob.put("/api/v1/vault/identity", case.clone()).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    }
    for bad in [
        json!({"public_key": id.public_key()}),
        json!({"public_key": id.public_key(), "wrapped_identity": "", "version": 0, "extra": 1}),
    ] {
        let r = bob.put("/api/v1/vault/identity", bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    }
    assert!(bob.get("/api/v1/vault/identity").await.status == StatusCode::NOT_FOUND);

    // Signed out, and without vault.use.
    let anon = app.client();
    assert_error(
        &anon.get("/api/v1/vault/identity").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    deny_permission(&founder, &bob, "vault.use").await;
    let r = bob
        .put("/api/v1/vault/identity", body(&id, &wrapped, 0))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(
        bob.get("/api/v1/vault/identity").await.status,
        StatusCode::FORBIDDEN
    );
}

/// Two devices re-wrap the same version at once: exactly one wins, the other gets 409, and
/// the stored identity opens with the winner's passphrase.
#[tokio::test]
async fn concurrent_rewraps_store_exactly_one() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let carol = app.user_with_role(&founder, "carol", "member").await;
    let id = VaultIdentity::generate();
    let first = id.wrap(&pass("start"), FAST).unwrap();
    let r = carol
        .put("/api/v1/vault/identity", body(&id, &first, 0))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let passphrases: Vec<String> = (0..8).map(|i| format!("device {i}")).collect();
    let puts = passphrases.iter().map(|p| {
        let wrapped = id.wrap(&pass(p), FAST).unwrap();
        let carol = carol.clone();
        let b = body(&id, &wrapped, 1);
        async move { carol.put("/api/v1/vault/identity", b).await }
    });
    let results = futures_util::future::join_all(puts).await;
    let won: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].status == StatusCode::OK)
        .collect();
    assert_eq!(
        won.len(),
        1,
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in &results {
        assert!(
            r.status == StatusCode::OK || r.status == StatusCode::CONFLICT,
            "{}",
            r.text
        );
    }
    let now = carol.get("/api/v1/vault/identity").await;
    assert_eq!(now.body["version"], 2);
    let stored = BASE64
        .decode(now.body["wrapped_identity"].as_str().unwrap())
        .unwrap();
    VaultIdentity::unwrap(&stored, &pass(&passphrases[won[0]]), FAST).unwrap();
}

/// Public keys are for sharing: a teammate can read one, a stranger cannot, and nobody can
/// read another's wrapped identity.
#[tokio::test]
async fn public_keys_are_visible_to_teammates_only() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let dave = app.user_with_role(&founder, "dave", "member").await;
    let erin = app.user_with_role(&founder, "erin", "member").await;
    let frank = app.user_with_role(&founder, "frank", "member").await;
    let id = VaultIdentity::generate();
    let wrapped = id.wrap(&pass("p"), FAST).unwrap();
    let r = dave
        .put("/api/v1/vault/identity", body(&id, &wrapped, 0))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let dave_id = user_id(&dave).await;
    let erin_id = user_id(&erin).await;
    let path = format!("/api/v1/vault/public-keys/{dave_id}");
    // Own key, and before any team: a stranger sees nothing.
    assert_eq!(
        dave.get(&path).await.body["public_key"],
        id.public_key().as_str()
    );
    assert_error(&erin.get(&path).await, StatusCode::NOT_FOUND, "not_found");
    let team = founder
        .post("/api/v1/teams", json!({"name": "field team"}))
        .await;
    assert_eq!(team.status, StatusCode::CREATED, "{}", team.text);
    let team_id = team.body["id"].as_str().unwrap().to_string();
    invite(&founder, &team_id, &dave, &dave_id, TeamRole::Member).await;
    invite(&founder, &team_id, &erin, &erin_id, TeamRole::Member).await;
    let seen = erin.get(&path).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.text);
    assert_eq!(seen.body["public_key"], id.public_key().as_str());
    assert_error(&frank.get(&path).await, StatusCode::NOT_FOUND, "not_found");
    // Erin has no identity yet: 404 for Dave too.
    let erin_path = format!("/api/v1/vault/public-keys/{erin_id}");
    assert_error(
        &dave.get(&erin_path).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}
