//! Walks the route × role table (`selah_server::policy::TABLE`) against the running server,
//! and checks that the table and the OpenAPI document list exactly the same routes.

use std::collections::BTreeSet;

use reqwest::Method;
use selah_core::Role;
use selah_server::policy::{ROLES, SessionUse, TABLE};

use crate::common::*;
use crate::scope::{direct_user, session_for};

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

/// One account per role (index as in `ROLES`), each with a signed-in client.
struct Cast {
    ids: Vec<String>,
    clients: Vec<Api>,
}

async fn cast(app: &TestApp) -> Cast {
    let (mut ids, mut clients) = (Vec::new(), Vec::new());
    for role in Role::ALL {
        let (id, api) = direct_user(app, role.as_str(), *role).await;
        ids.push(id);
        clients.push(api);
    }
    step_up(app, &ids[0]).await;
    Cast { ids, clients }
}

/// Steps up every session of the founder for the whole walk.
async fn step_up(app: &TestApp, founder_id: &str) {
    for s in app.state.store.list_sessions(founder_id).await.unwrap() {
        app.state
            .store
            .set_step_up(&s.id, selah_store::now_ms() + 3_600_000)
            .await
            .unwrap();
    }
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
                    if i == 0 {
                        step_up(&app, &cast.ids[0]).await;
                    }
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
