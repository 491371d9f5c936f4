//! The cross-scope property test: random users, teams, memberships and chat sessions, built
//! through the API; then every user, in every context they could name, lists and reads every
//! session, and only the rows of that scope ever come back. Runs on SQLite and PostgreSQL.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestCaseError, TestRunner};
use reqwest::{Method, StatusCode};
use selah_core::{Role, TeamRole};
use selah_store::sessions::NewSession;
use serde_json::{Value, json};

use crate::common::*;

/// A signed-in user made directly in the store (fast: no password hashing), with a bearer
/// session. Returns the user id and a client.
pub async fn direct_user(app: &TestApp, name: &str, role: Role) -> (String, Api) {
    let user = app
        .state
        .store
        .create_user(name, "not-a-usable-hash", role)
        .await
        .unwrap();
    let api = session_for(app, &user.id).await;
    (user.id, api)
}

/// A new bearer session for an existing user, made in the store.
pub async fn session_for(app: &TestApp, user_id: &str) -> Api {
    let token = selah_server::auth::token::generate();
    app.state
        .store
        .create_session(NewSession {
            token_hash: &selah_server::auth::token::hash(&token),
            user_id,
            kind: "token",
            lifetime_ms: 3_600_000,
            ip: None,
            user_agent: None,
        })
        .await
        .unwrap();
    let mut api = app.client();
    api.token = Some(token);
    api
}

/// Sends a request in a team context (`X-Selah-Team`), or personal when `team` is None.
pub async fn send_in(
    api: &Api,
    method: Method,
    path: &str,
    team: Option<&str>,
    body: Option<Value>,
) -> Resp {
    let in_context = Api {
        team: team.map(str::to_string),
        ..api.clone()
    };
    in_context.send(method, path, body).await
}

/// Creates a team as `owner` and adds `user` with `role` through an invitation (and a role
/// change for owners).
pub async fn invite(owner: &Api, team: &str, user: &Api, user_id: &str, role: TeamRole) {
    let invited = if role == TeamRole::Owner {
        "member"
    } else {
        role.as_str()
    };
    let r = owner
        .post(
            &format!("/api/v1/teams/{team}/invitations"),
            json!({"role": invited}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let j = user
        .post("/api/v1/teams/join", json!({"code": r.body["code"]}))
        .await;
    assert_eq!(j.status, StatusCode::CREATED, "{}", j.text);
    if role == TeamRole::Owner {
        let p = owner
            .patch(
                &format!("/api/v1/teams/{team}/members/{user_id}"),
                json!({"role": "owner"}),
            )
            .await;
        assert_eq!(p.status, StatusCode::NO_CONTENT, "{}", p.text);
    }
}

/// A random world: global roles, team memberships, sessions (creator, team or personal).
#[derive(Debug, Clone)]
struct World {
    roles: Vec<Role>,
    /// `members[team][user]`.
    members: Vec<Vec<Option<TeamRole>>>,
    sessions: Vec<(usize, Option<usize>)>,
}

fn world() -> impl Strategy<Value = World> {
    let role = prop_oneof![Just(Role::Admin), Just(Role::Member), Just(Role::Guest)];
    let team_role = prop_oneof![
        3 => Just(None),
        1 => Just(Some(TeamRole::Owner)),
        1 => Just(Some(TeamRole::Admin)),
        1 => Just(Some(TeamRole::Member)),
        1 => Just(Some(TeamRole::Guest)),
    ];
    (2usize..=5, 1usize..=3).prop_flat_map(move |(users, teams)| {
        (
            proptest::collection::vec(role.clone(), users),
            proptest::collection::vec(proptest::collection::vec(team_role.clone(), users), teams),
            proptest::collection::vec((0..users, proptest::option::of(0..teams)), 0..=8),
        )
            .prop_map(|(roles, members, sessions)| World {
                roles,
                members,
                sessions,
            })
    })
}

/// A created session: id, owner index, team index.
type Made = (String, usize, Option<usize>);

async fn check_world(db: Db, w: World) -> Result<(), TestCaseError> {
    let app = TestApp::spawn_with(db, |_| {}).await;
    // The founder (stepped up, so it may create admins) creates every account, makes the
    // teams and invites people; it is no part of the world.
    let builder = app.founder().await;
    let r = builder
        .post(
            "/api/v1/auth/step-up",
            json!({"password": FOUNDER_PASSWORD}),
        )
        .await;
    prop_assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut users = Vec::new();
    for (i, role) in w.roles.iter().enumerate() {
        let api = app
            .user_with_role(&builder, &format!("user{i}"), role.as_str())
            .await;
        let me = api.get("/api/v1/auth/me").await;
        users.push((me.body["user"]["id"].as_str().unwrap().to_string(), api));
    }
    let mut teams = Vec::new();
    for (t, members) in w.members.iter().enumerate() {
        let r = builder
            .post("/api/v1/teams", json!({"name": format!("team {t}")}))
            .await;
        prop_assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let id = r.body["id"].as_str().unwrap().to_string();
        for (u, role) in members.iter().enumerate() {
            if let Some(role) = role {
                invite(&builder, &id, &users[u].1, &users[u].0, *role).await;
            }
        }
        teams.push(id);
    }
    let member = |u: usize, t: usize| w.members[t][u].is_some();

    let mut made: Vec<Made> = Vec::new();
    for (n, (u, t)) in w.sessions.iter().enumerate() {
        let r = send_in(
            &users[*u].1,
            Method::POST,
            "/api/v1/chat/sessions",
            t.map(|t| teams[t].as_str()),
            Some(json!({"title": format!("s{n}")})),
        )
        .await;
        match t {
            Some(t) if !member(*u, *t) => {
                prop_assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text)
            }
            _ => {
                prop_assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
                made.push((r.body["id"].as_str().unwrap().to_string(), *u, *t));
            }
        }
    }

    for (u, (uid, api)) in users.iter().enumerate() {
        let contexts = std::iter::once(None).chain((0..teams.len()).map(Some));
        for ctx in contexts {
            let header = ctx.map(|t| teams[t].as_str());
            let allowed = ctx.is_none_or(|t| member(u, t));
            let expected: BTreeSet<&str> = made
                .iter()
                .filter(|(_, owner, team)| match ctx {
                    None => team.is_none() && *owner == u,
                    Some(t) => allowed && *team == Some(t),
                })
                .map(|(id, _, _)| id.as_str())
                .collect();
            let list = send_in(api, Method::GET, "/api/v1/chat/sessions", header, None).await;
            if !allowed {
                prop_assert_eq!(list.status, StatusCode::NOT_FOUND, "{}", list.text);
            } else {
                prop_assert_eq!(list.status, StatusCode::OK, "{}", list.text);
                let rows = list.body.as_array().unwrap();
                let got: BTreeSet<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
                prop_assert_eq!(&got, &expected, "user {} context {:?}", u, ctx);
                prop_assert_eq!(got.len(), rows.len(), "duplicates in the list");
                for r in rows {
                    match ctx {
                        None => {
                            prop_assert_eq!(&r["owner_id"], &json!(uid));
                            prop_assert!(r["team_id"].is_null());
                        }
                        Some(t) => prop_assert_eq!(&r["team_id"], &json!(teams[t])),
                    }
                }
            }
            for (id, _, _) in &made {
                let r = send_in(
                    api,
                    Method::GET,
                    &format!("/api/v1/chat/sessions/{id}"),
                    header,
                    None,
                )
                .await;
                let want = if expected.contains(id.as_str()) {
                    StatusCode::OK
                } else {
                    StatusCode::NOT_FOUND
                };
                prop_assert_eq!(
                    r.status,
                    want,
                    "user {} context {:?} session {}",
                    u,
                    ctx,
                    id
                );
                if want == StatusCode::OK {
                    prop_assert_eq!(&r.body["id"], &json!(id));
                }
            }
        }
    }
    app.stop().await;
    Ok(())
}

fn run_property(db: Db) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(PtConfig {
        cases: 10,
        max_shrink_iters: 8,
        failure_persistence: None,
        ..PtConfig::default()
    });
    runner
        .run(&world(), |w| rt.block_on(check_world(db, w)))
        .unwrap();
}

#[test]
fn no_list_or_get_crosses_scopes_on_sqlite() {
    run_property(Db::Sqlite);
}

#[test]
fn no_list_or_get_crosses_scopes_on_postgres() {
    run_property(Db::Postgres);
}
