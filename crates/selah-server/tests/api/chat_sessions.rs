//! Chat sessions over HTTP: CRUD in personal and team contexts, the archived filter, and the
//! refusals (401, 403 by permission, 404 across scopes, 400/422 for bad input).

use reqwest::{Method, StatusCode};
use selah_core::{Role, TeamRole};
use serde_json::json;

use crate::common::*;
use crate::scope::{direct_user, invite, send_in};
use crate::teams::audit_events;

const BASE: &str = "/api/v1/chat/sessions";

#[tokio::test]
async fn personal_sessions_crud_and_archive_filter() {
    personal_sessions_crud_and_archive_filter_on(Db::Sqlite).await;
}

#[tokio::test]
async fn personal_sessions_crud_and_archive_filter_on_postgres() {
    personal_sessions_crud_and_archive_filter_on(Db::Postgres).await;
}

async fn personal_sessions_crud_and_archive_filter_on(db: Db) {
    let app = TestApp::spawn_with(db, |_| {}).await;
    let (uid, me) = direct_user(&app, "ada", Role::Member).await;
    let a = me.post(BASE, json!({})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.body["title"], "New chat");
    assert_eq!(a.body["owner_id"], json!(uid));
    assert!(a.body["team_id"].is_null());
    assert_eq!(a.body["archived"], false);
    let b = me.post(BASE, json!({"title": "  Plans  "})).await;
    assert_eq!(b.body["title"], "Plans");
    let (a_id, b_id) = (
        a.body["id"].as_str().unwrap(),
        b.body["id"].as_str().unwrap(),
    );

    let list = me.get(BASE).await;
    assert_eq!(list.status, StatusCode::OK);
    let ids: Vec<_> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(b_id), json!(a_id)], "newest first");

    let got = me.get(&format!("{BASE}/{a_id}")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["title"], "New chat");

    let p = me
        .patch(
            &format!("{BASE}/{a_id}"),
            json!({"archived": true, "title": "Old"}),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert_eq!(p.body["archived"], true);
    assert_eq!(p.body["title"], "Old");
    let archived = me.get(&format!("{BASE}?archived=true")).await;
    assert_eq!(archived.body.as_array().unwrap().len(), 1);
    assert_eq!(archived.body[0]["id"], json!(a_id));
    let active = me.get(&format!("{BASE}?archived=false")).await;
    assert_eq!(active.body.as_array().unwrap().len(), 1);
    assert_eq!(active.body[0]["id"], json!(b_id));
    // The archived one was changed last, so it now leads the full list.
    assert_eq!(me.get(BASE).await.body[0]["id"], json!(a_id));

    let d = me.delete(&format!("{BASE}/{a_id}")).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    assert_error(
        &me.get(&format!("{BASE}/{a_id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &me.delete(&format!("{BASE}/{a_id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert!(
        audit_events(&app)
            .await
            .contains(&"chat.session_deleted".to_string())
    );
}

#[tokio::test]
async fn bad_input_is_refused() {
    bad_input_is_refused_on(Db::Sqlite).await;
}

#[tokio::test]
async fn bad_input_is_refused_on_postgres() {
    bad_input_is_refused_on(Db::Postgres).await;
}

async fn bad_input_is_refused_on(db: Db) {
    let app = TestApp::spawn_with(db, |_| {}).await;
    let (_, me) = direct_user(&app, "ada", Role::Member).await;
    for bad in [
        json!({"title": ""}),
        json!({"title": "  "}),
        json!({"title": "x".repeat(201)}),
    ] {
        assert_error(
            &me.post(BASE, bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        );
    }
    assert_eq!(
        me.post(BASE, json!({"title": "é".repeat(200)}))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_error(
        &me.post(BASE, json!({"title": 7})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &me.post(BASE, json!({"name": "x"})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &me.get(&format!("{BASE}?archived=maybe")).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    let id = me.get(BASE).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_error(
        &me.patch(&format!("{BASE}/{id}"), json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    );
    assert_error(
        &me.patch(&format!("{BASE}/{id}"), json!({"title": ""}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    );
    assert_error(
        &me.patch(&format!("{BASE}/{id}"), json!({"archived": "yes"}))
            .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    let raw = me
        .http
        .post(format!("{}{BASE}", me.base))
        .bearer_auth(me.token.as_deref().unwrap())
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    // The too-long title did not get stored.
    assert_eq!(me.get(BASE).await.body.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn guests_use_but_do_not_manage_and_strangers_see_nothing() {
    guests_use_but_do_not_manage_and_strangers_see_nothing_on(Db::Sqlite).await;
}

#[tokio::test]
async fn guests_use_but_do_not_manage_and_strangers_see_nothing_on_postgres() {
    guests_use_but_do_not_manage_and_strangers_see_nothing_on(Db::Postgres).await;
}

async fn guests_use_but_do_not_manage_and_strangers_see_nothing_on(db: Db) {
    let app = TestApp::spawn_with(db, |_| {}).await;
    let (_, guest) = direct_user(&app, "gus", Role::Guest).await;
    let (_, other) = direct_user(&app, "bob", Role::Member).await;
    let anon = app.client();
    assert_error(
        &anon.get(BASE).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_error(
        &anon.post(BASE, json!({})).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );

    let s = guest.post(BASE, json!({"title": "mine"})).await;
    assert_eq!(s.status, StatusCode::CREATED);
    let id = s.body["id"].as_str().unwrap();
    assert_eq!(guest.get(BASE).await.body.as_array().unwrap().len(), 1);
    assert_error(
        &guest
            .patch(&format!("{BASE}/{id}"), json!({"title": "x"}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &guest.delete(&format!("{BASE}/{id}")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    // Someone else's personal session does not exist for them: 404, never 403.
    assert_error(
        &other.get(&format!("{BASE}/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &other
            .patch(&format!("{BASE}/{id}"), json!({"title": "x"}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &other.delete(&format!("{BASE}/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(other.get(BASE).await.body, json!([]));
    assert_eq!(
        guest.get(&format!("{BASE}/{id}")).await.body["title"],
        "mine"
    );
    assert_error(
        &anon.get(&format!("{BASE}/{id}")).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}

#[tokio::test]
async fn team_context_sessions_follow_team_roles() {
    team_context_sessions_follow_team_roles_on(Db::Sqlite).await;
}

#[tokio::test]
async fn team_context_sessions_follow_team_roles_on_postgres() {
    team_context_sessions_follow_team_roles_on(Db::Postgres).await;
}

async fn team_context_sessions_follow_team_roles_on(db: Db) {
    let app = TestApp::spawn_with(db, |_| {}).await;
    let (_, owner) = direct_user(&app, "ada", Role::Admin).await;
    let (g_id, t_guest) = direct_user(&app, "gus", Role::Member).await;
    let (_, stranger) = direct_user(&app, "sam", Role::Member).await;
    let team = owner
        .post("/api/v1/teams", json!({"name": "Ops"}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    invite(&owner, &team, &t_guest, &g_id, TeamRole::Guest).await;
    let t = Some(team.as_str());

    let s = send_in(
        &owner,
        Method::POST,
        BASE,
        t,
        Some(json!({"title": "team chat"})),
    )
    .await;
    assert_eq!(s.status, StatusCode::CREATED, "{}", s.text);
    assert_eq!(s.body["team_id"], json!(team));
    let id = s.body["id"].as_str().unwrap().to_string();
    let one = format!("{BASE}/{id}");

    // The team session is not in anyone's personal context.
    assert_eq!(owner.get(BASE).await.body, json!([]));
    assert_error(&owner.get(&one).await, StatusCode::NOT_FOUND, "not_found");
    // A team guest (a member globally) reads it in the team context but cannot manage it.
    let list = send_in(&t_guest, Method::GET, BASE, t, None).await;
    assert_eq!(list.body[0]["id"], json!(id));
    assert_eq!(
        send_in(&t_guest, Method::GET, &one, t, None).await.status,
        StatusCode::OK
    );
    let p = send_in(
        &t_guest,
        Method::PATCH,
        &one,
        t,
        Some(json!({"title": "x"})),
    )
    .await;
    assert_error(&p, StatusCode::FORBIDDEN, "forbidden");
    // Strangers: the team context itself is 404.
    for (m, path) in [
        (Method::GET, BASE),
        (Method::GET, one.as_str()),
        (Method::DELETE, one.as_str()),
    ] {
        assert_error(
            &send_in(&stranger, m, path, t, None).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }
    let c = send_in(&stranger, Method::POST, BASE, t, Some(json!({}))).await;
    assert_error(&c, StatusCode::NOT_FOUND, "not_found");
    // The owner manages it in the team context.
    let d = send_in(&owner, Method::DELETE, &one, t, None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    assert_eq!(
        send_in(&t_guest, Method::GET, BASE, t, None).await.body,
        json!([])
    );
}
