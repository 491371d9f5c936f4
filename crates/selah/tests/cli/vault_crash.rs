//! `kill -9` of the real server in the middle of a 1 GiB vault upload: after a restart the
//! upload resumes from the offset the server reports (what reached its disk), completes, and
//! the downloaded file is byte-for-byte the one uploaded (same SHA-256, and it decrypts). The
//! server's memory is bounded: what the upload adds before the kill, and the whole peak of the
//! restarted server (which signs no one in) over the rest of the upload and the download.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{Server, peak_rss_kib, reset_peak_rss, rss_kib};

const SIZE: u64 = 1 << 30;

/// Plaintext generated as it is read, never held whole.
struct Generated {
    left: u64,
    state: u64,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        for b in &mut buf[..n] {
            self.state = self.state.wrapping_mul(6364136223846793005).wrapping_add(1);
            *b = (self.state >> 56) as u8;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

async fn serve(data: &Path) -> Server {
    Server::start(data, |c| {
        c.env(
            "SELAH_AI__OLLAMA_MODELS_DIR",
            "/nonexistent/selah-test-ollama",
        );
    })
    .await
}

fn req(base: &str, token: &str, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .request(method, format!("{base}{path}"))
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
}

/// Streams `file` from `offset` as one PATCH; the result is the response or the broken
/// connection.
async fn send_from(
    base: &str,
    token: &str,
    path: &str,
    file: &Path,
    offset: u64,
) -> reqwest::Result<reqwest::Response> {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    let file = file.to_path_buf();
    std::thread::spawn(move || {
        let mut f = std::fs::File::open(file).unwrap();
        f.seek(SeekFrom::Start(offset)).unwrap();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match f.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    if tx.blocking_send(Ok(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    req(base, token, reqwest::Method::PATCH, path)
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", offset.to_string())
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
}

#[tokio::test]
async fn a_vault_upload_resumes_after_kill_9_and_downloads_identical() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = serve(&data).await;
    let founder = server.founder().await;
    let token = founder.token.clone().unwrap();

    let key = selah_vault::VaultIdentity::generate();
    let wrapped = key
        .wrap(
            &selah_vault::age::secrecy::SecretString::from("pass".to_owned()),
            selah_vault::WorkFactor::fixed(10),
        )
        .unwrap();
    let r = req(&server.base, &token, reqwest::Method::PUT, "/api/v1/vault/identity")
        .json(&json!({"public_key": key.public_key(), "wrapped_identity": BASE64.encode(wrapped), "version": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut meta = Vec::new();
    selah_vault::encrypt(
        &br#"{"name":"big.bin"}"#[..],
        &mut meta,
        &[&key.recipient()],
    )
    .unwrap();
    let item: Value = req(
        &server.base,
        &token,
        reqwest::Method::POST,
        "/api/v1/vault/items",
    )
    .json(&json!({"kind": "file", "meta": BASE64.encode(meta)}))
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let item_id = item["id"].as_str().unwrap().to_string();

    // The age file, made from a generated stream.
    let file = dir.path().join("big.age");
    let sealed = selah_vault::encrypt(
        Generated {
            left: SIZE,
            state: 7,
        },
        std::io::BufWriter::new(std::fs::File::create(&file).unwrap()),
        &[&key.recipient()],
    )
    .unwrap();
    let sha = hex::encode(sealed.ciphertext_sha256);
    let len = sealed.ciphertext_len;
    let r = req(
        &server.base,
        &token,
        reqwest::Method::POST,
        "/api/v1/vault/uploads",
    )
    .header("upload-length", len.to_string())
    .header(
        "upload-metadata",
        format!(
            "item {},sha256 {}",
            BASE64.encode(&item_id),
            BASE64.encode(&sha)
        ),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let path = r.headers()["location"].to_str().unwrap().to_string();
    let upload_id = path.rsplit('/').next().unwrap().to_string();
    // From here on, what the transfer costs the server (signing in hashed a password with
    // Argon2, whose 19 MiB glibc keeps resident once freed).
    reset_peak_rss(server.pid());
    let before = rss_kib(server.pid()).unwrap();
    let partial = data.join("vault/uploads").join(&upload_id);

    // Send everything; kill the server once about 40% has reached its disk.
    let sending = {
        let (base, token, path, file) = (
            server.base.clone(),
            token.clone(),
            path.clone(),
            file.clone(),
        );
        tokio::spawn(async move { send_from(&base, &token, &path, &file, 0).await })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0) < len * 2 / 5 {
        assert!(Instant::now() < deadline, "the upload did not progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let first_peak = peak_rss_kib(server.pid()).unwrap();
    server.kill9().await;
    assert!(
        sending.await.unwrap().is_err(),
        "the PATCH in flight was cut off by the kill"
    );

    let server = serve(&data).await;
    let head = req(&server.base, &token, reqwest::Method::HEAD, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    let offset: u64 = head.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        offset >= len * 2 / 5 && offset < len,
        "offset {offset} of {len}"
    );
    let done = send_from(&server.base, &token, &path, &file, offset)
        .await
        .unwrap();
    assert_eq!(done.status(), 204, "{:?}", done.text().await);
    assert!(
        !partial.exists(),
        "the completed upload moved into the blob area"
    );

    // Download: the same bytes (hashed as they stream), and they decrypt.
    let r = req(
        &server.base,
        &token,
        reqwest::Method::GET,
        &format!("/api/v1/vault/items/{item_id}/content"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let mut body = r.bytes_stream();
    let (mut hasher, mut got) = (Sha256::new(), 0u64);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        hasher.update(&chunk);
        got += chunk.len() as u64;
    }
    assert_eq!(got, len);
    assert_eq!(hex::encode(hasher.finalize()), sha);
    let mut plain = Sha256::new();
    let n = selah_vault::decrypt(
        std::io::BufReader::new(std::fs::File::open(&file).unwrap()),
        HashWriter(&mut plain),
        &[key.identity()],
    )
    .unwrap()
    .plaintext_len;
    assert_eq!(n, SIZE);
    let second_peak = peak_rss_kib(server.pid()).unwrap();
    eprintln!(
        "server RSS: {} MiB before the upload, peak {} MiB until the kill; the restarted \
         server (no sign-in) peaked at {} MiB",
        before >> 10,
        first_peak >> 10,
        second_peak >> 10
    );
    assert!(
        first_peak - before < 32 << 10,
        "the upload grew the server by {} MiB",
        (first_peak - before) >> 10
    );
    assert!(
        second_peak < 64 << 10,
        "the restarted server peaked at {} MiB",
        second_peak >> 10
    );
}

struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
