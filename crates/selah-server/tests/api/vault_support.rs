//! A small vault client for the HTTP tests, doing what the CLI and the browser do: identities
//! made and wrapped on the client, metadata and contents encrypted with `selah-vault`, uploads
//! over tus, downloads decrypted on the client.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::StatusCode;
use selah_vault::age::secrecy::SecretString;
use selah_vault::age::x25519;
use selah_vault::{VaultIdentity, WorkFactor};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::*;

/// Cheap scrypt so the tests are fast; real clients keep age's default.
pub const FAST: WorkFactor = WorkFactor {
    log_n: Some(10),
    max_log_n: Some(10),
};

/// A signed-in user with a vault identity.
pub struct Vaulted {
    pub api: Api,
    pub id: String,
    pub key: VaultIdentity,
}

/// Makes and stores `api`'s vault identity.
pub async fn with_vault(api: Api) -> Vaulted {
    let key = VaultIdentity::generate();
    let wrapped = key
        .wrap(&SecretString::from("passphrase".to_owned()), FAST)
        .unwrap();
    let r = api
        .put(
            "/api/v1/vault/identity",
            json!({"public_key": key.public_key(), "wrapped_identity": BASE64.encode(wrapped), "version": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let id = api.get("/api/v1/auth/me").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    Vaulted { api, id, key }
}

/// Encrypts `plain` to `to` as an age file.
pub fn seal(plain: &[u8], to: &[&x25519::Recipient]) -> Vec<u8> {
    let recipients: Vec<&dyn selah_vault::age::Recipient> = to
        .iter()
        .map(|r| *r as &dyn selah_vault::age::Recipient)
        .collect();
    let mut out = Vec::new();
    selah_vault::encrypt(plain, &mut out, &recipients).unwrap();
    out
}

/// Decrypts an age file with `key`.
pub fn open(file: &[u8], key: &VaultIdentity) -> Result<Vec<u8>, selah_vault::Error> {
    let mut out = Vec::new();
    selah_vault::decrypt(file, &mut out, &[key.identity()])?;
    Ok(out)
}

/// Encrypted metadata for a name and tags, base64.
pub fn meta(name: &str, tags: &[&str], to: &[&x25519::Recipient]) -> String {
    let plain = serde_json::to_vec(&json!({"name": name, "tags": tags})).unwrap();
    BASE64.encode(seal(&plain, to))
}

/// The name in an item's metadata, decrypted with `key`.
pub fn name_of(item: &Value, key: &VaultIdentity) -> String {
    let sealed = BASE64.decode(item["meta"].as_str().unwrap()).unwrap();
    let plain: Value = serde_json::from_slice(&open(&sealed, key).unwrap()).unwrap();
    plain["name"].as_str().unwrap().to_string()
}

/// Creates an item; returns its JSON.
pub async fn create(v: &Vaulted, kind: &str, name: &str, parent: Option<&str>) -> Value {
    let r = v
        .api
        .post(
            "/api/v1/vault/items",
            json!({"kind": kind, "parent_id": parent, "meta": meta(name, &[], &[&v.key.recipient()])}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

/// A tus request with the caller's credentials.
pub fn tus(api: &Api, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    let mut req = api
        .http
        .request(method, format!("{}{path}", api.base))
        .header("tus-resumable", "1.0.0");
    if let Some(t) = &api.token {
        req = req.bearer_auth(t);
    }
    if let Some(t) = &api.team {
        req = req.header("x-selah-team", t);
    }
    req
}

/// `Upload-Metadata` for an item and a file's SHA-256.
pub fn upload_metadata(item: &str, file: &[u8]) -> String {
    let sha = hex::encode(Sha256::digest(file));
    format!("item {},sha256 {}", BASE64.encode(item), BASE64.encode(sha))
}

/// Starts an upload of `file` as a new version of `item`; returns its path.
pub async fn start_upload(api: &Api, item: &str, file: &[u8]) -> String {
    let r = tus(api, reqwest::Method::POST, "/api/v1/vault/uploads")
        .header("upload-length", file.len().to_string())
        .header("upload-metadata", upload_metadata(item, file))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    r.headers()["location"].to_str().unwrap().to_string()
}

/// Sends `bytes` at `offset`.
pub async fn patch(api: &Api, path: &str, offset: u64, bytes: Vec<u8>) -> reqwest::Response {
    tus(api, reqwest::Method::PATCH, path)
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", offset.to_string())
        .body(bytes)
        .send()
        .await
        .unwrap()
}

/// Uploads `file` in pieces of `piece` bytes; returns the version id.
pub async fn upload(api: &Api, item: &str, file: &[u8], piece: usize) -> String {
    let path = start_upload(api, item, file).await;
    let mut offset = 0;
    loop {
        let end = (offset + piece).min(file.len());
        let r = patch(api, &path, offset as u64, file[offset..end].to_vec()).await;
        assert_eq!(
            r.status(),
            StatusCode::NO_CONTENT,
            "{}",
            r.text().await.unwrap()
        );
        assert_eq!(r.headers()["upload-offset"], end.to_string().as_str());
        offset = end;
        if offset == file.len() {
            return r.headers()["selah-version-id"]
                .to_str()
                .unwrap()
                .to_string();
        }
    }
}

/// Downloads an item's age file (the current version unless `version`).
pub async fn download(api: &Api, item: &str, version: Option<&str>) -> reqwest::Result<Vec<u8>> {
    let q = version.map(|v| format!("?version={v}")).unwrap_or_default();
    let mut req = api
        .http
        .get(format!("{}/api/v1/vault/items/{item}/content{q}", api.base));
    if let Some(t) = &api.token {
        req = req.bearer_auth(t);
    }
    if let Some(t) = &api.team {
        req = req.header("x-selah-team", t);
    }
    let r = req.send().await?.error_for_status()?;
    Ok(r.bytes().await?.to_vec())
}

/// Deterministic test bytes.
pub fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| {
            (i as u64)
                .wrapping_mul(2654435761)
                .rotate_left(u32::from(seed)) as u8
        })
        .collect()
}

/// How many items `api` lists at `path` (a `/api/v1/vault/items` query).
pub async fn count(api: &Api, path: &str) -> usize {
    let r = api.get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body.as_array().unwrap().len()
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
