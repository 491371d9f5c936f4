//! User administration over real HTTP: who may create, inspect, disable, re-role, reset and
//! re-permission whom, and the founder/step-up rules around administrator accounts.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

const USERS: &str = "/api/v1/admin/users";

async fn id_of(c: &Api) -> String {
    c.get("/api/v1/auth/me").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn step_up(c: &Api) {
    let r = c
        .post(
            "/api/v1/auth/step-up",
            json!({"password": FOUNDER_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Ends the founder's step-up, so founder-only actions need it again.
async fn drop_step_up(app: &TestApp, c: &Api) {
    let sid = c.get("/api/v1/auth/me").await.body["session"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.state.store.set_step_up(&sid, 0).await.unwrap();
}

async fn audit_count(app: &TestApp, event: &str) -> usize {
    app.state.audit.flush().await;
    sqlx::query("SELECT seq FROM audit_log WHERE event_type = $1")
        .bind(event)
        .fetch_all(app.state.store.reader())
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn admins_list_create_and_inspect_users() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let admin = app.user_with_role(&founder, "adm", "admin").await;
    drop_step_up(&app, &founder).await;

    let r = admin
        .post(
            USERS,
            json!({"username": "bob", "password": USER_PASSWORD, "role": "guest"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["user"]["role"], "guest");
    assert_eq!(r.body["user"]["disabled"], false);
    let bob = r.body["user"]["id"].as_str().unwrap().to_string();
    // Role defaults to member.
    let r = admin
        .post(
            USERS,
            json!({"username": "carol", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(r.body["user"]["role"], "member");

    let list = admin.get(USERS).await;
    assert_eq!(list.status, 200);
    let names: Vec<&str> = list.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["founder", "adm", "bob", "carol"]);
    assert!(!list.text.contains("argon2"));

    let one = admin.get(&format!("{USERS}/{bob}")).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["user"]["username"], "bob");
    assert_eq!(one.body["grants"], json!([]));
    let perms = one.body["permissions"].as_array().unwrap();
    assert_eq!(perms.len(), selah_core::Permission::ALL.len());
    assert!(
        perms
            .iter()
            .any(|p| p["key"] == "docs.read" && p["granted"] == true)
    );
    assert_error(
        &admin.get(&format!("{USERS}/nope")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(audit_count(&app, "user.created").await, 3);
}

#[tokio::test]
async fn creation_input_is_validated() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let ok = |u: &str, p: &str, r: &str| json!({"username": u, "password": p, "role": r});
    for (body, code) in [
        (ok("ab", USER_PASSWORD, "member"), "validation"),
        (ok("bob", "short", "member"), "validation"),
        (ok("bob", USER_PASSWORD, "root"), "validation"),
        (ok("bob", USER_PASSWORD, "founder"), "validation"),
    ] {
        let r = founder.post(USERS, body).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, code);
    }
    let r = founder.post(USERS, json!({"username": "bob"})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    let r = founder
        .post(
            USERS,
            json!({"username": ["bob"], "password": USER_PASSWORD}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    // Names are unique case-insensitively.
    founder
        .post(USERS, ok("bob", USER_PASSWORD, "member"))
        .await;
    let r = founder
        .post(USERS, ok("BOB", USER_PASSWORD, "member"))
        .await;
    assert_error(&r, StatusCode::CONFLICT, "conflict");
}

#[tokio::test]
async fn concurrent_creation_of_one_name_gives_one_user() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let f = founder.clone();
        tasks.push(tokio::spawn(async move {
            f.post(USERS, json!({"username": "dup", "password": USER_PASSWORD}))
                .await
                .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        5
    );
}

#[tokio::test]
async fn administrators_are_created_by_the_stepped_up_founder_only() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let admin = app.user_with_role(&founder, "adm", "admin").await;
    drop_step_up(&app, &founder).await;
    let body = |n: &str, r: &str| json!({"username": n, "password": USER_PASSWORD, "role": r});
    for role in ["admin", "super_admin"] {
        let r = admin.post(USERS, body("xx1", role)).await;
        assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
        let r = founder.post(USERS, body("xx1", role)).await;
        assert_error(&r, StatusCode::FORBIDDEN, "step_up_required");
    }
    step_up(&founder).await;
    let r = founder.post(USERS, body("sup", "super_admin")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["user"]["role"], "super_admin");
}

#[tokio::test]
async fn members_get_403_and_strangers_401_on_every_admin_route() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let member = app.user_with_role(&founder, "mem", "member").await;
    let guest = app.user_with_role(&founder, "gue", "guest").await;
    let mid = id_of(&member).await;
    let anon = app.client();
    let routes: Vec<(&str, String, Value)> = vec![
        ("GET", USERS.into(), Value::Null),
        (
            "POST",
            USERS.into(),
            json!({"username": "zed", "password": USER_PASSWORD}),
        ),
        ("GET", format!("{USERS}/{mid}"), Value::Null),
        ("PATCH", format!("{USERS}/{mid}"), json!({"disabled": true})),
        (
            "PUT",
            format!("{USERS}/{mid}/role"),
            json!({"role": "guest"}),
        ),
        (
            "PUT",
            format!("{USERS}/{mid}/password"),
            json!({"password": USER_PASSWORD}),
        ),
        (
            "PUT",
            format!("{USERS}/{mid}/permissions"),
            json!({"grants": [], "denials": []}),
        ),
    ];
    for (method, path, body) in &routes {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let b = (!body.is_null()).then(|| body.clone());
        for c in [&member, &guest] {
            let r = c.send(m.clone(), path, b.clone()).await;
            assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
        }
        let r = anon.send(m.clone(), path, b.clone()).await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    // Nothing changed.
    assert_eq!(member.get("/api/v1/auth/me").await.status, 200);
}

#[tokio::test]
async fn disabling_protects_the_founder_yourself_and_administrators() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let admin = app.user_with_role(&founder, "adm", "admin").await;
    let admin2 = app.user_with_role(&founder, "adm2", "admin").await;
    let member = app.user_with_role(&founder, "mem", "member").await;
    drop_step_up(&app, &founder).await;
    let (fid, aid, a2id, mid) = (
        id_of(&founder).await,
        id_of(&admin).await,
        id_of(&admin2).await,
        id_of(&member).await,
    );
    let off = json!({"disabled": true});
    for (who, target) in [
        (&admin, &fid),
        (&admin, &aid),
        (&founder, &fid),
        (&admin, &a2id),
    ] {
        let r = who.patch(&format!("{USERS}/{target}"), off.clone()).await;
        assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    }
    let r = founder.patch(&format!("{USERS}/{a2id}"), off.clone()).await;
    assert_error(&r, StatusCode::FORBIDDEN, "step_up_required");
    let r = admin
        .patch(&format!("{USERS}/{mid}"), json!({"disabled": "yes"}))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    assert_error(
        &admin.patch(&format!("{USERS}/nope"), off.clone()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    let r = admin.patch(&format!("{USERS}/{mid}"), off.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["user"]["disabled"], true);
    assert_error(
        &member.get("/api/v1/auth/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    step_up(&founder).await;
    assert_eq!(
        founder.patch(&format!("{USERS}/{a2id}"), off).await.status,
        200
    );
    assert_eq!(audit_count(&app, "user.disabled").await, 2);
}

#[tokio::test]
async fn role_changes_follow_the_policy() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let admin = app.user_with_role(&founder, "adm", "admin").await;
    let member = app.user_with_role(&founder, "mem", "member").await;
    drop_step_up(&app, &founder).await;
    let (fid, aid, mid) = (
        id_of(&founder).await,
        id_of(&admin).await,
        id_of(&member).await,
    );
    let role = |r: &str| json!({"role": r});
    let path = |id: &str| format!("{USERS}/{id}/role");
    // Admins move people between member and guest only.
    let r = admin.put(&path(&mid), role("guest")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["user"]["role"], "guest");
    assert_error(
        &admin.put(&path(&mid), role("admin")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &admin.put(&path(&aid), role("member")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &admin.put(&path(&fid), role("member")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &admin.put(&path(&mid), role("founder")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    );
    assert_error(
        &admin.put(&path(&mid), role("boss")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    );
    assert_error(
        &admin.put(&path(&mid), json!({})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &admin.put(&path("nope"), role("guest")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // The founder needs a step-up to touch administrator roles, and can never re-role itself.
    assert_error(
        &founder.put(&path(&mid), role("admin")).await,
        StatusCode::FORBIDDEN,
        "step_up_required",
    );
    step_up(&founder).await;
    assert_error(
        &founder.put(&path(&fid), role("member")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let r = founder.put(&path(&mid), role("admin")).await;
    assert_eq!(r.body["user"]["role"], "admin");
    // The new role applies to the member's existing session at once.
    assert_eq!(member.get(USERS).await.status, 200);
    assert_eq!(founder.put(&path(&aid), role("member")).await.status, 200);
    assert_error(&admin.get(USERS).await, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(audit_count(&app, "user.role_changed").await, 3);
}

#[tokio::test]
async fn password_reset_ends_the_users_sessions() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let admin = app.user_with_role(&founder, "adm", "admin").await;
    let member = app.user_with_role(&founder, "mem", "member").await;
    drop_step_up(&app, &founder).await;
    let (fid, aid, mid) = (
        id_of(&founder).await,
        id_of(&admin).await,
        id_of(&member).await,
    );
    let path = |id: &str| format!("{USERS}/{id}/password");
    let new = json!({"password": "reset-password-long"});
    assert_error(
        &admin.put(&path(&fid), new.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &admin.put(&path(&aid), new.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &admin.put(&path(&mid), json!({"password": "short"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    );
    assert_error(
        &admin.put(&path(&mid), json!({})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &founder.put(&path(&aid), new.clone()).await,
        StatusCode::FORBIDDEN,
        "step_up_required",
    );
    assert_eq!(member.get("/api/v1/auth/me").await.status, 200);

    assert_eq!(admin.put(&path(&mid), new.clone()).await.status, 204);
    assert_error(
        &member.get("/api/v1/auth/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    app.login("mem", "reset-password-long").await;
    assert_eq!(audit_count(&app, "user.password_reset").await, 1);
}

/// A password over the cap (1024 characters) is refused on creation and on a reset, and
/// nothing changes: no account is made, the old password still signs in, sessions survive.
/// Exactly 1024 characters is accepted by both.
#[tokio::test]
async fn passwords_over_1024_characters_are_refused() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let admin = app.user_with_role(&founder, "adm", "admin").await;
    let member = app.user_with_role(&founder, "mem", "member").await;
    drop_step_up(&app, &founder).await;
    let mid = id_of(&member).await;
    let long = "p".repeat(1025);
    let names = |r: &Resp| -> Vec<String> {
        r.body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_string())
            .collect()
    };

    let r = admin
        .post(
            USERS,
            json!({"username": "bob", "password": long, "role": "member"}),
        )
        .await;
    assert_error_says(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        "at most 1024",
    );
    assert_eq!(names(&admin.get(USERS).await), ["founder", "adm", "mem"]);
    assert_eq!(audit_count(&app, "user.created").await, 2);

    let path = format!("{USERS}/{mid}/password");
    let r = admin.put(&path, json!({"password": long})).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(
        member.get("/api/v1/auth/me").await.status,
        200,
        "a refused reset ends no session"
    );
    let with_long = app
        .client()
        .post(
            "/api/v1/auth/login",
            json!({"username": "mem", "password": long}),
        )
        .await;
    assert_error(&with_long, StatusCode::UNAUTHORIZED, "invalid_credentials");
    app.login("mem", USER_PASSWORD).await;
    assert_eq!(audit_count(&app, "user.password_reset").await, 0);

    // At the cap, both go through.
    let max = "q".repeat(1024);
    let r = admin
        .post(
            USERS,
            json!({"username": "bob", "password": max, "role": "member"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    app.login("bob", &max).await;
    assert_eq!(admin.put(&path, json!({"password": max})).await.status, 204);
    app.login("mem", &max).await;
}

#[tokio::test]
async fn permission_overrides_need_the_stepped_up_founder_and_valid_keys() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let admin = app.user_with_role(&founder, "adm", "admin").await;
    let member = app.user_with_role(&founder, "mem", "member").await;
    drop_step_up(&app, &founder).await;
    let (fid, mid) = (id_of(&founder).await, id_of(&member).await);
    let path = format!("{USERS}/{mid}/permissions");
    let body = json!({"grants": ["admin.view_audit"], "denials": ["docs.write"]});
    assert_error(
        &admin.put(&path, body.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &founder.put(&path, body.clone()).await,
        StatusCode::FORBIDDEN,
        "step_up_required",
    );
    step_up(&founder).await;
    for bad in [
        json!({"grants": ["docs.nope"], "denials": []}),
        json!({"grants": ["founder.all"], "denials": []}),
        json!({"grants": [], "denials": ["founder.all"]}),
        json!({"grants": ["docs.read"], "denials": ["docs.read"]}),
    ] {
        let r = founder.put(&path, bad).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    }
    assert_error(
        &founder.put(&path, json!({"grants": "docs.read"})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &founder
            .put(&format!("{USERS}/nope/permissions"), body.clone())
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &founder
            .put(&format!("{USERS}/{fid}/permissions"), body.clone())
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    // Before: the member cannot read the audit log permission and can write documents.
    let r = founder.put(&path, body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["grants"], json!(["admin.view_audit"]));
    assert_eq!(r.body["denials"], json!(["docs.write"]));
    let eff = member.get("/api/v1/auth/permissions/effective").await;
    let find = |k: &str| {
        eff.body["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["key"] == k)
            .unwrap()
            .clone()
    };
    assert_eq!(find("admin.view_audit")["granted"], true);
    assert_eq!(find("admin.view_audit")["source"], "grant");
    assert_eq!(find("docs.write")["granted"], false);
    assert_eq!(find("docs.write")["source"], "denial");
    // Replacing with empty lists clears them.
    let r = founder
        .put(&path, json!({"grants": [], "denials": []}))
        .await;
    assert_eq!(r.body["grants"], json!([]));
    assert_eq!(audit_count(&app, "user.permissions_changed").await, 2);
}
