//! `/api/v1/docs/documents`: upload (multipart) or write a note (JSON), list, read, rename or
//! edit, delete. Each request acts in its context (personal, or the team in `X-Selah-Team`); a
//! document of another scope answers 404. Reading needs `docs.read`, everything else
//! `docs.write`. Uploads and deletions are audited (ids and sizes, never names or text).

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use selah_core::ErrorCode;
use selah_store::documents::{Document, NewDocument};
use selah_store::passage_texts::PassageSet;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::upload::{self, valid_title};
use crate::audit::AuditEvent;
use crate::authz::{Require, perm};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// Longest note, in bytes.
pub const MAX_NOTE_BYTES: usize = 1024 * 1024;
/// Most documents one list returns.
pub const MAX_LIST: i64 = 5000;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_document, list_documents))
        .routes(routes!(get_document, update_document, delete_document))
}

/// A document as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    /// Id.
    pub id: String,
    /// Creator.
    pub owner_id: String,
    /// Team, or null for a personal document.
    pub team_id: Option<String>,
    /// Shown name.
    pub title: String,
    /// `file` or `note`.
    pub kind: String,
    /// The uploaded file's name.
    pub file_name: Option<String>,
    /// `text`, `markdown`, `html`, `pdf` or `docx`.
    pub format: String,
    /// Bytes.
    pub size_bytes: i64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// `queued`, `indexing`, `ready` or `failed`.
    pub state: String,
    /// Percent done while indexing.
    pub progress: i64,
    /// Why indexing failed.
    pub error: Option<String>,
    /// Passages once ready.
    pub passages: i64,
    /// Created, ms since the epoch.
    pub created_at: i64,
    /// Last changed, ms.
    pub updated_at: i64,
    /// Last indexed, ms.
    pub indexed_at: Option<i64>,
}

impl From<Document> for DocumentView {
    fn from(d: Document) -> Self {
        Self {
            id: d.id,
            owner_id: d.owner_id,
            team_id: d.team_id,
            title: d.title,
            kind: d.kind,
            file_name: d.file_name,
            format: d.format,
            size_bytes: d.size_bytes,
            sha256: d.sha256,
            state: d.state.as_str().into(),
            progress: d.progress,
            error: d.error,
            passages: d.passages,
            created_at: d.created_at,
            updated_at: d.updated_at,
            indexed_at: d.indexed_at,
        }
    }
}

/// A document with its text, for the viewer.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentDetail {
    /// The document.
    #[serde(flatten)]
    pub document: DocumentView,
    /// A note's Markdown.
    pub body: Option<String>,
    /// The extracted text (citations' character spans point into it); null until extracted.
    pub content: Option<String>,
}

/// Body of a note (`POST` with JSON).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// 1–200 characters.
    pub title: String,
    /// Markdown, at most 1 MiB.
    pub body: String,
}

/// Body of `PATCH`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDocument {
    /// New title.
    pub title: Option<String>,
    /// A note's new Markdown (notes only): indexed again.
    pub body: Option<String>,
}

/// List parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListParams {
    /// At most this many (default 1000, at most 5000).
    pub limit: Option<i64>,
}

fn valid_note(body: &str) -> ApiResult<()> {
    if body.trim().is_empty() || body.len() > MAX_NOTE_BYTES {
        return Err(ApiError::validation(
            "a note's body must be 1 byte to 1 MiB of Markdown",
        ));
    }
    Ok(())
}

/// A note's JSON body, read with the note's own limit (the route's body limit is the upload's).
async fn read_note(req: Request, ctype: &str) -> ApiResult<NewNote> {
    if !ctype.starts_with("application/json") {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send a file as multipart/form-data, or a note as application/json",
        ));
    }
    let bytes = axum::body::to_bytes(req.into_body(), MAX_NOTE_BYTES + 64 * 1024)
        .await
        .map_err(|_| ApiError::new(ErrorCode::PayloadTooLarge, "a note is at most 1 MiB"))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        if e.is_data() {
            ApiError::bad_request(format!("the JSON does not fit: {e}"))
        } else {
            ApiError::bad_request("the body is not valid JSON")
        }
    })
}

async fn audit_created(
    state: &AppState,
    auth: &Require<perm::DocsWrite>,
    d: &Document,
    client: &ClientInfo,
) {
    state
        .audit
        .record(
            AuditEvent::new("docs.document_created", "create")
                .user(auth.user.id())
                .resource("document", &d.id)
                .details(json!({"team": d.team_id, "kind": d.kind, "format": d.format, "size": d.size_bytes}))
                .client(client),
        )
        .await;
}

/// Upload a file (multipart/form-data: `file`, optional `title`) or write a note (JSON:
/// `title`, `body`). The document is queued for indexing at once; poll it for its state.
#[utoipa::path(
    post, path = "/api/v1/docs/documents", tag = "docs",
    request_body(content = NewNote, description = "A note as JSON, or multipart/form-data with `file` and optional `title`"),
    params(("X-Selah-Team" = Option<String>, Header, description = "Act in this team")),
    responses(
        (status = 201, description = "Queued for indexing", body = DocumentView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs docs.write", body = ErrorBody),
        (status = 404, description = "Not a member of the team", body = ErrorBody),
        (status = 413, description = "Larger than docs.max_upload_bytes", body = ErrorBody),
        (status = 415, description = "Not a format Selah reads", body = ErrorBody),
        (status = 422, description = "Invalid title or body", body = ErrorBody),
    )
)]
async fn create_document(
    state: State<AppState>,
    client: ClientInfo,
    auth: Require<perm::DocsWrite>,
    req: Request,
) -> ApiResult<(StatusCode, axum::Json<DocumentView>)> {
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let lib = &state.docs;
    let doc = if ctype.starts_with("multipart/form-data") {
        let form = Multipart::from_request(req, &state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let got =
            upload::receive(form, &lib.files_dir(), state.config.docs.max_upload_bytes).await?;
        let title = got.title.clone().unwrap_or_default();
        let doc = state
            .store
            .create_document(
                &auth.scope,
                &NewDocument {
                    title: &title,
                    kind: "file",
                    file_name: Some(&got.file_name),
                    format: got.format.as_str(),
                    size_bytes: got.size as i64,
                    sha256: &got.sha256,
                    body: None,
                },
            )
            .await?
            .ok_or_else(|| ApiError::not_found("team"))?;
        if let Err(e) = got.temp.persist(&lib.file_path(&doc.id)) {
            // The row without its file would fail later; remove it now and say so.
            let _ = state.store.delete_document(&auth.scope, &doc.id).await;
            return Err(ApiError::internal(format!("cannot keep the upload: {e}")));
        }
        doc
    } else {
        let note = read_note(req, &ctype).await?;
        let title = valid_title(&note.title)?;
        valid_note(&note.body)?;
        let sha = hex::encode(Sha256::digest(note.body.as_bytes()));
        state
            .store
            .create_document(
                &auth.scope,
                &NewDocument {
                    title: &title,
                    kind: "note",
                    file_name: None,
                    format: "markdown",
                    size_bytes: note.body.len() as i64,
                    sha256: &sha,
                    body: Some(&note.body),
                },
            )
            .await?
            .ok_or_else(|| ApiError::not_found("team"))?
    };
    lib.wake();
    audit_created(&state, &auth, &doc, &client).await;
    Ok((StatusCode::CREATED, axum::Json(doc.into())))
}

/// The context's documents, most recently changed first, with their indexing state. One query.
#[utoipa::path(
    get, path = "/api/v1/docs/documents", tag = "docs",
    params(ListParams, ("X-Selah-Team" = Option<String>, Header, description = "Act in this team")),
    responses(
        (status = 200, description = "Documents", body = [DocumentView]),
        (status = 400, description = "Malformed parameters", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs docs.read", body = ErrorBody),
        (status = 404, description = "Not a member of the team", body = ErrorBody),
    )
)]
async fn list_documents(
    state: State<AppState>,
    auth: Require<perm::DocsRead>,
    Query(p): Query<ListParams>,
) -> ApiResult<axum::Json<Vec<DocumentView>>> {
    let limit = p.limit.unwrap_or(1000);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(ApiError::validation(format!(
            "limit must be 1 to {MAX_LIST}"
        )));
    }
    let docs = state.store.list_documents(&auth.scope, limit).await?;
    Ok(axum::Json(docs.into_iter().map(Into::into).collect()))
}

/// One document with its text.
#[utoipa::path(
    get, path = "/api/v1/docs/documents/{id}", tag = "docs",
    params(
        ("id" = String, Path, description = "Document id"),
        ("X-Selah-Team" = Option<String>, Header, description = "Act in this team"),
    ),
    responses(
        (status = 200, description = "The document", body = DocumentDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs docs.read", body = ErrorBody),
        (status = 404, description = "Not in this context", body = ErrorBody),
    )
)]
async fn get_document(
    state: State<AppState>,
    auth: Require<perm::DocsRead>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<DocumentDetail>> {
    let d = state
        .store
        .document(&auth.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("document"))?;
    let (body, content) = state
        .store
        .document_text(&auth.scope, &id)
        .await?
        .unwrap_or_default();
    Ok(axum::Json(DocumentDetail {
        document: d.into(),
        body,
        content,
    }))
}

/// Rename a document, or give a note a new body (indexed again; the old passages answer
/// searches until the new ones are ready).
#[utoipa::path(
    patch, path = "/api/v1/docs/documents/{id}", tag = "docs",
    request_body = UpdateDocument,
    params(
        ("id" = String, Path, description = "Document id"),
        ("X-Selah-Team" = Option<String>, Header, description = "Act in this team"),
    ),
    responses(
        (status = 200, description = "Changed", body = DocumentView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs docs.write", body = ErrorBody),
        (status = 404, description = "Not in this context", body = ErrorBody),
        (status = 422, description = "Invalid title or body, nothing to change, or a body for a file", body = ErrorBody),
    )
)]
async fn update_document(
    state: State<AppState>,
    auth: Require<perm::DocsWrite>,
    Path(id): Path<String>,
    Json(body): Json<UpdateDocument>,
) -> ApiResult<axum::Json<DocumentView>> {
    if body.title.is_none() && body.body.is_none() {
        return Err(ApiError::validation("send a title or a body to change"));
    }
    let title = body.title.as_deref().map(valid_title).transpose()?;
    let note = match &body.body {
        Some(b) => {
            valid_note(b)?;
            Some((b.as_str(), hex::encode(Sha256::digest(b.as_bytes()))))
        }
        None => None,
    };
    let current = state
        .store
        .document(&auth.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("document"))?;
    if note.is_some() && current.kind != "note" {
        return Err(ApiError::validation(
            "only notes have a body to edit; upload the file again instead",
        ));
    }
    let d = state
        .store
        .update_document(
            &auth.scope,
            &id,
            title.as_deref(),
            note.as_ref().map(|(b, s)| (*b, s.as_str())),
        )
        .await?
        .ok_or_else(|| ApiError::not_found("document"))?;
    if note.is_some() {
        state.docs.wake();
    }
    if title.is_some()
        && let Err(e) = state.docs.text_refresh(PassageSet::Document(&id)).await
    {
        tracing::warn!(document = %id, error = %e, "could not re-index a renamed document's passages");
    }
    Ok(axum::Json(d.into()))
}

/// Delete a document with its file, passages, vectors and index entries.
#[utoipa::path(
    delete, path = "/api/v1/docs/documents/{id}", tag = "docs",
    params(
        ("id" = String, Path, description = "Document id"),
        ("X-Selah-Team" = Option<String>, Header, description = "Act in this team"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs docs.write", body = ErrorBody),
        (status = 404, description = "Not in this context", body = ErrorBody),
    )
)]
async fn delete_document(
    state: State<AppState>,
    client: ClientInfo,
    auth: Require<perm::DocsWrite>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let passages = state
        .store
        .delete_document(&auth.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("document"))?;
    if let Err(e) = state.docs.index_remove(&passages).await {
        // The store has deleted them; search's re-check against the store hides them.
        tracing::warn!(document = %id, error = %e, "could not drop a deleted document's passages from the indexes");
    }
    match tokio::fs::remove_file(state.docs.file_path(&id)).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(document = %id, error = %e, "could not remove a deleted document's file")
        }
    }
    state
        .audit
        .record(
            AuditEvent::new("docs.document_deleted", "delete")
                .user(auth.user.id())
                .resource("document", &id)
                .details(json!({"team": auth.scope.team_id(), "passages": passages.len()}))
                .client(&client),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}
