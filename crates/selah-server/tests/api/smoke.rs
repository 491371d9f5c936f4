//! The server starts on both backends, serves its OpenAPI document and stops cleanly.

use crate::common::*;

#[tokio::test]
async fn serves_openapi_on_sqlite_and_stops() {
    let app = TestApp::spawn().await;
    let r = app.client().get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["info"]["title"], "Selah API");
    app.stop().await;
}

#[tokio::test]
async fn opens_postgres_and_migrates() {
    let app = TestApp::spawn_with(Db::Postgres, |_| {}).await;
    assert_eq!(app.state.store.backend(), selah_store::Backend::Postgres);
    assert_eq!(app.state.store.count_users().await.unwrap(), 0);
    app.stop().await;
}
