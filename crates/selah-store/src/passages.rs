//! Passages (the searchable pieces of documents and chat messages) and their vectors.
//!
//! Ranking happens in memory (`selah_search`'s text and vector indexes, built from this store);
//! the store re-checks every hit against [`SearchScope`] before it is returned. The worker's
//! writes go by document id and generation (see the documents module).

use sqlx::Row;

use crate::scope::{self, Scope};
use crate::{Result, Store, now_ms};

/// Whose passages a search may return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchScope {
    /// One context: the user's own, or one team's (as a member).
    One(Scope),
    /// Everything the user may read: their own and every team they belong to.
    Visible {
        /// The acting user.
        user_id: String,
    },
}

impl SearchScope {
    /// The acting user.
    pub fn user_id(&self) -> &str {
        match self {
            SearchScope::One(s) => s.user_id(),
            SearchScope::Visible { user_id } => user_id,
        }
    }

    /// The team bound as the second parameter of [`SearchScope::condition`] (None for
    /// personal and for everything visible).
    fn team_param(&self) -> Option<&str> {
        match self {
            SearchScope::One(s) => s.team_id(),
            SearchScope::Visible { .. } => None,
        }
    }

    /// The condition on alias `t`, with the user bound at `first` and the team at `first + 1`.
    fn condition(&self, first: usize) -> String {
        match self {
            SearchScope::One(_) => scope::condition(first),
            SearchScope::Visible { .. } => {
                let (u, t) = (first, first + 1);
                format!(
                    "(CAST(${t} AS TEXT) IS NULL AND ((t.team_id IS NULL AND t.owner_id = ${u}) \
                      OR (t.team_id IS NOT NULL AND EXISTS (SELECT 1 FROM team_members m \
                          WHERE m.team_id = t.team_id AND m.user_id = ${u}))))"
                )
            }
        }
    }
}

/// Which kinds of passage a search covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceFilter {
    /// Documents and chat messages.
    #[default]
    All,
    /// Documents (and notes) only.
    Documents,
    /// Chat messages only.
    Messages,
}

/// A passage to store.
#[derive(Debug, Clone)]
pub struct NewPassage {
    /// Order within the document.
    pub seq: i64,
    /// Span in the document's content, in characters.
    pub char_start: i64,
    /// End of the span (exclusive).
    pub char_end: i64,
    /// Heading path in effect.
    pub heading: Option<String>,
    /// Text.
    pub text: String,
    /// Tokens (the embedding model's).
    pub tokens: i64,
}

/// A passage as search returns it, with its source: a document, or a chat message.
#[derive(Debug, Clone)]
pub struct PassageHit {
    /// Passage id.
    pub id: i64,
    /// Its document (None for a chat message).
    pub document_id: Option<String>,
    /// Its chat message (None for a document).
    pub message_id: Option<String>,
    /// The chat session of its message.
    pub session_id: Option<String>,
    /// The document's or the chat session's title.
    pub title: String,
    /// Order within the document.
    pub seq: i64,
    /// Span in the document's content, in characters.
    pub char_start: i64,
    /// End of the span.
    pub char_end: i64,
    /// Heading path.
    pub heading: Option<String>,
    /// Text.
    pub text: String,
}

/// A vector with what the in-memory index needs to filter by scope.
#[derive(Debug, Clone)]
pub struct StoredVector {
    /// Passage id.
    pub passage_id: i64,
    /// The passage's owner.
    pub owner_id: String,
    /// The passage's team.
    pub team_id: Option<String>,
    /// Its document.
    pub document_id: Option<String>,
    /// Whether search may return it yet.
    pub searchable: bool,
    /// The passage's unit-length vector, followed by one per paragraph when it has several
    /// (`selah_search::parts`).
    pub vector: Vec<f32>,
}

/// A passage still to embed.
#[derive(Debug, Clone)]
pub struct Unembedded {
    /// Passage id.
    pub id: i64,
    /// Its document's title.
    pub title: String,
    /// Heading path.
    pub heading: Option<String>,
    /// Text.
    pub text: String,
}

/// Little-endian f32s.
pub fn vector_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The inverse of [`vector_bytes`]; None when the length is not a whole number of floats.
pub fn vector_from_bytes(b: &[u8]) -> Option<Vec<f32>> {
    b.len().is_multiple_of(4).then(|| {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    })
}

const VECTOR_SELECT: &str = "SELECT p.id, p.owner_id, p.team_id, p.document_id, p.searchable, \
    v.vector FROM passage_vectors v JOIN passages p ON p.id = v.passage_id";

/// A vector row; None when the stored bytes are not a whole number of floats.
fn stored_vector(r: &sqlx::any::AnyRow) -> Result<Option<StoredVector>> {
    let bytes: Vec<u8> = r.try_get("vector")?;
    let Some(vector) = vector_from_bytes(&bytes) else {
        return Ok(None);
    };
    Ok(Some(StoredVector {
        passage_id: r.try_get("id")?,
        owner_id: r.try_get("owner_id")?,
        team_id: r.try_get("team_id")?,
        document_id: r.try_get("document_id")?,
        searchable: r.try_get::<i64, _>("searchable")? != 0,
        vector,
    }))
}

/// A row of `p.id, p.title, p.heading, p.text`.
fn unembedded(r: &sqlx::any::AnyRow) -> Result<Unembedded> {
    Ok(Unembedded {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        heading: r.try_get("heading")?,
        text: r.try_get("text")?,
    })
}

fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

impl Store {
    /// Stores a document generation's passages unless they are already there (a resumed
    /// ingestion cuts the same passages again). Returns how many the generation has.
    pub async fn put_document_passages(
        &self,
        document_id: &str,
        generation: i64,
        owner_id: &str,
        team_id: Option<&str>,
        passages: &[NewPassage],
    ) -> Result<i64> {
        let mut tx = self.writer().begin().await?;
        let have: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM passages WHERE document_id = $1 AND generation = $2",
        )
        .bind(document_id)
        .bind(generation)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if have == 0 {
            let now = now_ms();
            let title: String = sqlx::query("SELECT title FROM documents WHERE id = $1")
                .bind(document_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("title"))
                .transpose()?
                .unwrap_or_default();
            for p in passages {
                sqlx::query(
                    "INSERT INTO passages (document_id, owner_id, team_id, generation, seq, \
                       char_start, char_end, title, heading, text, tokens, searchable, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $12, $8, $9, $10, 0, $11)",
                )
                .bind(document_id)
                .bind(owner_id)
                .bind(team_id)
                .bind(generation)
                .bind(p.seq)
                .bind(p.char_start)
                .bind(p.char_end)
                .bind(&p.heading)
                .bind(&p.text)
                .bind(p.tokens)
                .bind(now)
                .bind(&title)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(if have == 0 {
            passages.len() as i64
        } else {
            have
        })
    }

    /// Up to `limit` passages of a document generation without a vector from `model`, in order.
    pub async fn unembedded_passages(
        &self,
        document_id: &str,
        generation: i64,
        model: &str,
        limit: i64,
    ) -> Result<Vec<Unembedded>> {
        let rows = sqlx::query(
            "SELECT p.id, p.title, p.heading, p.text FROM passages p \
             WHERE p.document_id = $1 AND p.generation = $2 AND NOT EXISTS \
               (SELECT 1 FROM passage_vectors v WHERE v.passage_id = p.id AND v.model = $3) \
             ORDER BY p.seq LIMIT $4",
        )
        .bind(document_id)
        .bind(generation)
        .bind(model)
        .bind(limit)
        .fetch_all(self.writer())
        .await?;
        rows.iter().map(unembedded).collect()
    }

    /// Stores vectors and the document's progress in one transaction.
    pub async fn put_vectors(
        &self,
        model: &str,
        vectors: &[(i64, Vec<f32>)],
        progress: Option<(&str, i64, i64)>,
    ) -> Result<()> {
        let mut tx = self.writer().begin().await?;
        let now = now_ms();
        for (id, v) in vectors {
            sqlx::query(
                "INSERT INTO passage_vectors (passage_id, model, vector, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (passage_id, model) DO NOTHING",
            )
            .bind(id)
            .bind(model)
            .bind(vector_bytes(v))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        if let Some((doc, generation, percent)) = progress {
            sqlx::query(
                "UPDATE documents SET progress = $1 WHERE id = $2 AND generation = $3 \
                 AND state = 'indexing'",
            )
            .bind(percent)
            .bind(doc)
            .bind(generation)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Passages of a generation, and how many of them have a vector from `model`.
    pub async fn embedding_progress(
        &self,
        document_id: &str,
        generation: i64,
        model: &str,
    ) -> Result<(i64, i64)> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS total, COUNT(v.passage_id) AS done FROM passages p \
             LEFT JOIN passage_vectors v ON v.passage_id = p.id AND v.model = $3 \
             WHERE p.document_id = $1 AND p.generation = $2",
        )
        .bind(document_id)
        .bind(generation)
        .bind(model)
        .fetch_one(self.writer())
        .await?;
        Ok((r.try_get("total")?, r.try_get("done")?))
    }

    /// Vectors from `model` whose passage matches `filter` (SQL on alias `p`, no parameters)
    /// and, when given, belongs to `document_id`.
    async fn vectors_where(
        &self,
        model: &str,
        document_id: Option<&str>,
        filter: &str,
    ) -> Result<Vec<StoredVector>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{VECTOR_SELECT} WHERE v.model = $1 AND ($2 IS NULL OR p.document_id = $2) AND {filter}"
        )))
        .bind(model)
        .bind(document_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .filter_map(|r| stored_vector(r).transpose())
            .collect()
    }

    /// Every searchable vector from `model`, with its passage's scope, for building the
    /// in-memory index.
    pub async fn all_vectors(&self, model: &str) -> Result<Vec<StoredVector>> {
        self.vectors_where(model, None, "p.searchable = 1").await
    }

    /// Vectors of one document's passages (after it becomes ready).
    pub async fn document_vectors(
        &self,
        document_id: &str,
        model: &str,
    ) -> Result<Vec<StoredVector>> {
        self.vectors_where(model, Some(document_id), "p.searchable = 1")
            .await
    }

    /// Searchable vectors of the given passages.
    pub async fn vectors_of(&self, ids: &[i64], model: &str) -> Result<Vec<StoredVector>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Ids are integers from our own store, never user text.
        let filter = format!("p.searchable = 1 AND p.id IN ({})", id_list(ids));
        self.vectors_where(model, None, &filter).await
    }

    /// The passages with these ids that are searchable and in the scope, with their sources
    /// (in no particular order). The second line of defence: vector hits come from an
    /// in-memory index, and this query re-checks every one of them against the store.
    pub async fn passages_in_scope(
        &self,
        scope: &SearchScope,
        ids: &[i64],
    ) -> Result<Vec<PassageHit>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Ids are integers from our own index, never user text.
        let list = id_list(ids);
        let sql = format!(
            "SELECT t.id, t.document_id, t.message_id, m.session_id, t.title, t.seq, t.char_start, \
               t.char_end, t.heading, t.text \
             FROM passages t LEFT JOIN chat_messages m ON m.id = t.message_id \
             WHERE t.id IN ({list}) AND t.searchable = 1 AND {}",
            scope.condition(1)
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.user_id())
            .bind(scope.team_param())
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(PassageHit {
                    id: r.try_get("id")?,
                    document_id: r.try_get("document_id")?,
                    message_id: r.try_get("message_id")?,
                    session_id: r.try_get("session_id")?,
                    title: r.try_get("title")?,
                    seq: r.try_get("seq")?,
                    char_start: r.try_get("char_start")?,
                    char_end: r.try_get("char_end")?,
                    heading: r.try_get("heading")?,
                    text: r.try_get("text")?,
                })
            })
            .collect()
    }

    /// Removes vectors whose passage no longer exists, and vectors of other models than
    /// `current` whose passage already has a current one. Returns how many were removed.
    pub async fn delete_orphan_vectors(&self, current: &str) -> Result<u64> {
        let orphans = sqlx::query(
            "DELETE FROM passage_vectors WHERE NOT EXISTS \
               (SELECT 1 FROM passages p WHERE p.id = passage_vectors.passage_id)",
        )
        .execute(self.writer())
        .await?
        .rows_affected();
        let superseded = sqlx::query(
            "DELETE FROM passage_vectors WHERE model <> $1 AND EXISTS \
               (SELECT 1 FROM passage_vectors c WHERE c.passage_id = passage_vectors.passage_id \
                  AND c.model = $1)",
        )
        .bind(current)
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(orphans + superseded)
    }

    /// Ready documents' passages without a vector from `model` (after a model change), at most
    /// `limit`, for the background re-embedding.
    pub async fn passages_missing_vectors(
        &self,
        model: &str,
        limit: i64,
    ) -> Result<Vec<Unembedded>> {
        let rows = sqlx::query(
            "SELECT p.id, p.title, p.heading, p.text FROM passages p WHERE p.searchable = 1 AND NOT EXISTS \
               (SELECT 1 FROM passage_vectors v WHERE v.passage_id = p.id AND v.model = $1) \
             ORDER BY p.id LIMIT $2",
        )
        .bind(model)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(unembedded).collect()
    }
}
