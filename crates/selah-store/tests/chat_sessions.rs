//! Chat sessions in the store: scope-confined CRUD, and the partial indexes the list uses
//! (the SQLite planner picks them; PostgreSQL has them with the `team_id IS NULL` predicate).

use selah_core::{Role, TeamRole};
use selah_store::chat_sessions::{ChatSessionPatch, list_sql};
use selah_store::{Scope, Store};
use sqlx::Row;

mod support;
use support::*;

async fn crud_stays_in_scope(store: &Store) {
    let a = store.create_user("a", "h", Role::Member).await.unwrap().id;
    let b = store.create_user("b", "h", Role::Member).await.unwrap().id;
    let t = store.create_team("t", &a).await.unwrap().team.id;
    let mine = store
        .create_chat_session(&personal(&a), "mine")
        .await
        .unwrap()
        .unwrap();
    let ours = store
        .create_chat_session(&team(&a, &t), "ours")
        .await
        .unwrap()
        .unwrap();
    // b is not a member: nothing is written in the team, nothing of it is seen.
    assert!(
        store
            .create_chat_session(&team(&b, &t), "x")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .list_chat_sessions(&team(&b, &t), None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .chat_session(&team(&b, &t), &ours.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .chat_session(&personal(&b), &mine.id)
            .await
            .unwrap()
            .is_none()
    );
    let patch = ChatSessionPatch {
        title: Some("stolen".into()),
        archived: None,
    };
    assert!(
        store
            .update_chat_session(&personal(&b), &mine.id, &patch)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !store
            .delete_chat_session(&team(&b, &t), &ours.id)
            .await
            .unwrap()
    );
    // The personal context never shows team rows, nor the team context personal ones.
    let p: Vec<_> = store.list_chat_sessions(&personal(&a), None).await.unwrap();
    assert_eq!(p.iter().map(|s| &s.id).collect::<Vec<_>>(), vec![&mine.id]);
    let tl: Vec<_> = store.list_chat_sessions(&team(&a, &t), None).await.unwrap();
    assert_eq!(tl.iter().map(|s| &s.id).collect::<Vec<_>>(), vec![&ours.id]);
    // Once b joins, the team's rows are b's to see and change.
    store.add_member(&t, &b, TeamRole::Member).await.unwrap();
    let archived = ChatSessionPatch {
        title: None,
        archived: Some(true),
    };
    let s = store
        .update_chat_session(&team(&b, &t), &ours.id, &archived)
        .await
        .unwrap()
        .unwrap();
    assert!(s.archived);
    assert_eq!(s.title, "ours");
    assert_eq!(
        store
            .list_chat_sessions(&team(&b, &t), Some(false))
            .await
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        store
            .list_chat_sessions(&team(&b, &t), Some(true))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .delete_chat_session(&team(&b, &t), &ours.id)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .chat_session(&personal(&a), &mine.id)
            .await
            .unwrap()
            .unwrap()
            .title,
        "mine"
    );
}

#[tokio::test]
async fn crud_stays_in_scope_on_sqlite() {
    let (store, _dir) = sqlite().await;
    crud_stays_in_scope(&store).await;
}

#[tokio::test]
async fn crud_stays_in_scope_on_postgres() {
    let (store, _dir) = postgres().await;
    crud_stays_in_scope(&store).await;
}

async fn plan(store: &Store, scope: &Scope) -> String {
    let sql = format!("EXPLAIN QUERY PLAN {}", list_sql(scope));
    let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(scope.user_id());
    let q = match scope.team_id() {
        Some(t) => q.bind(t.to_string()),
        None => q,
    };
    let rows = q.bind(None::<i64>).fetch_all(store.reader()).await.unwrap();
    rows.iter()
        .map(|r| r.get::<String, _>("detail"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn sqlite_lists_through_the_partial_indexes() {
    let (store, _dir) = sqlite().await;
    let p = plan(&store, &personal("u")).await;
    assert!(p.contains("USING INDEX chat_sessions_personal"), "{p}");
    assert!(
        !p.contains("USE TEMP B-TREE FOR ORDER BY"),
        "the index gives the order: {p}"
    );
    let t = plan(&store, &team("u", "t")).await;
    assert!(t.contains("USING INDEX chat_sessions_team"), "{t}");
}

#[tokio::test]
async fn postgres_has_the_partial_indexes() {
    let (store, _dir) = postgres().await;
    for (name, predicate) in [
        ("chat_sessions_personal", "WHERE (team_id IS NULL)"),
        ("chat_sessions_team", "WHERE (team_id IS NOT NULL)"),
    ] {
        let def: String = sqlx::query("SELECT indexdef FROM pg_indexes WHERE indexname = $1")
            .bind(name)
            .fetch_one(store.reader())
            .await
            .unwrap()
            .get("indexdef");
        assert!(def.ends_with(predicate), "{def}");
    }
}
