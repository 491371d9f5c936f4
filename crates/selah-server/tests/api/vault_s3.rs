//! Vault blobs in S3-compatible object storage: a real S3 server on loopback (`moto_server`
//! from the PyPI package `moto[server]`, which `.ci/run` installs), the server configured with
//! `vault.blob_store = "s3://…"`. Round trips leave no blob on the local disk; a changed object
//! is caught by the download's SHA-256 check; a purge deletes the object.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::common::*;
use crate::vault_support::*;

const BUCKET: &str = "selah-vault-test";

/// A moto S3 server on a free port, stopped on drop.
struct S3 {
    child: Child,
    url: String,
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_s3() -> S3 {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server runs (pip install 'moto[server]'; .ci/run installs it)");
    let s3 = S3 {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let http = reqwest::Client::new();
    loop {
        if let Ok(r) = http.put(format!("{}/{BUCKET}", s3.url)).send().await
            && r.status().is_success()
        {
            return s3;
        }
        assert!(Instant::now() < deadline, "moto_server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn object_url(s3: &S3, version: &str) -> String {
    format!("{}/{BUCKET}/blobs/{version}", s3.url)
}

#[tokio::test]
async fn blobs_live_in_s3_when_configured() {
    let s3 = start_s3().await;
    let endpoint = s3.url.clone();
    let app = TestApp::spawn_with(Db::Sqlite, move |c| {
        c.vault.blob_store = format!("s3://{BUCKET}/blobs");
        c.vault.s3_endpoint = endpoint;
        c.vault.s3_access_key_id = "test".into();
        c.vault.s3_secret_access_key = selah_core::secret::Secret::new("test");
    })
    .await;
    let founder = app.founder().await;
    let alice = with_vault(app.user_with_role(&founder, "alice", "member").await).await;
    let me = [&alice.key.recipient()];
    let http = reqwest::Client::new();

    // 40 MiB: several multipart parts.
    let plain = bytes(40 << 20, 7);
    let file = seal(&plain, &me);
    let item = create(&alice, "file", "scan.tiff", None).await;
    let id = item["id"].as_str().unwrap();
    let version = upload(&alice.api, id, &file, 8 << 20).await;
    let got = download(&alice.api, id, None).await.unwrap();
    assert_eq!(open(&got, &alice.key).unwrap(), plain);
    let local = files_under(&app.data_dir.path().join("vault"));
    assert!(local.is_empty(), "no blob on the local disk: {local:?}");
    let object = http.get(object_url(&s3, &version)).send().await.unwrap();
    assert_eq!(object.status(), StatusCode::OK);
    assert_eq!(object.bytes().await.unwrap().as_ref(), file.as_slice());

    // Someone changes the object behind Selah's back: the download is cut off.
    let mut changed = file.clone();
    changed[30 << 20] ^= 1;
    let r = http
        .put(object_url(&s3, &version))
        .body(changed.clone())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    match download(&alice.api, id, None).await {
        Err(_) => {}
        Ok(got) => assert!(got.len() < file.len() && open(&got, &alice.key).is_err()),
    }

    // A purge deletes the object.
    let r = alice
        .api
        .delete(&format!("/api/v1/vault/items/{id}?purge=true"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let gone = http.get(object_url(&s3, &version)).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

/// A wrong S3 setting stops the server at start with a message, rather than at the first
/// upload.
#[tokio::test]
async fn a_malformed_blob_store_is_refused_at_start() {
    let mut config = test_config();
    config.vault.blob_store = "ftp://nowhere".into();
    let dir = tempfile::tempdir().unwrap();
    let err = selah_server::Server::build(config, dir.path().to_path_buf())
        .await
        .err()
        .expect("refused");
    assert!(format!("{err:#}").contains("s3://"), "{err:#}");
}
