//! Receiving an uploaded file: the multipart `file` field is streamed to a temporary file in the
//! data directory while its SHA-256 and size are computed, so a 200 MB upload never sits in
//! memory; it is refused with 413 the moment it passes the limit, and with 415 when its bytes
//! are not a format Selah reads. The caller moves the file into place once the document row
//! exists; a failed upload leaves nothing behind.

use std::path::{Path, PathBuf};

use axum::extract::Multipart;
use axum::extract::multipart::Field;
use selah_core::ErrorCode;
use selah_search::extract::DocFormat;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{ApiError, ApiResult};

/// Bytes of the start of a file used to recognise its format.
const HEAD: usize = 4096;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

/// A received file, in its temporary place.
pub struct Received {
    /// Where it is.
    pub temp: TempFile,
    /// The client's file name (path parts dropped).
    pub file_name: String,
    /// A title sent alongside, if any.
    pub title: Option<String>,
    /// Recognised format.
    pub format: DocFormat,
    /// Bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// A file removed on drop unless [`TempFile::persist`] moved it.
pub struct TempFile(Option<PathBuf>);

impl TempFile {
    /// Moves the file to `dest` (same file system: the data directory).
    pub fn persist(mut self, dest: &Path) -> std::io::Result<()> {
        let from = self.0.take().expect("temp file present until persisted");
        std::fs::rename(from, dest)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "the file is larger than the {} MB limit",
            limit / (1024 * 1024)
        ),
    )
}

fn multipart_error(e: axum::extract::multipart::MultipartError, limit: u64) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        too_large(limit)
    } else {
        ApiError::bad_request(format!(
            "the upload is not valid multipart: {}",
            e.body_text()
        ))
    }
}

/// The last path component of a client-sent file name, without control characters.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let s: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    if s.trim().is_empty() {
        "upload".into()
    } else {
        s.trim().to_string()
    }
}

/// Streams one field to `path`, returning its first bytes, size and SHA-256.
async fn stream_field(
    field: &mut Field<'_>,
    path: &Path,
    limit: u64,
) -> ApiResult<(Vec<u8>, u64, String)> {
    let mut out = tokio::fs::File::create(path)
        .await
        .map_err(ApiError::internal)?;
    let (mut head, mut size, mut hash) = (Vec::new(), 0u64, Sha256::new());
    while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, limit))? {
        size += chunk.len() as u64;
        if size > limit {
            return Err(too_large(limit));
        }
        if head.len() < HEAD {
            head.extend_from_slice(&chunk[..chunk.len().min(HEAD - head.len())]);
        }
        hash.update(&chunk);
        out.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    out.sync_all().await.map_err(ApiError::internal)?;
    Ok((head, size, hex::encode(hash.finalize())))
}

/// The `file` field once streamed to disk.
struct Streamed {
    temp: TempFile,
    file_name: String,
    ctype: Option<String>,
    head: Vec<u8>,
    size: u64,
    sha256: String,
}

/// Reads the multipart body: a `file` field (required) and an optional `title` field, in any
/// order. Other fields are refused so that typos are noticed.
pub async fn receive(mut form: Multipart, incoming: &Path, limit: u64) -> ApiResult<Received> {
    tokio::fs::create_dir_all(incoming)
        .await
        .map_err(ApiError::internal)?;
    let mut title = None;
    let mut file: Option<Streamed> = None;
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
    {
        match field.name() {
            Some("title") => {
                let t = field.text().await.map_err(|e| multipart_error(e, limit))?;
                title = Some(t);
            }
            Some("file") if file.is_none() => {
                let name = clean_name(field.file_name().unwrap_or("upload"));
                let ctype = field.content_type().map(str::to_string);
                let path = incoming.join(format!(".upload-{}", uuid::Uuid::new_v4()));
                let temp = TempFile(Some(path.clone()));
                let (head, size, sha256) = stream_field(&mut field, &path, limit).await?;
                file = Some(Streamed {
                    temp,
                    file_name: name,
                    ctype,
                    head,
                    size,
                    sha256,
                });
            }
            Some("file") => return Err(ApiError::validation("send one file per upload")),
            other => {
                return Err(ApiError::validation(format!(
                    "unexpected form field {:?}: send `file` and optionally `title`",
                    other.unwrap_or("")
                )));
            }
        }
    }
    let Some(Streamed {
        temp,
        file_name,
        ctype,
        head,
        size,
        sha256,
    }) = file
    else {
        return Err(ApiError::validation("the form has no `file` field"));
    };
    if size == 0 {
        return Err(ApiError::validation("the file is empty"));
    }
    let format = DocFormat::detect(&file_name, ctype.as_deref(), &head).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Selah reads plain text, Markdown, HTML, PDF and DOCX files; this file is none of them",
        )
    })?;
    let title = title
        .map(|t| valid_title(&t))
        .transpose()?
        .unwrap_or_else(|| title_from_name(&file_name));
    Ok(Received {
        temp,
        file_name,
        title: Some(title),
        format,
        size,
        sha256,
    })
}

/// A title of 1–200 characters, trimmed.
pub fn valid_title(title: &str) -> ApiResult<String> {
    let t = title.trim();
    if t.is_empty() || t.chars().count() > MAX_TITLE_CHARS {
        return Err(ApiError::validation(format!(
            "title must be 1 to {MAX_TITLE_CHARS} characters"
        )));
    }
    Ok(t.to_string())
}

/// The file name without its extension, as a default title.
fn title_from_name(name: &str) -> String {
    let stem = match name.rsplit_once('.') {
        Some((s, _)) if !s.is_empty() => s,
        _ => name,
    };
    stem.chars().take(MAX_TITLE_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_paths_and_control_characters() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\docs\\report.pdf"), "report.pdf");
        assert_eq!(clean_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean_name("   "), "upload");
        assert_eq!(title_from_name("report.final.pdf"), "report.final");
        assert_eq!(title_from_name(".bashrc"), ".bashrc");
    }
}
