//! Walks the route × role table (`selah_server::policy::TABLE`) against the running server,
//! and checks that the table and the OpenAPI document list exactly the same routes.

use std::collections::BTreeSet;

use reqwest::Method;
use selah_core::Role;
use selah_server::policy::{ROLES, SessionUse, TABLE};
use serde_json::json;

use crate::common::*;
use crate::scope::session_for;

/// Every (method, path) the OpenAPI document lists.
fn documented() -> BTreeSet<(String, String)> {
    let doc = serde_json::to_value(selah_server::openapi()).unwrap();
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete", "head", "options"] {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn the_table_lists_exactly_the_documented_routes() {
    let table: BTreeSet<(String, String)> = TABLE
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    assert_eq!(table.len(), TABLE.len(), "duplicate rows");
    let docs = documented();
    let missing: Vec<_> = docs.difference(&table).collect();
    let extra: Vec<_> = table.difference(&docs).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "routes without a row in policy.rs: {missing:?}; rows for routes that do not exist: {extra:?}"
    );
}

/// One account per role (index as in `ROLES`, anonymous aside), each signed in through the
/// API: the founder by setup and login, stepped up; the others created by the founder.
struct Cast {
    ids: Vec<String>,
    clients: Vec<Api>,
}

async fn cast(app: &TestApp) -> Cast {
    let founder = app.founder().await;
    step_up(&founder).await;
    let mut clients = vec![founder];
    for role in &Role::ALL[1..] {
        let name = format!("probe_{}", role.as_str());
        clients.push(app.user_with_role(&clients[0], &name, role.as_str()).await);
    }
    let mut ids = Vec::new();
    for c in &clients {
        let me = c.get("/api/v1/auth/me").await;
        ids.push(me.body["user"]["id"].as_str().unwrap().to_string());
    }
    Cast { ids, clients }
}

async fn step_up(founder: &Api) {
    let r = founder
        .post(
            "/api/v1/auth/step-up",
            json!({"password": FOUNDER_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn probe(api: &Api, method: &str, path: &str, body: Option<&str>) -> Resp {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let body = body.map(|b| serde_json::from_str(b).unwrap());
    api.send(method, path, body).await
}

async fn walk(db: Db) {
    let app = TestApp::spawn_with(db, |_| {}).await;
    let cast = cast(&app).await;
    let anon = app.client();
    let mut failures = Vec::new();
    for rule in TABLE {
        for (i, role) in ROLES.iter().enumerate() {
            let fresh;
            let api = match (i, rule.session) {
                (5, _) => &anon,
                (_, SessionUse::Shared) => &cast.clients[i],
                (_, SessionUse::Fresh) => {
                    fresh = session_for(&app, &cast.ids[i]).await;
                    &fresh
                }
            };
            let r = probe(api, rule.method, rule.probe, rule.body).await;
            if r.status.as_u16() != rule.expect[i] {
                failures.push(format!(
                    "{} {} as {role}: expected {}, got {} {}",
                    rule.method, rule.probe, rule.expect[i], r.status, r.text
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    app.stop().await;
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_table_says_on_sqlite() {
    walk(Db::Sqlite).await;
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_table_says_on_postgres() {
    walk(Db::Postgres).await;
}
