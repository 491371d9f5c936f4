//! Documents: uploaded files and notes, personal or team-scoped, with their ingestion state.
//!
//! Requests reach documents only through a [`Scope`] ([`scope::condition`] on alias `t`). The
//! ingestion worker's functions take a document id and generation instead: it works on rows it
//! found through [`Store::next_pending_document`], for whoever owns them, and a generation that no
//! longer matches (the note was edited, the document deleted) makes each of its writes a no-op.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::scope::{self, Scope};
use crate::{Result, Store, StoreError, new_id, now_ms};

/// Where a document is in ingestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocState {
    /// Waiting for the worker.
    Queued,
    /// Being extracted, cut and embedded (see `progress`).
    Indexing,
    /// Searchable.
    Ready,
    /// Could not be indexed (see `error`).
    Failed,
}

impl DocState {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            DocState::Queued => "queued",
            DocState::Indexing => "indexing",
            DocState::Ready => "ready",
            DocState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "indexing" => DocState::Indexing,
            "ready" => DocState::Ready,
            "failed" => DocState::Failed,
            _ => DocState::Queued,
        }
    }

    /// Every state, for metrics.
    pub const ALL: [DocState; 4] = [
        DocState::Queued,
        DocState::Indexing,
        DocState::Ready,
        DocState::Failed,
    ];
}

/// A document as listed (without its text).
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    /// Opaque id.
    pub id: String,
    /// Who created it.
    pub owner_id: String,
    /// Its team; null for a personal document.
    pub team_id: Option<String>,
    /// Shown name.
    pub title: String,
    /// `file` or `note`.
    pub kind: String,
    /// The uploaded file's name.
    pub file_name: Option<String>,
    /// `text`, `markdown`, `html`, `pdf` or `docx`.
    pub format: String,
    /// Bytes uploaded (or of the note).
    pub size_bytes: i64,
    /// SHA-256 of those bytes, hex.
    pub sha256: String,
    /// Ingestion state.
    pub state: DocState,
    /// Percent of passages embedded while indexing.
    pub progress: i64,
    /// Why indexing failed.
    pub error: Option<String>,
    /// Passages once ready.
    pub passages: i64,
    /// Bumped whenever the content changes.
    pub generation: i64,
    /// Created, ms.
    pub created_at: i64,
    /// Last changed, ms.
    pub updated_at: i64,
    /// Last indexed, ms.
    pub indexed_at: Option<i64>,
}

/// A document to create.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    /// Shown name.
    pub title: &'a str,
    /// `file` or `note`.
    pub kind: &'a str,
    /// The uploaded file's name.
    pub file_name: Option<&'a str>,
    /// Format name.
    pub format: &'a str,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SHA-256, hex.
    pub sha256: &'a str,
    /// A note's Markdown.
    pub body: Option<&'a str>,
}

/// What the worker needs to index a document.
#[derive(Debug, Clone)]
pub struct PendingDocument {
    /// Id.
    pub id: String,
    /// Owner.
    pub owner_id: String,
    /// Team.
    pub team_id: Option<String>,
    /// `file` or `note`.
    pub kind: String,
    /// Format name.
    pub format: String,
    /// A note's Markdown.
    pub body: Option<String>,
    /// Generation being indexed.
    pub generation: i64,
}

const COLUMNS: &str = "t.id, t.owner_id, t.team_id, t.title, t.kind, t.file_name, t.format, \
    t.size_bytes, t.sha256, t.state, t.progress, t.error, t.passages, t.generation, t.created_at, \
    t.updated_at, t.indexed_at";

fn from_row(r: &AnyRow) -> Result<Document> {
    Ok(Document {
        id: r.try_get("id")?,
        owner_id: r.try_get("owner_id")?,
        team_id: r.try_get("team_id")?,
        title: r.try_get("title")?,
        kind: r.try_get("kind")?,
        file_name: r.try_get("file_name")?,
        format: r.try_get("format")?,
        size_bytes: r.try_get("size_bytes")?,
        sha256: r.try_get("sha256")?,
        state: DocState::parse(&r.try_get::<String, _>("state")?),
        progress: r.try_get("progress")?,
        error: r.try_get("error")?,
        passages: r.try_get("passages")?,
        generation: r.try_get("generation")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        indexed_at: r.try_get("indexed_at")?,
    })
}

impl Store {
    /// Creates a queued document in the scope. In a team scope nothing is written unless the user
    /// is a member: Ok(None).
    pub async fn create_document(
        &self,
        scope: &Scope,
        doc: &NewDocument<'_>,
    ) -> Result<Option<Document>> {
        let id = new_id();
        let now = now_ms();
        let n = sqlx::query(
            "INSERT INTO documents (id, owner_id, team_id, title, kind, file_name, format, \
               size_bytes, sha256, body, state, created_at, updated_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', $11, $11 WHERE $3 IS NULL \
               OR EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = $3 AND m.user_id = $2)",
        )
        .bind(&id)
        .bind(scope.user_id())
        .bind(scope.team_id())
        .bind(doc.title)
        .bind(doc.kind)
        .bind(doc.file_name)
        .bind(doc.format)
        .bind(doc.size_bytes)
        .bind(doc.sha256)
        .bind(doc.body)
        .bind(now)
        .execute(self.writer())
        .await
        .map_err(StoreError::from_sqlx)?
        .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        self.document(scope, &id).await
    }

    /// The scope's documents, most recently changed first, at most `limit`. One query.
    pub async fn list_documents(&self, scope: &Scope, limit: i64) -> Result<Vec<Document>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM documents t WHERE {} ORDER BY t.updated_at DESC, t.id DESC LIMIT $3",
            scope::condition(1)
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.user_id())
            .bind(scope.team_id())
            .bind(limit)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// One document, if it is in the scope.
    pub async fn document(&self, scope: &Scope, id: &str) -> Result<Option<Document>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM documents t WHERE t.id = $3 AND {}",
            scope::condition(1)
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.user_id())
            .bind(scope.team_id())
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// A document's note body and extracted text, if it is in the scope.
    pub async fn document_text(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<(Option<String>, Option<String>)>> {
        let sql = format!(
            "SELECT t.body, t.content FROM documents t WHERE t.id = $3 AND {}",
            scope::condition(1)
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.user_id())
            .bind(scope.team_id())
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.map(|r| Ok((r.try_get("body")?, r.try_get("content")?)))
            .transpose()
    }

    /// Renames a document and, for a note given a new body, queues it for indexing again under
    /// a new generation (its old passages stay searchable until the new ones are ready).
    pub async fn update_document(
        &self,
        scope: &Scope,
        id: &str,
        title: Option<&str>,
        note: Option<(&str, &str)>,
    ) -> Result<Option<Document>> {
        let (body, sha) = note.unzip();
        let size = body.map(|b| b.len() as i64);
        let sql = format!(
            "UPDATE documents SET title = COALESCE($3, title), updated_at = $4, \
               body = CASE WHEN $5 IS NULL THEN body ELSE $5 END, \
               sha256 = COALESCE($6, sha256), size_bytes = COALESCE($7, size_bytes), \
               generation = generation + (CASE WHEN $5 IS NULL THEN 0 ELSE 1 END), \
               state = CASE WHEN $5 IS NULL THEN state ELSE 'queued' END, \
               progress = CASE WHEN $5 IS NULL THEN progress ELSE 0 END, \
               error = CASE WHEN $5 IS NULL THEN error ELSE NULL END \
             WHERE id = $8 AND ($5 IS NULL OR kind = 'note') \
               AND EXISTS (SELECT 1 FROM documents t WHERE t.id = $8 AND {})",
            scope::condition(1)
        );
        let mut tx = self.writer().begin().await?;
        let n = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.user_id())
            .bind(scope.team_id())
            .bind(title)
            .bind(now_ms())
            .bind(body)
            .bind(sha)
            .bind(size)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        if let Some(t) = title {
            // Passages carry the title for full-text search.
            sqlx::query("UPDATE passages SET title = $1 WHERE document_id = $2")
                .bind(t)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.document(scope, id).await
    }

    /// Deletes a document in the scope with its passages and their vectors, in one transaction.
    /// Returns the ids of the passages removed (for the in-memory index), or None when the
    /// document is not in the scope.
    pub async fn delete_document(&self, scope: &Scope, id: &str) -> Result<Option<Vec<i64>>> {
        let mut tx = self.writer().begin().await?;
        let sql = format!(
            "SELECT t.id FROM documents t WHERE t.id = $3 AND {}",
            scope::condition(1)
        );
        let found = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.user_id())
            .bind(scope.team_id())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Ok(None);
        }
        let ids: Vec<i64> = sqlx::query("SELECT id FROM passages WHERE document_id = $1")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
        sqlx::query(
            "DELETE FROM passage_vectors WHERE passage_id IN \
               (SELECT id FROM passages WHERE document_id = $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM passages WHERE document_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM documents WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(ids))
    }

    /// How many documents are in each state (for `/metrics`).
    pub async fn document_state_counts(&self) -> Result<Vec<(DocState, i64)>> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM documents GROUP BY state")
            .fetch_all(self.reader())
            .await?;
        let mut out: Vec<(DocState, i64)> = DocState::ALL.iter().map(|s| (*s, 0)).collect();
        for r in rows {
            let s = DocState::parse(&r.try_get::<String, _>("state")?);
            if let Some(slot) = out.iter_mut().find(|(k, _)| *k == s) {
                slot.1 += r.try_get::<i64, _>("n")?;
            }
        }
        Ok(out)
    }

    /// The oldest document waiting for the worker, or one it was indexing when it stopped.
    /// Unscoped: the ingestion worker serves every user.
    pub async fn next_pending_document(&self) -> Result<Option<PendingDocument>> {
        let row = sqlx::query(
            "SELECT id, owner_id, team_id, kind, format, body, generation FROM documents \
             WHERE state IN ('queued', 'indexing') ORDER BY created_at, id LIMIT 1",
        )
        .fetch_optional(self.reader())
        .await?;
        row.map(|r| {
            Ok(PendingDocument {
                id: r.try_get("id")?,
                owner_id: r.try_get("owner_id")?,
                team_id: r.try_get("team_id")?,
                kind: r.try_get("kind")?,
                format: r.try_get("format")?,
                body: r.try_get("body")?,
                generation: r.try_get("generation")?,
            })
        })
        .transpose()
    }

    /// Marks a document as being indexed and stores its extracted text. False when the document
    /// is gone or has moved to another generation.
    pub async fn start_indexing(&self, id: &str, generation: i64, content: &str) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE documents SET state = 'indexing', content = $1, error = NULL \
             WHERE id = $2 AND generation = $3 AND state IN ('queued', 'indexing')",
        )
        .bind(content)
        .bind(id)
        .bind(generation)
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Marks a document as failed with a reason the user can read, and drops the passages of
    /// the failed generation.
    pub async fn fail_document(&self, id: &str, generation: i64, reason: &str) -> Result<()> {
        let mut tx = self.writer().begin().await?;
        sqlx::query(
            "DELETE FROM passage_vectors WHERE passage_id IN \
               (SELECT id FROM passages WHERE document_id = $1 AND generation = $2)",
        )
        .bind(id)
        .bind(generation)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM passages WHERE document_id = $1 AND generation = $2")
            .bind(id)
            .bind(generation)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE documents SET state = 'failed', error = $1, progress = 0 \
             WHERE id = $2 AND generation = $3",
        )
        .bind(reason)
        .bind(id)
        .bind(generation)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes a generation's passages searchable and the document ready, removing the passages
    /// (and vectors) of older generations, in one transaction: a crash before it leaves the
    /// document indexing, never half-indexed and ready. Returns the removed passage ids, or None
    /// when the generation is no longer current.
    pub async fn finish_document(&self, id: &str, generation: i64) -> Result<Option<Vec<i64>>> {
        let mut tx = self.writer().begin().await?;
        let count: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM passages WHERE document_id = $1 AND generation = $2",
        )
        .bind(id)
        .bind(generation)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        let n = sqlx::query(
            "UPDATE documents SET state = 'ready', progress = 100, passages = $1, indexed_at = $2 \
             WHERE id = $3 AND generation = $4 AND state = 'indexing'",
        )
        .bind(count)
        .bind(now_ms())
        .bind(id)
        .bind(generation)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        let old: Vec<i64> =
            sqlx::query("SELECT id FROM passages WHERE document_id = $1 AND generation < $2")
                .bind(id)
                .bind(generation)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<std::result::Result<_, _>>()?;
        sqlx::query(
            "DELETE FROM passage_vectors WHERE passage_id IN \
               (SELECT id FROM passages WHERE document_id = $1 AND generation < $2)",
        )
        .bind(id)
        .bind(generation)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM passages WHERE document_id = $1 AND generation < $2")
            .bind(id)
            .bind(generation)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE passages SET searchable = 1 WHERE document_id = $1 AND generation = $2",
        )
        .bind(id)
        .bind(generation)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(old))
    }
}
