//! Searchable passages' text, read for the in-memory full-text index (`selah_search::TextIndex`),
//! which is built from the store at start and refreshed by the writes that change what search
//! sees: a document becoming ready or renamed, a chat message cut into passages, a chat session
//! renamed. Deletions need no read: the caller has the removed ids.

use sqlx::Row;

use crate::{Result, Store};

/// A searchable passage's text with the scope the index filters by.
#[derive(Debug, Clone)]
pub struct PassageText {
    /// Passage id.
    pub id: i64,
    /// The passage's owner.
    pub owner_id: String,
    /// Its team.
    pub team_id: Option<String>,
    /// Its document (None for a chat message).
    pub document_id: Option<String>,
    /// The document's or the chat session's title.
    pub title: String,
    /// Heading path.
    pub heading: Option<String>,
    /// Text.
    pub text: String,
}

/// Which searchable passages to read.
#[derive(Debug, Clone, Copy)]
pub enum PassageSet<'a> {
    /// Every searchable passage with an id above `after`, in id order, at most `limit` (one
    /// page of the whole set).
    Page {
        /// The last id of the previous page (0 for the first).
        after: i64,
        /// Page size.
        limit: i64,
    },
    /// One document's.
    Document(&'a str),
    /// One chat message's.
    Message(&'a str),
    /// Every message's of one chat session.
    Session(&'a str),
}

const COLUMNS: &str =
    "p.id, p.owner_id, p.team_id, p.document_id, p.title, p.heading, p.text FROM passages p";

impl Store {
    /// The searchable passages of `set`.
    pub async fn searchable_texts(&self, set: PassageSet<'_>) -> Result<Vec<PassageText>> {
        let query = match set {
            PassageSet::Page { after, limit } => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} WHERE p.searchable = 1 AND p.id > $1 ORDER BY p.id LIMIT $2"
            )))
            .bind(after)
            .bind(limit),
            PassageSet::Document(id) => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} WHERE p.searchable = 1 AND p.document_id = $1"
            )))
            .bind(id),
            PassageSet::Message(id) => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} WHERE p.searchable = 1 AND p.message_id = $1"
            )))
            .bind(id),
            PassageSet::Session(id) => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} WHERE p.searchable = 1 AND p.message_id IN \
                   (SELECT m.id FROM chat_messages m WHERE m.session_id = $1)"
            )))
            .bind(id),
        };
        let rows = query.fetch_all(self.reader()).await?;
        rows.iter()
            .map(|r| {
                Ok(PassageText {
                    id: r.try_get("id")?,
                    owner_id: r.try_get("owner_id")?,
                    team_id: r.try_get("team_id")?,
                    document_id: r.try_get("document_id")?,
                    title: r.try_get("title")?,
                    heading: r.try_get("heading")?,
                    text: r.try_get("text")?,
                })
            })
            .collect()
    }
}
