//! Teams, memberships and invitations over HTTP: happy paths, refusals, one-time and
//! attempt-limited codes, concurrent redemption and the last-owner rule.

use reqwest::StatusCode;
use selah_core::{Role, TeamRole};
use serde_json::json;

use crate::common::*;
use crate::scope::{direct_user, invite};

/// Audit event types recorded so far, in order.
pub async fn audit_events(app: &TestApp) -> Vec<String> {
    use sqlx::Row;
    app.state.audit.flush().await;
    sqlx::query("SELECT event_type FROM audit_log ORDER BY seq")
        .fetch_all(app.state.store.reader())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("event_type"))
        .collect()
}

async fn raw_post(api: &Api, path: &str, body: &str) -> reqwest::StatusCode {
    api.http
        .post(format!("{}{path}", api.base))
        .bearer_auth(api.token.as_deref().unwrap_or(""))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
}

async fn new_team(api: &Api, name: &str) -> String {
    let r = api.post("/api/v1/teams", json!({"name": name})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn create_list_get_and_delete_a_team() {
    let app = TestApp::spawn().await;
    let (admin_id, admin) = direct_user(&app, "ada", Role::Admin).await;
    let (_, other) = direct_user(&app, "bob", Role::Member).await;

    let r = admin
        .post("/api/v1/teams", json!({"name": "  Ops  "}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["name"], "Ops");
    assert_eq!(r.body["role"], "owner");
    let id = r.body["id"].as_str().unwrap().to_string();

    let mine = admin.get("/api/v1/teams").await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.body.as_array().unwrap().len(), 1);
    assert_eq!(mine.body[0]["id"], json!(id));
    assert_eq!(mine.body[0]["role"], "owner");
    assert_eq!(other.get("/api/v1/teams").await.body, json!([]));

    let one = admin.get(&format!("/api/v1/teams/{id}")).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["name"], "Ops");
    let members = admin.get(&format!("/api/v1/teams/{id}/members")).await;
    assert_eq!(members.body[0]["user_id"], json!(admin_id));
    assert_eq!(members.body[0]["username"], "ada");
    assert_eq!(members.body[0]["role"], "owner");

    // Outsiders cannot tell the team exists.
    for path in [
        format!("/api/v1/teams/{id}"),
        format!("/api/v1/teams/{id}/members"),
        format!("/api/v1/teams/{id}/invitations"),
    ] {
        assert_error(&other.get(&path).await, StatusCode::NOT_FOUND, "not_found");
    }
    assert_error(
        &other.delete(&format!("/api/v1/teams/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    let d = admin.delete(&format!("/api/v1/teams/{id}")).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT, "{}", d.text);
    assert_error(
        &admin.get(&format!("/api/v1/teams/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(admin.get("/api/v1/teams").await.body, json!([]));
    let events = audit_events(&app).await;
    assert!(events.contains(&"team.created".to_string()), "{events:?}");
    assert!(events.contains(&"team.deleted".to_string()), "{events:?}");
}

#[tokio::test]
async fn creating_a_team_is_refused_without_rights_or_with_bad_input() {
    let app = TestApp::spawn().await;
    let (_, admin) = direct_user(&app, "ada", Role::Admin).await;
    let (_, member) = direct_user(&app, "bob", Role::Member).await;
    let anon = app.client();
    assert_error(
        &anon.post("/api/v1/teams", json!({"name": "x"})).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_error(
        &member.post("/api/v1/teams", json!({"name": "x"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    for bad in [json!({"name": "   "}), json!({"name": "x".repeat(101)})] {
        assert_error(
            &admin.post("/api/v1/teams", bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        );
    }
    assert_error(
        &admin.post("/api/v1/teams", json!({"title": "x"})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_eq!(raw_post(&admin, "/api/v1/teams", "{not json").await, 400);
    assert_eq!(admin.get("/api/v1/teams").await.body, json!([]));
}

#[tokio::test]
async fn team_roles_decide_who_manages_members_and_invitations() {
    let app = TestApp::spawn().await;
    let (owner_id, owner) = direct_user(&app, "olive", Role::Member).await;
    let (_, founder_like) = direct_user(&app, "ada", Role::Admin).await;
    let (admin_id, t_admin) = direct_user(&app, "tad", Role::Member).await;
    let (member_id, t_member) = direct_user(&app, "tom", Role::Member).await;
    let (guest_id, t_guest) = direct_user(&app, "gus", Role::Guest).await;
    let team = new_team(&founder_like, "Ops").await;
    invite(&founder_like, &team, &owner, &owner_id, TeamRole::Owner).await;
    invite(&owner, &team, &t_admin, &admin_id, TeamRole::Admin).await;
    invite(&t_admin, &team, &t_member, &member_id, TeamRole::Member).await;
    invite(&t_admin, &team, &t_guest, &guest_id, TeamRole::Guest).await;

    let inv = format!("/api/v1/teams/{team}/invitations");
    // Members and guests neither invite nor see invitations.
    for who in [&t_member, &t_guest] {
        assert_error(
            &who.post(&inv, json!({"role": "member"})).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        assert_error(&who.get(&inv).await, StatusCode::FORBIDDEN, "forbidden");
    }
    // Bad roles: owner cannot be invited; unknown names are refused.
    for role in ["owner", "boss", ""] {
        assert_error(
            &t_admin.post(&inv, json!({"role": role})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        );
    }
    let listed = t_admin.get(&inv).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(listed.body.as_array().unwrap().len() >= 4);
    assert!(
        !listed.text.contains("code"),
        "codes never listed: {}",
        listed.text
    );

    // Role changes: owners only, valid roles only, members only.
    let m = format!("/api/v1/teams/{team}/members/{member_id}");
    assert_error(
        &t_admin.patch(&m, json!({"role": "admin"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &owner.patch(&m, json!({"role": "king"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    );
    assert_error(
        &owner
            .patch(
                &format!("/api/v1/teams/{team}/members/nobody"),
                json!({"role": "admin"}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let p = owner.patch(&m, json!({"role": "guest"})).await;
    assert_eq!(p.status, StatusCode::NO_CONTENT, "{}", p.text);
    assert_eq!(
        app.state.store.team_role(&team, &member_id).await.unwrap(),
        Some(TeamRole::Guest)
    );

    // Removal: members cannot remove others; admins cannot remove owners; admins remove guests;
    // anyone may leave.
    let g = format!("/api/v1/teams/{team}/members/{guest_id}");
    assert_error(
        &t_member.delete(&g).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &t_admin
            .delete(&format!("/api/v1/teams/{team}/members/{owner_id}"))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_eq!(t_admin.delete(&g).await.status, StatusCode::NO_CONTENT);
    assert_error(
        &t_guest.get(&format!("/api/v1/teams/{team}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(t_member.delete(&m).await.status, StatusCode::NO_CONTENT);
    assert_error(
        &t_admin.delete(&m).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // Only owners delete the team.
    assert_error(
        &t_admin.delete(&format!("/api/v1/teams/{team}")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let events = audit_events(&app).await;
    for e in [
        "team.member_added",
        "team.member_role_changed",
        "team.member_removed",
        "team.invitation_created",
        "team.invitation_redeemed",
    ] {
        assert!(events.iter().any(|x| x == e), "{e} missing from {events:?}");
    }
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted_or_removed() {
    let app = TestApp::spawn().await;
    let (owner_id, owner) = direct_user(&app, "ada", Role::Admin).await;
    let (other_id, other) = direct_user(&app, "bob", Role::Member).await;
    let team = new_team(&owner, "Ops").await;
    let me = format!("/api/v1/teams/{team}/members/{owner_id}");
    assert_error(
        &owner.patch(&me, json!({"role": "admin"})).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    assert_error(&owner.delete(&me).await, StatusCode::CONFLICT, "conflict");
    invite(&owner, &team, &other, &other_id, TeamRole::Owner).await;
    assert_eq!(
        owner.patch(&me, json!({"role": "member"})).await.status,
        StatusCode::NO_CONTENT
    );
    let them = format!("/api/v1/teams/{team}/members/{other_id}");
    assert_error(&other.delete(&them).await, StatusCode::CONFLICT, "conflict");
    assert_eq!(owner.delete(&me).await.status, StatusCode::NO_CONTENT);
}

/// Two owners demoting each other at the same moment: the team keeps an owner.
async fn concurrent_demotions(db: Db) {
    let app = TestApp::spawn_with(db, |_| {}).await;
    let (a_id, a) = direct_user(&app, "ada", Role::Admin).await;
    let (b_id, b) = direct_user(&app, "bob", Role::Member).await;
    for round in 0..5 {
        let team = new_team(&a, &format!("t{round}")).await;
        invite(&a, &team, &b, &b_id, TeamRole::Owner).await;
        let (pa, pb) = (
            format!("/api/v1/teams/{team}/members/{b_id}"),
            format!("/api/v1/teams/{team}/members/{a_id}"),
        );
        let (ra, rb) = tokio::join!(
            a.patch(&pa, json!({"role": "member"})),
            b.patch(&pb, json!({"role": "member"})),
        );
        let ok = [ra.status, rb.status]
            .iter()
            .filter(|s| **s == StatusCode::NO_CONTENT)
            .count();
        assert!(ok >= 1, "{} {}", ra.text, rb.text);
        let owners = app.state.store.team_members(&team).await.unwrap();
        assert!(
            owners.iter().any(|m| m.role == TeamRole::Owner),
            "no owner left in round {round}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_demotions_keep_an_owner_on_sqlite() {
    concurrent_demotions(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_demotions_keep_an_owner_on_postgres() {
    concurrent_demotions(Db::Postgres).await;
}

/// Two owners removing each other at the same moment: exactly one removal lands and the other
/// is refused, with 409 by the last-owner rule, or with 404 when the loser's own membership
/// was checked after the winner had removed it. The winner is left as the only owner.
async fn concurrent_removals(db: Db) {
    let app = TestApp::spawn_with(db, |_| {}).await;
    let (a_id, a) = direct_user(&app, "ada", Role::Admin).await;
    let (b_id, b) = direct_user(&app, "bob", Role::Member).await;
    for round in 0..5 {
        let team = new_team(&a, &format!("t{round}")).await;
        invite(&a, &team, &b, &b_id, TeamRole::Owner).await;
        let (pa, pb) = (
            format!("/api/v1/teams/{team}/members/{b_id}"),
            format!("/api/v1/teams/{team}/members/{a_id}"),
        );
        let (ra, rb) = tokio::join!(a.delete(&pa), b.delete(&pb));
        let (winner, loser) = match (ra.status, rb.status) {
            (StatusCode::NO_CONTENT, s) if s != StatusCode::NO_CONTENT => (&a_id, &rb),
            (s, StatusCode::NO_CONTENT) if s != StatusCode::NO_CONTENT => (&b_id, &ra),
            other => panic!("round {round}: {other:?}: {} / {}", ra.text, rb.text),
        };
        if loser.status == StatusCode::CONFLICT {
            assert_error(loser, StatusCode::CONFLICT, "conflict");
        } else {
            assert_error(loser, StatusCode::NOT_FOUND, "not_found");
        }
        let members = app.state.store.team_members(&team).await.unwrap();
        assert_eq!(members.len(), 1, "round {round}: {members:?}");
        assert_eq!(&members[0].user_id, winner, "round {round}");
        assert_eq!(members[0].role, TeamRole::Owner, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_mutual_removals_keep_an_owner_on_sqlite() {
    concurrent_removals(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_mutual_removals_keep_an_owner_on_postgres() {
    concurrent_removals(Db::Postgres).await;
}

#[tokio::test]
async fn me_lists_my_teams_with_my_role() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let me = founder.get("/api/v1/auth/me").await;
    assert_eq!(me.body["teams"], json!([]));
    let team = new_team(&founder, "Ops").await;
    let me = founder.get("/api/v1/auth/me").await;
    assert_eq!(me.body["teams"][0]["id"], json!(team));
    assert_eq!(me.body["teams"][0]["role"], "owner");
    let member = app.user_with_role(&founder, "mia", "member").await;
    assert_eq!(member.get("/api/v1/auth/me").await.body["teams"], json!([]));
}
