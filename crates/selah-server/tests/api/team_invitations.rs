//! Invitation codes over HTTP: shape, one-time use, expiry, attempt limit (burning), withdrawal,
//! malformed input, and concurrent redemption on both backends.

use reqwest::StatusCode;
use selah_core::Role;
use serde_json::json;

use crate::common::*;
use crate::scope::direct_user;
use crate::teams::audit_events;

async fn team_and_code(app: &TestApp, role: &str) -> (Api, String, String, String) {
    let (_, owner) = direct_user(app, "owner", Role::Admin).await;
    let t = owner.post("/api/v1/teams", json!({"name": "Ops"})).await;
    let team = t.body["id"].as_str().unwrap().to_string();
    let r = owner
        .post(
            &format!("/api/v1/teams/{team}/invitations"),
            json!({"role": role}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    (
        owner,
        team,
        id,
        r.body["code"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn a_code_joins_once_with_its_role() {
    let app = TestApp::spawn().await;
    let (owner, team, inv_id, code) = team_and_code(&app, "guest").await;
    let (prefix, secret) = code.split_once('.').unwrap();
    assert_eq!(prefix, inv_id);
    assert!(secret.len() >= 32, "{code}");
    // Only a hash is stored.
    use sqlx::Row;
    let stored: String = sqlx::query("SELECT code_hash FROM team_invitations WHERE id = $1")
        .bind(&inv_id)
        .fetch_one(app.state.store.reader())
        .await
        .unwrap()
        .get("code_hash");
    assert!(!stored.contains(secret));

    let (uid, user) = direct_user(&app, "una", Role::Member).await;
    let j = user.post("/api/v1/teams/join", json!({"code": code})).await;
    assert_eq!(j.status, StatusCode::CREATED, "{}", j.text);
    assert_eq!(j.body["id"], json!(team));
    assert_eq!(j.body["role"], "guest");
    assert_eq!(user.get("/api/v1/teams").await.body[0]["role"], "guest");

    // Second use, by anyone: 409.
    let (_, late) = direct_user(&app, "late", Role::Member).await;
    assert_error(
        &late.post("/api/v1/teams/join", json!({"code": code})).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    assert_error(
        &user.post("/api/v1/teams/join", json!({"code": code})).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    let list = owner
        .get(&format!("/api/v1/teams/{team}/invitations"))
        .await;
    assert_eq!(list.body[0]["used_by"], json!(uid));
    let events = audit_events(&app).await;
    assert!(
        events.contains(&"team.invitation_redeemed".into()),
        "{events:?}"
    );
    assert!(
        events.contains(&"team.invitation_failed".into()),
        "{events:?}"
    );
}

#[tokio::test]
async fn wrong_secrets_burn_the_code_and_refusals_look_alike() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.auth.invitation_max_attempts = 3).await;
    let (owner, team, inv_id, code) = team_and_code(&app, "member").await;
    let (_, user) = direct_user(&app, "una", Role::Member).await;
    let wrong = format!("{inv_id}.{}", "x".repeat(43));
    for _ in 0..3 {
        assert_error(
            &user
                .post("/api/v1/teams/join", json!({"code": wrong}))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }
    let list = owner
        .get(&format!("/api/v1/teams/{team}/invitations"))
        .await;
    assert_eq!(list.body[0]["attempts"], 3);
    // Burnt: the right code fails too, exactly like an unknown one.
    let burnt = user.post("/api/v1/teams/join", json!({"code": code})).await;
    let unknown = user
        .post(
            "/api/v1/teams/join",
            json!({"code": "00000000-0000-7000-8000-000000000000.abc"}),
        )
        .await;
    assert_error(&burnt, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(burnt.body, unknown.body);
    assert_eq!(user.get("/api/v1/teams").await.body, json!([]));
}

#[tokio::test]
async fn expired_and_withdrawn_codes_are_not_found() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.auth.invitation_ttl_secs = 0).await;
    let (owner, team, _, expired) = team_and_code(&app, "member").await;
    let (_, user) = direct_user(&app, "una", Role::Member).await;
    assert_error(
        &user
            .post("/api/v1/teams/join", json!({"code": expired}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    let app2 = TestApp::spawn().await;
    let (owner2, team2, inv2, code2) = team_and_code(&app2, "member").await;
    let (_, user2) = direct_user(&app2, "una", Role::Member).await;
    let path = format!("/api/v1/teams/{team2}/invitations/{inv2}");
    let (_, outsider) = direct_user(&app2, "out", Role::Member).await;
    assert_error(
        &outsider.delete(&path).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(owner2.delete(&path).await.status, StatusCode::NO_CONTENT);
    assert_error(
        &owner2.delete(&path).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &user2
            .post("/api/v1/teams/join", json!({"code": code2}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // The first app's owner still sees the expired invitation, unused.
    let list = owner
        .get(&format!("/api/v1/teams/{team}/invitations"))
        .await;
    assert!(list.body[0]["used_at"].is_null());
}

#[tokio::test]
async fn malformed_codes_and_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let (_, user) = direct_user(&app, "una", Role::Member).await;
    for bad in [
        "",
        "nodot",
        ".secret",
        "id.",
        &format!("{}.x", "a".repeat(65)),
    ] {
        assert_error(
            &user.post("/api/v1/teams/join", json!({"code": bad})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        );
    }
    assert_error(
        &user.post("/api/v1/teams/join", json!({"code": 5})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &user.post("/api/v1/teams/join", json!({})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &app.client()
            .post("/api/v1/teams/join", json!({"code": "a.b"}))
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}

#[tokio::test]
async fn a_member_redeeming_again_leaves_the_code_unused() {
    let app = TestApp::spawn().await;
    let (owner, team, _, code) = team_and_code(&app, "member").await;
    let _ = team;
    // The owner is already a member: refused, and the code still works for someone else.
    assert_error(
        &owner
            .post("/api/v1/teams/join", json!({"code": code}))
            .await,
        StatusCode::CONFLICT,
        "conflict",
    );
    let (_, user) = direct_user(&app, "una", Role::Member).await;
    assert_eq!(
        user.post("/api/v1/teams/join", json!({"code": code}))
            .await
            .status,
        StatusCode::CREATED
    );
}

/// Many users redeem one code at the same moment: exactly one joins.
async fn concurrent_redemption(db: Db) {
    let app = TestApp::spawn_with(db, |_| {}).await;
    let (owner, team, _, code) = team_and_code(&app, "member").await;
    let mut users = Vec::new();
    for i in 0..6 {
        users.push(direct_user(&app, &format!("u{i}"), Role::Member).await.1);
    }
    // Each redemption on its own task, so they really race.
    let handles: Vec<_> = users
        .iter()
        .cloned()
        .map(|u| {
            let code = code.clone();
            tokio::spawn(async move { u.post("/api/v1/teams/join", json!({"code": code})).await })
        })
        .collect();
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.unwrap());
    }
    let ok = results
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let used = results
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT)
        .count();
    assert_eq!(
        (ok, used),
        (1, 5),
        "{:?}",
        results.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    let members = owner.get(&format!("/api/v1/teams/{team}/members")).await;
    assert_eq!(members.body.as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_redemption_admits_one_on_sqlite() {
    concurrent_redemption(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_redemption_admits_one_on_postgres() {
    concurrent_redemption(Db::Postgres).await;
}
