//! What the store's test files share: a store on a fresh SQLite file or a fresh PostgreSQL
//! database, and scopes. Each test file uses a part of it.
#![allow(dead_code)]

use selah_store::{Scope, Store};

/// A store on SQLite in a temporary directory (kept alive by the returned guard).
pub async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open("", dir.path()).await.unwrap();
    (store, dir)
}

/// A store on a new, empty PostgreSQL database.
pub async fn postgres() -> (Store, tempfile::TempDir) {
    let url = selah_store::testing::fresh_postgres_database().await;
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(&url, dir.path()).await.unwrap();
    (store, dir)
}

/// The user's personal scope.
pub fn personal(u: &str) -> Scope {
    Scope::Personal {
        user_id: u.to_string(),
    }
}

/// The user acting in a team.
pub fn team(u: &str, t: &str) -> Scope {
    Scope::Team {
        user_id: u.to_string(),
        team_id: t.to_string(),
    }
}
