//! The chain, its verification, queries and archiving, on SQLite and PostgreSQL.

use super::*;
use sqlx::Executor;

async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open("", dir.path()).await.unwrap();
    (store, dir)
}

async fn postgres() -> (Store, tempfile::TempDir) {
    let url = crate::testing::fresh_postgres_database().await;
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(&url, dir.path()).await.unwrap();
    (store, dir)
}

fn event(i: usize) -> AuditInput {
    AuditInput {
        ts: 1_000 + i as i64,
        user_id: Some(format!("u{}", i % 3)),
        event_type: if i.is_multiple_of(2) {
            "test.even"
        } else {
            "test.odd"
        }
        .into(),
        action: "create".into(),
        resource_type: Some("thing".into()),
        resource_id: Some(format!("r{i}")),
        details: Some(format!("{{\"i\":{i}}}")),
        ..Default::default()
    }
}

async fn seeded(store: &Store, n: usize) {
    let events: Vec<_> = (1..=n).map(event).collect();
    store.append_audit(&events[..n / 2]).await.unwrap();
    store.append_audit(&events[n / 2..]).await.unwrap();
}

async fn exec(store: &Store, sql: &str) {
    store
        .writer()
        .execute(sqlx::AssertSqlSafe(sql.to_string()))
        .await
        .unwrap();
}

async fn tamper_cases(open: impl AsyncFn() -> (Store, tempfile::TempDir)) {
    let cases: [(&str, Option<i64>); 5] = [
        (
            "UPDATE audit_log SET action = 'delete' WHERE seq = 4",
            Some(4),
        ),
        ("DELETE FROM audit_log WHERE seq = 5", Some(5)),
        ("DELETE FROM audit_log WHERE seq = 10", Some(10)),
        ("DELETE FROM audit_log WHERE seq >= 8", Some(8)),
        ("UPDATE audit_head SET seq = 9", Some(10)),
    ];
    for (sql, bad) in cases {
        let (store, _dir) = open().await;
        seeded(&store, 10).await;
        let ok = store.verify_audit().await.unwrap();
        assert!(ok.ok, "{ok:?}");
        assert_eq!(ok.checked, 10);
        exec(&store, sql).await;
        let r = store.verify_audit().await.unwrap();
        assert!(!r.ok, "{sql}: {r:?}");
        assert_eq!(r.first_bad_seq, bad, "{sql}: {r:?}");
        assert!(r.reason.is_some());
    }
    // Swapping two records' contents (hashes included) breaks the link at the first of them.
    let (store, _dir) = open().await;
    seeded(&store, 10).await;
    let a = store
        .query_audit(&AuditFilter::default(), Some(4), 1)
        .await
        .unwrap();
    let b = store
        .query_audit(&AuditFilter::default(), Some(5), 1)
        .await
        .unwrap();
    let (a, b) = (&a.records[0], &b.records[0]);
    for (seq, r) in [(a.seq, b), (b.seq, a)] {
        sqlx::query("UPDATE audit_log SET ts=$1, action=$2, resource_id=$3, details=$4, prev_hash=$5, hash=$6 WHERE seq=$7")
            .bind(r.event.ts)
            .bind(&r.event.action)
            .bind(&r.event.resource_id)
            .bind(&r.event.details)
            .bind(&r.prev_hash)
            .bind(&r.hash)
            .bind(seq)
            .execute(store.writer())
            .await
            .unwrap();
    }
    let r = store.verify_audit().await.unwrap();
    assert_eq!((r.ok, r.first_bad_seq), (false, Some(3)), "{r:?}");
    // A deleted head is reported; appending after a deleted tail does not hide the deletion.
    let (store, _dir) = open().await;
    seeded(&store, 6).await;
    exec(&store, "DELETE FROM audit_log WHERE seq = 6").await;
    store.append_audit(&[event(7)]).await.unwrap();
    let r = store.verify_audit().await.unwrap();
    assert_eq!((r.ok, r.first_bad_seq), (false, Some(6)), "{r:?}");
    exec(&store, "DELETE FROM audit_head").await;
    let r = store.verify_audit().await.unwrap();
    assert!(!r.ok);
}

#[tokio::test]
async fn tampering_is_detected_at_the_right_seq_on_sqlite() {
    tamper_cases(sqlite).await;
}

#[tokio::test]
async fn tampering_is_detected_at_the_right_seq_on_postgres() {
    tamper_cases(postgres).await;
}

#[tokio::test]
async fn an_empty_log_verifies_and_genesis_is_the_start() {
    let (store, _dir) = sqlite().await;
    let r = store.verify_audit().await.unwrap();
    assert!(r.ok && r.checked == 0 && r.head_seq == Some(0), "{r:?}");
    store.append_audit(&[event(1)]).await.unwrap();
    let page = store
        .query_audit(&AuditFilter::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(page.records[0].prev_hash, GENESIS_HASH);
    assert!(page.records[0].hash_is_valid());
}

async fn pages_and_filters(store: Store) {
    seeded(&store, 25).await;
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .query_audit(&AuditFilter::default(), before, 7)
            .await
            .unwrap();
        assert!(page.records.len() <= 7);
        seen.extend(page.records.iter().map(|r| r.seq));
        match page.next_before {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    assert_eq!(seen, (1..=25).rev().collect::<Vec<_>>());
    let f = AuditFilter {
        user_id: Some("u1".into()),
        event_type: Some("test.odd".into()),
        since_ms: Some(1_005),
        until_ms: Some(1_020),
        ..Default::default()
    };
    let got: Vec<i64> = store
        .query_audit(&f, None, 100)
        .await
        .unwrap()
        .records
        .iter()
        .map(|r| r.seq)
        .collect();
    // i odd, i % 3 == 1, 5 <= i < 20: 7, 13, 19
    assert_eq!(got, vec![19, 13, 7]);
    let f = AuditFilter {
        resource_type: Some("thing".into()),
        resource_id: Some("r3".into()),
        ..Default::default()
    };
    let page = store.query_audit(&f, None, 100).await.unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].seq, 3);
    assert_eq!(page.next_before, None);
}

#[tokio::test]
async fn pages_have_no_gaps_or_duplicates_and_filters_combine_on_both_backends() {
    pages_and_filters(sqlite().await.0).await;
    pages_and_filters(postgres().await.0).await;
}

async fn archiving(store: Store, dir: &std::path::Path) {
    let arch = dir.join("archive");
    assert_eq!(store.archive_audit(&arch, 0).await.unwrap(), None);
    seeded(&store, 12).await;
    // Records stamped before 1_009 are 1..=8.
    let r = store.archive_audit(&arch, 1_009).await.unwrap().unwrap();
    assert_eq!((r.archived, r.first_seq, r.last_seq), (8, 1, 8));
    assert_eq!(r.file, "audit-1-8.jsonl.gz");
    let rows = archive::read_archive(&arch.join(&r.file)).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    assert!(rows.iter().all(AuditRecord::hash_is_valid));
    assert_eq!(rows[2].event, event(3));
    let v = store.verify_audit().await.unwrap();
    assert!(v.ok && v.checked == 4 && v.anchor_seq == 8, "{v:?}");
    // New records continue the chain; a second archive chains into the first.
    store.append_audit(&[event(13)]).await.unwrap();
    let r2 = store.archive_audit(&arch, i64::MAX).await.unwrap().unwrap();
    assert_eq!((r2.first_seq, r2.last_seq), (9, 13));
    let (end, checked) = archive::verify_archive_files(&arch).unwrap();
    assert_eq!((end.seq, checked), (13, 13));
    let v = store.verify_audit().await.unwrap();
    assert!(
        v.ok && v.checked == 0 && v.anchor_seq == 13 && v.head_seq == Some(13),
        "{v:?}"
    );
    store.append_audit(&[event(14)]).await.unwrap();
    assert!(store.verify_audit().await.unwrap().ok);
    // A tampered archive file is reported.
    std::fs::write(arch.join("audit-14-20.jsonl.gz"), b"junk").unwrap();
    assert!(archive::verify_archive_files(&arch).is_err());
}

#[tokio::test]
async fn archiving_moves_a_prefix_and_the_live_chain_still_verifies() {
    let (store, dir) = sqlite().await;
    archiving(store, dir.path()).await;
    let (store, dir) = postgres().await;
    archiving(store, dir.path()).await;
}

#[tokio::test]
async fn a_broken_chain_is_not_archived() {
    let (store, dir) = sqlite().await;
    seeded(&store, 6).await;
    exec(&store, "UPDATE audit_log SET action = 'x' WHERE seq = 3").await;
    let err = store
        .archive_audit(&dir.path().join("a"), i64::MAX)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("record 3"), "{err}");
    assert_eq!(
        archive::archive_files(&dir.path().join("a")).unwrap(),
        vec![]
    );
    let left: i64 = sqlx::query("SELECT COUNT(*) AS n FROM audit_log")
        .fetch_one(store.reader())
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(left, 6);
}

#[tokio::test]
async fn job_runs_are_recorded() {
    let (store, _dir) = sqlite().await;
    store
        .record_job_run("x", 1, 5, "{\"removed\":2}", None)
        .await
        .unwrap();
    store
        .record_job_run("x", 6, 9, "{}", Some("boom"))
        .await
        .unwrap();
    let runs = store.job_runs("x", 10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert!(!runs[0].ok && runs[0].error.as_deref() == Some("boom"));
    assert!(runs[1].ok && runs[1].stats == "{\"removed\":2}");
}
