//! Test support shared by every crate's tests: throw-away PostgreSQL databases.
//! (Not part of the product's API; hidden from the docs.)

use sqlx::Executor;

/// The PostgreSQL server tests use: `PG_TEST_URL`, default the local trust-auth server.
pub fn pg_admin_url() -> String {
    std::env::var("PG_TEST_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// Creates an empty database named `selah_t_<random>` and returns its URL. `make test` drops
/// such databases before each run (scripts/clean-test-dbs.sh).
pub async fn fresh_postgres_database() -> String {
    sqlx::any::install_default_drivers();
    let admin = pg_admin_url();
    let name = format!("selah_t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&format!("{admin}/postgres"))
        .await
        .expect("PostgreSQL must be running at PG_TEST_URL (default 127.0.0.1:5432)");
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("CREATE DATABASE");
    format!("{admin}/{name}")
}
