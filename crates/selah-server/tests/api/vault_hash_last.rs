//! Uploads whose SHA-256 is not announced at creation but sent with the PATCH that completes
//! them (`Selah-Upload-Sha256`): how a client encrypts, hashes and sends in one pass.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::{Method, StatusCode};
use sha2::{Digest, Sha256};

use crate::common::*;
use crate::vault_support::*;

/// Starts an upload with only the item in `Upload-Metadata`.
async fn start_unhashed(api: &Api, item: &str, len: usize) -> String {
    let r = tus(api, Method::POST, "/api/v1/vault/uploads")
        .header("upload-length", len.to_string())
        .header("upload-metadata", format!("item {}", BASE64.encode(item)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.headers()["location"].to_str().unwrap().to_string()
}

/// Sends `bytes` at `offset` with a `Selah-Upload-Sha256` header.
async fn patch_with_sha(
    api: &Api,
    path: &str,
    offset: usize,
    bytes: Vec<u8>,
    sha: &str,
) -> reqwest::Response {
    tus(api, Method::PATCH, path)
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", offset.to_string())
        .header("selah-upload-sha256", sha)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

async fn head_status(api: &Api, path: &str) -> StatusCode {
    tus(api, Method::HEAD, path).send().await.unwrap().status()
}

#[tokio::test]
async fn a_sha256_sent_with_the_last_patch_completes_the_upload() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let alice = with_vault(app.user_with_role(&founder, "alice", "member").await).await;
    let item = create(&alice, "file", "f", None).await;
    let id = item["id"].as_str().unwrap();
    let file = seal(&bytes(300_000, 4), &[&alice.key.recipient()]);
    let sha = hex::encode(Sha256::digest(&file));
    let versions = |body: &serde_json::Value| body["versions"].as_array().unwrap().len();

    // Every byte in, no hash yet: the upload waits, and is not a version.
    let path = start_unhashed(&alice.api, id, file.len()).await;
    let r = patch(&alice.api, &path, 0, file.clone()).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        r.headers()["upload-offset"],
        file.len().to_string().as_str()
    );
    assert!(!r.headers().contains_key("selah-version-id"));
    assert_eq!(head_status(&alice.api, &path).await, StatusCode::OK);
    let detail = alice.api.get(&format!("/api/v1/vault/items/{id}")).await;
    assert_eq!(versions(&detail.body), 0);
    // A malformed hash is refused and loses nothing.
    for bad in ["xyz", &sha[..63], &format!("{sha}0")] {
        let r = patch_with_sha(&alice.api, &path, file.len(), Vec::new(), bad).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(head_status(&alice.api, &path).await, StatusCode::OK);
    // The right one (in capitals, too) completes it.
    let r = patch_with_sha(
        &alice.api,
        &path,
        file.len(),
        Vec::new(),
        &sha.to_uppercase(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let version = r.headers()["selah-version-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(download(&alice.api, id, None).await.unwrap(), file);
    let detail = alice.api.get(&format!("/api/v1/vault/items/{id}")).await;
    assert_eq!(detail.body["versions"][0]["id"], version.as_str());
    assert_eq!(detail.body["versions"][0]["sha256"], sha.as_str());
    assert_eq!(head_status(&alice.api, &path).await, StatusCode::NOT_FOUND);

    // The hash on the PATCH that carries the last bytes completes it at once.
    let path = start_unhashed(&alice.api, id, file.len()).await;
    let half = file.len() / 2;
    assert_eq!(
        patch(&alice.api, &path, 0, file[..half].to_vec())
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let r = patch_with_sha(&alice.api, &path, half, file[half..].to_vec(), &sha).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(r.headers().contains_key("selah-version-id"));

    // A wrong hash: discarded with 460, no version added.
    let path = start_unhashed(&alice.api, id, file.len()).await;
    let wrong = hex::encode(Sha256::digest(b"something else"));
    let r = patch_with_sha(&alice.api, &path, 0, file.clone(), &wrong).await;
    assert_eq!(r.status().as_u16(), 460);
    assert_eq!(head_status(&alice.api, &path).await, StatusCode::NOT_FOUND);
    let detail = alice.api.get(&format!("/api/v1/vault/items/{id}")).await;
    assert_eq!(versions(&detail.body), 2);

    // A hash that contradicts the one announced at creation is refused before any byte.
    let path = start_upload(&alice.api, id, &file).await;
    let r = patch_with_sha(&alice.api, &path, 0, file.clone(), &wrong).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let head = tus(&alice.api, Method::HEAD, &path).send().await.unwrap();
    assert_eq!(head.headers()["upload-offset"], "0");
}

/// Every byte in, then the server restarts (forgetting the running hash): the hash sent after
/// the restart is checked against the file on disk.
#[tokio::test]
async fn the_late_sha256_is_checked_after_a_restart() {
    let app = TestApp::spawn().await;
    let founder = app.founder().await;
    let alice = with_vault(app.user_with_role(&founder, "alice", "member").await).await;
    let item = create(&alice, "file", "f", None).await;
    let id = item["id"].as_str().unwrap().to_string();
    let file = seal(&bytes(400_000, 6), &[&alice.key.recipient()]);
    let sha = hex::encode(Sha256::digest(&file));
    let path = start_unhashed(&alice.api, &id, file.len()).await;
    assert_eq!(
        patch(&alice.api, &path, 0, file.clone()).await.status(),
        StatusCode::NO_CONTENT
    );

    let (config, dir) = app.stop().await;
    let app = TestApp::spawn_in(config, dir).await;
    let mut api = alice.api.clone();
    api.base = app.base.clone();
    let r = patch_with_sha(&api, &path, file.len(), Vec::new(), &sha).await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(download(&api, &id, None).await.unwrap(), file);
}
