//! `selah audit verify`: exit codes and messages on SQLite and PostgreSQL, with and without
//! `--archive`, against databases tampered with directly.

use std::path::Path;
use std::process::Command;

use selah_store::Store;
use selah_store::audit::AuditInput;
use sqlx::Executor;

/// `selah --data-dir <data> [--database-url <url>] audit verify <extra>` in a clean
/// environment; returns (exit code, stdout).
fn verify(data: &Path, url: Option<&str>, extra: &[&str]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_selah"));
    for (k, _) in std::env::vars() {
        if k.starts_with("SELAH_") || k == "XDG_DATA_HOME" {
            cmd.env_remove(k);
        }
    }
    cmd.current_dir(data.parent().unwrap())
        .arg("--data-dir")
        .arg(data);
    if let Some(u) = url {
        cmd.arg("--database-url").arg(u);
    }
    let out = cmd.args(["audit", "verify"]).args(extra).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

async fn seed(store: &Store, n: i64) {
    let events: Vec<AuditInput> = (1..=n)
        .map(|i| AuditInput {
            ts: 1_000 + i,
            event_type: "test.cli".into(),
            action: "create".into(),
            resource_id: Some(format!("r{i}")),
            ..Default::default()
        })
        .collect();
    store.append_audit(&events).await.unwrap();
}

async fn exec(store: &Store, sql: &str) {
    store
        .writer()
        .execute(sqlx::AssertSqlSafe(sql.to_string()))
        .await
        .unwrap();
}

async fn fresh_pg() -> String {
    selah_store::testing::fresh_postgres_database().await
}

async fn exit_codes(url: Option<String>) {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let (store, _) = Store::open(url.as_deref().unwrap_or(""), &data)
        .await
        .unwrap();
    seed(&store, 6).await;
    let (code, out) = verify(&data, url.as_deref(), &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact: 6 record(s)"), "{out}");

    exec(
        &store,
        "UPDATE audit_log SET resource_id = 'forged' WHERE seq = 4",
    )
    .await;
    let (code, out) = verify(&data, url.as_deref(), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("at seq 4") && out.contains("changed"), "{out}");

    exec(&store, "DELETE FROM audit_log WHERE seq >= 4").await;
    let (code, out) = verify(&data, url.as_deref(), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("at seq 4") && out.contains("missing"), "{out}");
    store.close().await;
}

#[tokio::test]
async fn verify_exit_codes_on_sqlite() {
    exit_codes(None).await;
}

#[tokio::test]
async fn verify_exit_codes_on_postgres() {
    exit_codes(Some(fresh_pg().await)).await;
}

#[tokio::test]
async fn verify_archive_checks_the_files_chain_into_the_live_log() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let (store, _) = Store::open("", &data).await.unwrap();
    seed(&store, 5).await;
    let arch = data.join("archive");
    store.archive_audit(&arch, 1_004).await.unwrap().unwrap(); // 1..=3
    seed(&store, 2).await;
    // Live now: 4 (ts 1004), 5 (1005), 6 (1001), 7 (1002): all before 1006.
    let r = store.archive_audit(&arch, 1_006).await.unwrap().unwrap();
    assert_eq!((r.first_seq, r.last_seq), (4, 7));
    store.close().await;
    let (code, out) = verify(&data, None, &["--archive"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("archive intact: 7 record(s)"), "{out}");

    // A missing file breaks the chain of files.
    std::fs::remove_file(arch.join("audit-1-3.jsonl.gz")).unwrap();
    let (code, out) = verify(&data, None, &["--archive"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("archive BROKEN") && out.contains("audit-4-7"),
        "{out}"
    );
    // Without --archive only the live log is checked, which is still intact.
    assert_eq!(verify(&data, None, &[]).0, 0);
}
