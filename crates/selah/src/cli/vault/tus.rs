//! The tus 1.0 client: create an upload for an item's new version, then PATCH the bytes as a
//! streamed request body. The bytes are produced on a blocking thread into a small bounded
//! channel that feeds the body, so memory stays at a few MiB whatever the file size. The
//! whole file's SHA-256 is either announced at creation (a source hashed beforehand) or, for
//! a source that hashes as it sends, given in an empty last PATCH (`Selah-Upload-Sha256`)
//! that completes the upload.
//!
//! When a PATCH fails (connection lost, server restarting, 5xx, or 409 while the server still
//! holds the dead request), the client waits with a growing back-off, asks for the server's
//! offset with HEAD, and sends again from there: the [`Source`] regenerates the bytes from that
//! offset. It gives up after about a minute without progress.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};

use super::api::{self, Api, VAULT};
use super::progress::Progress;
use super::source::Source;

/// The tus version spoken.
const TUS: &str = "1.0.0";
/// Bytes per message from the producing thread to the request body.
const BLOCK: usize = 256 << 10;
/// Messages in flight.
const BLOCKS: usize = 4;
/// How long to keep retrying without progress.
const GIVE_UP: Duration = Duration::from_secs(60);
/// The tus status of a completed upload whose SHA-256 is not the one the client gave.
const CHECKSUM_MISMATCH: u16 = 460;

/// Why an attempt failed.
enum Failure {
    /// Worth trying again.
    Retry(anyhow::Error),
    /// Not.
    Fatal(anyhow::Error),
}

/// Uploads `source` as a new version of `item_id`; returns the version id. `announced` is
/// the file's SHA-256 (hex) when known before sending; otherwise the source must return it
/// from [`Source::write_from`].
pub async fn upload(
    api: &Api,
    item_id: &str,
    source: Arc<dyn Source>,
    announced: Option<&str>,
    progress: &Arc<Progress>,
) -> anyhow::Result<String> {
    let len = source.len();
    let mut metadata = format!("item {}", BASE64.encode(item_id));
    if let Some(sha) = announced {
        metadata.push_str(&format!(",sha256 {}", BASE64.encode(sha)));
    }
    // The whole file's SHA-256: announced, or learnt from the source once it has sent it all.
    let mut sha256 = announced.map(str::to_string);
    let rb = api
        .request(Method::POST, &format!("{VAULT}/uploads"))
        .header("Tus-Resumable", TUS)
        .header("Upload-Length", len.to_string())
        .header("Upload-Metadata", metadata);
    let res = api.send(rb).await.context("cannot start the upload")?;
    let location = res
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .context("the server's answer to the upload has no Location")?
        .to_string();

    progress.restart("uploading", 0);
    let mut offset = Some(0u64);
    // Since when attempts have failed without the server's offset moving.
    let mut failing_since: Option<Instant> = None;
    let mut best = 0u64;
    let mut delay = Duration::from_millis(250);
    let mut interrupted = false;
    loop {
        let attempt = match offset {
            Some(at) if at < len => {
                patch(
                    api,
                    &location,
                    source.clone(),
                    at,
                    len,
                    &mut sha256,
                    progress,
                )
                .await
            }
            // Every byte is in: the hash completes the upload.
            Some(_) => send_sha256(api, &location, source.clone(), len, &mut sha256).await,
            None => head(api, &location).await.map(Outcome::Offset),
        };
        let failure = match attempt {
            Ok(Outcome::Done(version)) => return Ok(version),
            Ok(Outcome::Offset(at)) => {
                if offset.is_none() {
                    eprintln!("resuming the upload at byte {at} of {len}");
                    progress.restart("uploading", at);
                }
                if at > best {
                    best = at;
                    failing_since = None;
                    delay = Duration::from_millis(250);
                }
                offset = Some(at);
                continue;
            }
            Err(Failure::Fatal(e)) => {
                // The last PATCH may have completed the upload with its answer lost: the
                // server then forgets the upload, but the version is there.
                if interrupted
                    && let Some(sha) = &sha256
                    && let Some(v) = landed(api, item_id, sha).await
                {
                    return Ok(v);
                }
                return Err(e);
            }
            Err(Failure::Retry(e)) => e,
        };
        interrupted = true;
        if failing_since.get_or_insert_with(Instant::now).elapsed() > GIVE_UP {
            return Err(failure.context(format!(
                "the upload made no progress for {} s; giving up (the item has no new version)",
                GIVE_UP.as_secs()
            )));
        }
        progress.finish();
        eprintln!(
            "upload interrupted: {failure:#}; retrying in {:.1} s",
            delay.as_secs_f64()
        );
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
        offset = None;
    }
}

/// The version of `item_id` with this SHA-256, if one exists.
async fn landed(api: &Api, item_id: &str, sha256_hex: &str) -> Option<String> {
    let item: serde_json::Value = api.get(&format!("{VAULT}/items/{item_id}")).await.ok()?;
    item["versions"]
        .as_array()?
        .iter()
        .find(|v| v["sha256"].as_str() == Some(sha256_hex))
        .and_then(|v| v["id"].as_str())
        .map(str::to_string)
}

/// What a successful request said.
enum Outcome {
    /// The server holds this many bytes.
    Offset(u64),
    /// Complete: the new version's id.
    Done(String),
}

fn upload_offset(res: &reqwest::Response) -> Option<u64> {
    res.headers()
        .get("Upload-Offset")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Sorts a non-success status into retry or fatal, with the server's message.
async fn failed(res: reqwest::Response) -> Failure {
    let status = res.status();
    let err = match api::check(res).await {
        Ok(_) => anyhow!("unexpected answer {status}"),
        Err(e) => e,
    };
    match status.as_u16() {
        CHECKSUM_MISMATCH => Failure::Fatal(err.context(
            "the server refused the upload: the bytes it received do not have the SHA-256 sent \
             (did the file change while it was being uploaded?)",
        )),
        409 | 423 | 429 | 500..=599 => Failure::Retry(err),
        404 | 410 => Failure::Fatal(err.context("the upload is gone (expired or abandoned)")),
        _ => Failure::Fatal(err),
    }
}

async fn head(api: &Api, location: &str) -> Result<u64, Failure> {
    let rb = api
        .request(Method::HEAD, location)
        .header("Tus-Resumable", TUS);
    let res = rb
        .send()
        .await
        .map_err(|e| Failure::Retry(anyhow!("cannot reach Selah at {}: {e}", api.base)))?;
    if !res.status().is_success() {
        // A HEAD answer has no body: describe the status.
        return Err(match res.status() {
            StatusCode::NOT_FOUND | StatusCode::GONE => Failure::Fatal(anyhow!(
                "the upload is gone (expired or abandoned) ({})",
                res.status()
            )),
            s if s.is_server_error() => Failure::Retry(anyhow!("the server answered {s}")),
            s => Failure::Fatal(anyhow!("the server answered {s} to HEAD {location}")),
        });
    }
    upload_offset(&res)
        .ok_or_else(|| Failure::Fatal(anyhow!("the server's HEAD answer has no Upload-Offset")))
}

/// Sends the bytes from `offset` (below `len`) on in one PATCH. A source that hashes as it
/// sends leaves the whole file's SHA-256 in `sha256`, even when the request then fails.
async fn patch(
    api: &Api,
    location: &str,
    source: Arc<dyn Source>,
    offset: u64,
    len: u64,
    sha256: &mut Option<String>,
    progress: &Arc<Progress>,
) -> Result<Outcome, Failure> {
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Vec<u8>>>(BLOCKS);
    let closed = Arc::new(AtomicBool::new(false));
    let producer = {
        let closed = closed.clone();
        tokio::task::spawn_blocking(move || {
            let mut w = ChannelWriter {
                tx,
                buf: Vec::with_capacity(BLOCK),
                closed,
            };
            let result = source.write_from(offset, &mut w).and_then(|sha| {
                w.flush()?;
                Ok(sha)
            });
            if let Err(e) = &result {
                // Make the request fail rather than end as if the file were complete.
                let _ = w.tx.blocking_send(Err(io::Error::other(format!("{e:#}"))));
            }
            result
        })
    };
    let counted = progress.clone();
    let stream = futures_util::stream::unfold(rx, move |mut rx| {
        let progress = counted.clone();
        async move {
            let item = rx.recv().await?;
            if let Ok(block) = &item {
                progress.add(block.len() as u64);
            }
            Some((item, rx))
        }
    });
    let rb = api
        .request(Method::PATCH, location)
        .header("Tus-Resumable", TUS)
        .header("Upload-Offset", offset.to_string())
        .header(CONTENT_TYPE, "application/offset+octet-stream")
        .header(CONTENT_LENGTH, (len - offset).to_string())
        .body(reqwest::Body::wrap_stream(stream));
    let sent = rb.send().await;
    let produced = producer.await;
    // The producer's own failure (a file that cannot be read or changed) is final; one caused
    // by the request going away is not.
    match produced {
        Ok(Ok(Some(sha))) => *sha256 = Some(sha),
        Ok(Err(e)) if !closed.load(Ordering::SeqCst) => return Err(Failure::Fatal(e)),
        Err(join) => {
            return Err(Failure::Fatal(anyhow!(
                "the encrypting thread failed: {join}"
            )));
        }
        _ => {}
    }
    answer(api, sent).await
}

/// Completes an upload whose every byte the server holds with an empty PATCH carrying the
/// whole file's SHA-256, hashing the source first if no attempt has yet.
async fn send_sha256(
    api: &Api,
    location: &str,
    source: Arc<dyn Source>,
    len: u64,
    sha256: &mut Option<String>,
) -> Result<Outcome, Failure> {
    if sha256.is_none() {
        let hashed = tokio::task::spawn_blocking(move || source.write_from(len, &mut io::sink()))
            .await
            .map_err(|e| Failure::Fatal(anyhow!("the encrypting thread failed: {e}")))?
            .map_err(Failure::Fatal)?;
        *sha256 = hashed;
    }
    let sha = sha256
        .clone()
        .ok_or_else(|| Failure::Fatal(anyhow!("the upload's SHA-256 is not known")))?;
    let rb = api
        .request(Method::PATCH, location)
        .header("Tus-Resumable", TUS)
        .header("Upload-Offset", len.to_string())
        .header("Selah-Upload-Sha256", sha)
        .header(CONTENT_TYPE, "application/offset+octet-stream")
        .header(CONTENT_LENGTH, "0")
        .body(Vec::new());
    match answer(api, rb.send().await).await? {
        Outcome::Offset(_) => Err(Failure::Fatal(anyhow!(
            "the server holds every byte and the SHA-256 but did not complete the upload"
        ))),
        done => Ok(done),
    }
}

/// What a PATCH's answer means: the new offset, or the version once complete.
async fn answer(api: &Api, sent: reqwest::Result<reqwest::Response>) -> Result<Outcome, Failure> {
    let res = match sent {
        Ok(res) => res,
        Err(e) => {
            return Err(Failure::Retry(anyhow!(
                "connection to {} lost: {}",
                api.base,
                api::error_chain(&e)
            )));
        }
    };
    if res.status() != StatusCode::NO_CONTENT && !res.status().is_success() {
        return Err(failed(res).await);
    }
    let now = upload_offset(&res)
        .ok_or_else(|| Failure::Fatal(anyhow!("the server's PATCH answer has no Upload-Offset")))?;
    // Complete once the server names the version; every byte in without one means the
    // server waits for the SHA-256.
    match res
        .headers()
        .get("Selah-Version-Id")
        .and_then(|v| v.to_str().ok())
    {
        Some(version) => Ok(Outcome::Done(version.to_string())),
        None => Ok(Outcome::Offset(now)),
    }
}

/// A writer that sends blocks into the request body's channel.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<io::Result<Vec<u8>>>,
    buf: Vec<u8>,
    closed: Arc<AtomicBool>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let block = std::mem::replace(&mut self.buf, Vec::with_capacity(BLOCK));
        self.tx.blocking_send(Ok(block)).map_err(|_| {
            self.closed.store(true, Ordering::SeqCst);
            io::Error::new(io::ErrorKind::BrokenPipe, "the request ended")
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(BLOCK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == BLOCK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}
