//! Jobs and `POST /api/v1/admin/cleanup`: temp files, expired sessions, audit archiving, job
//! isolation, concurrent runs, permissions and health.

use std::fs::File;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use selah_core::Role;
use selah_core::health::Status;
use selah_server::audit::AuditEvent;
use selah_server::auth::token;
use selah_server::jobs::{Job, JobContext, JobFuture};
use selah_store::audit::AuditFilter;
use selah_store::audit::archive::{read_archive, verify_archive_files};
use selah_store::sessions::NewSession;

use crate::audit::signed_in;
use crate::common::*;

fn job<'a>(body: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == name)
        .unwrap_or_else(|| panic!("no job {name} in {body}"))
}

async fn cleanup_does_its_work(db: Db) {
    let app = TestApp::spawn_with(db, |c| {
        c.jobs.audit_retention_days = 0;
        c.jobs.temp_max_age_days = 7;
    })
    .await;
    let admin = signed_in(&app, Role::Admin).await;

    // Temp files: one old, one old but open in this process, one new.
    let tmp = app.data_dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let ten_days_ago = SystemTime::now() - Duration::from_secs(10 * 86_400);
    for (name, len) in [("old.part", 4096usize), ("open.part", 10), ("new.part", 10)] {
        std::fs::write(tmp.join(name), vec![b'x'; len]).unwrap();
    }
    for name in ["old.part", "open.part"] {
        let f = File::options().write(true).open(tmp.join(name)).unwrap();
        f.set_modified(ten_days_ago).unwrap();
    }
    let held = File::open(tmp.join("open.part")).unwrap();

    // A session past its lifetime.
    let user = app
        .state
        .store
        .create_user("aged", "not-a-real-hash", Role::Member)
        .await
        .unwrap();
    let tok = token::generate();
    let aged = app
        .state
        .store
        .create_session(NewSession {
            token_hash: &token::hash(&tok),
            user_id: &user.id,
            kind: "token",
            lifetime_ms: 3_600_000,
            ip: None,
            user_agent: None,
        })
        .await
        .unwrap();
    app.state
        .store
        .age_session(&aged.id, 2 * 86_400_000)
        .await
        .unwrap();

    // Audit records to archive.
    for i in 0..20 {
        app.state
            .audit
            .record(AuditEvent::new("test.old", "create").resource("n", &i.to_string()))
            .await;
    }
    app.state.audit.flush().await;
    tokio::time::sleep(Duration::from_millis(5)).await;

    let r = admin
        .post("/api/v1/admin/cleanup", serde_json::json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for j in r.body["jobs"].as_array().unwrap() {
        assert_eq!(j["ok"], true, "{j}");
        assert!(j["duration_ms"].is_u64() && j.get("error").is_none(), "{j}");
    }
    let t = job(&r.body, "temp_files");
    assert_eq!(
        (t["stats"]["removed"].as_u64(), t["stats"]["bytes"].as_u64()),
        (Some(1), Some(4096))
    );
    assert_eq!(t["stats"]["skipped_open"], 1);
    assert!(!tmp.join("old.part").exists());
    assert!(tmp.join("open.part").exists() && tmp.join("new.part").exists());
    drop(held);

    assert_eq!(job(&r.body, "expired_sessions")["stats"]["removed"], 1);
    let bearer = |t: &str| {
        let mut c = app.client();
        c.token = Some(t.to_string());
        c
    };
    assert_error(
        &bearer(&tok).get("/api/v1/admin/audit-log").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );

    let a = &job(&r.body, "audit_archive")["stats"];
    let (first, last) = (
        a["first_seq"].as_i64().unwrap(),
        a["last_seq"].as_i64().unwrap(),
    );
    assert_eq!(first, 1);
    assert!(last >= 20, "{a}");
    assert_eq!(a["archived"].as_i64().unwrap(), last - first + 1);
    let file = a["file"].as_str().unwrap();
    assert_eq!(file, format!("audit-{first}-{last}.jsonl.gz"));
    let rows = read_archive(&app.data_dir.path().join("archive").join(file)).unwrap();
    assert_eq!(rows.len() as i64, last - first + 1);
    assert_eq!(
        rows.iter()
            .filter(|r| r.event.event_type == "test.old")
            .count(),
        20
    );
    assert!(rows.iter().all(|r| r.hash_is_valid()));
    let (end, _) = verify_archive_files(&app.data_dir.path().join("archive")).unwrap();
    assert_eq!(end.seq, last);

    // The live chain continues from the anchor and verifies.
    let v = admin.get("/api/v1/admin/audit-log/verify").await;
    assert_eq!(v.body["ok"], true, "{}", v.text);
    assert_eq!(v.body["anchor_seq"], last);

    // The run is audited with its statistics, and recorded per job.
    app.state.audit.flush().await;
    let f = AuditFilter {
        event_type: Some("admin.cleanup".into()),
        ..Default::default()
    };
    let events = app
        .state
        .store
        .query_audit(&f, None, 10)
        .await
        .unwrap()
        .records;
    assert_eq!(events.len(), 1);
    let details: serde_json::Value =
        serde_json::from_str(events[0].event.details.as_deref().unwrap()).unwrap();
    assert_eq!(details["jobs"], r.body["jobs"]);
    for name in ["temp_files", "expired_sessions", "audit_archive"] {
        let runs = app.state.store.job_runs(name, 5).await.unwrap();
        assert_eq!(runs.len(), 1, "{name}");
        assert!(runs[0].ok && runs[0].finished_at >= runs[0].started_at);
    }
    assert_eq!(app.state.jobs.health().0, Status::Healthy);
    app.stop().await;
}

#[tokio::test]
async fn cleanup_removes_old_files_and_sessions_and_archives_audit_on_sqlite() {
    cleanup_does_its_work(Db::Sqlite).await;
}

#[tokio::test]
async fn cleanup_removes_old_files_and_sessions_and_archives_audit_on_postgres() {
    cleanup_does_its_work(Db::Postgres).await;
}

#[tokio::test]
async fn cleanup_needs_admin_cleanup_and_a_session() {
    let app = TestApp::spawn().await;
    let member = signed_in(&app, Role::Member).await;
    let none = serde_json::json!({});
    assert_error(
        &app.client()
            .post("/api/v1/admin/cleanup", none.clone())
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_error(
        &member.post("/api/v1/admin/cleanup", none.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_eq!(
        app.state
            .store
            .job_runs("temp_files", 5)
            .await
            .unwrap()
            .len(),
        0
    );
    app.stop().await;
}

struct Failing;
impl Job for Failing {
    fn name(&self) -> &'static str {
        "failing"
    }
    fn run<'a>(&'a self, _: &'a JobContext) -> JobFuture<'a> {
        Box::pin(async { anyhow::bail!("disk on fire") })
    }
}

struct Panicking;
impl Job for Panicking {
    fn name(&self) -> &'static str {
        "panicking"
    }
    fn run<'a>(&'a self, _: &'a JobContext) -> JobFuture<'a> {
        Box::pin(async { panic!("bug") })
    }
}

struct After;
impl Job for After {
    fn name(&self) -> &'static str {
        "after_failures"
    }
    fn run<'a>(&'a self, ctx: &'a JobContext) -> JobFuture<'a> {
        Box::pin(async move {
            let mut stats = selah_server::jobs::JobStats::new();
            stats.insert("users".into(), ctx.store.count_users().await?.into());
            Ok(stats)
        })
    }
}

#[tokio::test]
async fn a_failing_job_does_not_stop_the_others_and_degrades_health() {
    let app = TestApp::spawn().await;
    let admin = signed_in(&app, Role::Admin).await;
    assert_eq!(app.state.jobs.health().0, Status::Healthy);
    app.state.jobs.register(Failing);
    app.state.jobs.register(Panicking);
    app.state.jobs.register(After);
    let r = admin
        .post("/api/v1/admin/cleanup", serde_json::json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let names: Vec<&str> = r.body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "temp_files",
            "expired_sessions",
            "audit_archive",
            "chat_archive",
            "orphan_embeddings",
            "vault_cleanup",
            "failing",
            "panicking",
            "after_failures"
        ]
    );
    assert_eq!(job(&r.body, "failing")["ok"], false);
    assert!(
        job(&r.body, "failing")["error"]
            .as_str()
            .unwrap()
            .contains("disk on fire")
    );
    assert_eq!(job(&r.body, "panicking")["ok"], false);
    assert_eq!(job(&r.body, "after_failures")["ok"], true);
    let (status, msg) = app.state.jobs.health();
    assert_eq!(status, Status::Degraded);
    assert!(
        msg.contains("failing") && msg.contains("panicking"),
        "{msg}"
    );
    let runs = app.state.store.job_runs("failing", 5).await.unwrap();
    assert!(!runs[0].ok && runs[0].error.as_deref().unwrap().contains("disk on fire"));
    // The error text reaches the admin but not internals of other jobs; nothing leaks a path.
    assert!(!r.text.contains(app.data_dir.path().to_str().unwrap()));
    app.stop().await;
}

#[tokio::test]
async fn concurrent_cleanups_take_turns_and_keep_the_chain_intact() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.jobs.audit_retention_days = 0).await;
    let admin = signed_in(&app, Role::Admin).await;
    for round in 0..3 {
        for i in 0..10 {
            app.state
                .audit
                .record(
                    AuditEvent::new("test.round", "create").resource("n", &format!("{round}-{i}")),
                )
                .await;
        }
        app.state.audit.flush().await;
        let (a, b) = tokio::join!(
            admin.post("/api/v1/admin/cleanup", serde_json::json!({})),
            admin.post("/api/v1/admin/cleanup", serde_json::json!({}))
        );
        for r in [&a, &b] {
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            assert_eq!(job(&r.body, "audit_archive")["ok"], true, "{}", r.text);
        }
    }
    app.state.audit.flush().await;
    let (end, checked) = verify_archive_files(&app.data_dir.path().join("archive")).unwrap();
    assert!(checked >= 30);
    let v = app.state.store.verify_audit().await.unwrap();
    assert!(v.ok, "{v:?}");
    assert_eq!(v.anchor_seq, end.seq);
    app.stop().await;
}
