//! `selah doctor` against real directories, ports and databases.

use crate::common::*;

#[test]
fn passes_on_a_fresh_data_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port().to_string();
    let (st, out, err) = run(selah(&data).arg("doctor").env("CUSTOM_PORT", &port));
    assert!(st.success(), "{out}\n{err}");
    for name in ["config", "data directory", "database", "port", "disk space"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("✓ {name}: "))
                    || l.starts_with(&format!("⚠ {name}: "))),
            "no line for {name}: {out}"
        );
    }
    assert!(!out.contains('✗'), "{out}");
    assert!(out.contains("No problems found."));
    assert!(!data.exists(), "doctor must not create the data directory");
}

#[test]
fn fails_with_a_fix_when_the_port_is_taken() {
    let tmp = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (st, out, _) = run(selah(&tmp.path().join("data"))
        .arg("doctor")
        .env("CUSTOM_PORT", &port));
    assert_eq!(st.code(), Some(1), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("✗ port: "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
    assert!(
        line.contains("in use — is Selah already running? stop it or choose --port"),
        "{line}"
    );
    assert!(out.contains("1 problem found."), "{out}");
    drop(taken);
}

#[test]
fn fails_when_the_data_directory_is_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::write(&data, "not a directory").unwrap();
    let port = free_port().to_string();
    let (st, out, _) = run(selah(&data).arg("doctor").env("CUSTOM_PORT", &port));
    assert_eq!(st.code(), Some(1), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("✗ data directory: "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains("not a directory") && line.contains("--data-dir"),
        "{line}"
    );
}

#[tokio::test]
async fn reports_a_database_from_a_newer_selah_and_how_to_fix_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let (store, _) = selah_store::Store::open("", &data).await.unwrap();
    store.close().await;
    let port = free_port().to_string();
    let (st, out, _) = run(selah(&data).arg("doctor").env("CUSTOM_PORT", &port));
    assert!(st.success(), "{out}");
    assert!(
        out.contains(&format!(
            "schema version {} (current)",
            selah_store::MIGRATIONS_KNOWN
        )),
        "{out}"
    );

    crate::lifecycle::insert_schema_version(&data, 999).await;
    let (st, out, _) = run(selah(&data).arg("doctor").env("CUSTOM_PORT", &port));
    assert_eq!(st.code(), Some(1), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("✗ database: "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains("999") && line.contains("upgrade Selah"),
        "{line}"
    );
}
