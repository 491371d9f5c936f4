//! The search scope property test: random users, teams, memberships and notes (each in a
//! personal or team scope), indexed with the real embedding model; then every user searches in
//! every context they could name (personal, each team, and `scope=all`) with full text, vectors
//! and both, and no result ever belongs to a scope the user may not read in that context. Runs
//! on SQLite and PostgreSQL.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestCaseError, TestRunner};
use reqwest::{Method, StatusCode};
use selah_core::{Role, TeamRole};
use serde_json::json;

use crate::common::*;
use crate::docs_support::*;
use crate::scope::{direct_user, send_in};

#[derive(Debug, Clone)]
struct World {
    users: usize,
    /// `members[team][user]` (user 0 owns every team whatever this says).
    members: Vec<Vec<bool>>,
    /// (author, team) per note.
    notes: Vec<(usize, Option<usize>)>,
}

fn world() -> impl Strategy<Value = World> {
    (2usize..=3, 1usize..=2).prop_flat_map(|(users, teams)| {
        (
            proptest::collection::vec(proptest::collection::vec(any::<bool>(), users), teams),
            proptest::collection::vec((0..users, proptest::option::of(0..teams)), 1..=6),
        )
            .prop_map(move |(members, notes)| World {
                users,
                members,
                notes,
            })
    })
}

async fn check(db: Db, w: World) -> Result<(), TestCaseError> {
    let app = app_with_docs(db, |_| {}).await;
    let mut users = Vec::new();
    for u in 0..w.users {
        users.push(direct_user(&app, &format!("user{u}"), Role::Member).await);
    }
    let mut teams = Vec::new();
    for (t, members) in w.members.iter().enumerate() {
        let team = app
            .state
            .store
            .create_team(&format!("team {t}"), &users[0].0)
            .await
            .unwrap();
        // User 0 creates every team (its owner); others join as members when the world says so.
        for (u, m) in members.iter().enumerate().skip(1) {
            if *m {
                app.state
                    .store
                    .add_member(&team.team.id, &users[u].0, TeamRole::Member)
                    .await
                    .unwrap();
            }
        }
        teams.push(team.team.id);
    }
    let mut actual_member = vec![vec![false; w.users]; teams.len()];
    for (t, id) in teams.iter().enumerate() {
        for (u, (uid, _)) in users.iter().enumerate() {
            actual_member[t][u] = app.state.store.team_role(id, uid).await.unwrap().is_some();
        }
    }
    let is_member = |u: usize, t: usize| actual_member[t][u];

    let mut made: Vec<(String, usize, Option<usize>)> = Vec::new();
    for (n, (u, t)) in w.notes.iter().enumerate() {
        let r = send_in(
            &users[*u].1,
            Method::POST,
            DOCS,
            t.map(|t| teams[t].as_str()),
            Some(json!({"title": format!("note {n}"),
                        "body": format!("The lighthouse log entry {n}: the keeper wrote the secret word zq{n} in the margin.")})),
        )
        .await;
        match t {
            Some(t) if !is_member(*u, *t) => {
                prop_assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text)
            }
            _ => {
                prop_assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
                made.push((r.body["id"].as_str().unwrap().to_string(), *u, *t));
            }
        }
    }
    for (id, u, t) in &made {
        let api = Api {
            team: t.map(|t| teams[t].clone()),
            ..users[*u].1.clone()
        };
        let d = settle(&api, id).await;
        prop_assert_eq!(d["state"].as_str(), Some("ready"));
    }

    for (u, (_, api)) in users.iter().enumerate() {
        // (context header, scope parameter, what may come back)
        let mut cases: Vec<(Option<usize>, &str)> = vec![(None, "current"), (None, "all")];
        cases.extend((0..teams.len()).map(|t| (Some(t), "current")));
        for (ctx, scope) in cases {
            let allowed_ctx = ctx.is_none_or(|t| is_member(u, t));
            let expected: BTreeSet<&str> = made
                .iter()
                .filter(|(_, owner, team)| match (ctx, scope) {
                    (None, "all") => match team {
                        None => *owner == u,
                        Some(t) => is_member(u, *t),
                    },
                    (None, _) => team.is_none() && *owner == u,
                    (Some(t), _) => *team == Some(t),
                })
                .map(|(id, _, _)| id.as_str())
                .collect();
            for mode in ["hybrid", "fulltext", "vector"] {
                let path = format!(
                    "/api/v1/search?q=lighthouse%20keeper%20secret%20word&k=50&scope={scope}&mode={mode}"
                );
                let r = send_in(
                    api,
                    Method::GET,
                    &path,
                    ctx.map(|t| teams[t].as_str()),
                    None,
                )
                .await;
                if !allowed_ctx {
                    prop_assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
                    continue;
                }
                prop_assert_eq!(r.status, StatusCode::OK, "{}", r.text);
                let got: BTreeSet<&str> = r
                    .body
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| h["document_id"].as_str().unwrap())
                    .collect();
                prop_assert!(
                    got.is_subset(&expected),
                    "user {} ctx {:?} scope {} mode {}: got {:?}, may see {:?}",
                    u,
                    ctx,
                    scope,
                    mode,
                    got,
                    expected
                );
                // Every note says "lighthouse": each visible one is found.
                prop_assert_eq!(
                    &got,
                    &expected,
                    "user {} ctx {:?} scope {} mode {}",
                    u,
                    ctx,
                    scope,
                    mode
                );
            }
            // Naming another scope's document finds nothing.
            for (id, _, _) in made
                .iter()
                .filter(|(id, _, _)| !expected.contains(id.as_str()))
            {
                if !allowed_ctx {
                    continue;
                }
                let path = format!("/api/v1/search?q=lighthouse&scope={scope}&doc={id}");
                let r = send_in(
                    api,
                    Method::GET,
                    &path,
                    ctx.map(|t| teams[t].as_str()),
                    None,
                )
                .await;
                prop_assert_eq!(r.status, StatusCode::OK, "{}", r.text);
                prop_assert!(r.body.as_array().unwrap().is_empty(), "{}", r.text);
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
        cases: 4,
        max_shrink_iters: 4,
        failure_persistence: None,
        ..PtConfig::default()
    });
    runner.run(&world(), |w| rt.block_on(check(db, w))).unwrap();
}

#[test]
fn no_search_crosses_scopes_on_sqlite() {
    run_property(Db::Sqlite);
}

#[test]
fn no_search_crosses_scopes_on_postgres() {
    run_property(Db::Postgres);
}
