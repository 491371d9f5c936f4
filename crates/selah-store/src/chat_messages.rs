//! Chat messages and the per-session chat state (rolling summary, activity, active model).
//!
//! Every query a request makes goes through the session's [`Scope`]: messages are reached by
//! joining `chat_sessions t` with [`scope::condition`], so a message of a session outside the
//! caller's scope is never read or written. The two exceptions are documented on the function:
//! the reply writer's flushes (by the id of a row it created itself through a scoped insert)
//! and the start-up sweep of interrupted replies (all rows, before any request is served).

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::scope::{self, Scope};
use crate::{Result, Store, StoreError, new_id, now_ms};

/// A message's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Written in full.
    Complete,
    /// A reply being generated right now (its content is flushed as it grows).
    Streaming,
    /// A reply cut off (crash, disconnect, stop): the text generated so far.
    Incomplete,
    /// Generation failed; the content is what came before the failure.
    Error,
}

impl MessageStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Complete => "complete",
            MessageStatus::Streaming => "streaming",
            MessageStatus::Incomplete => "incomplete",
            MessageStatus::Error => "error",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "complete" => MessageStatus::Complete,
            "streaming" => MessageStatus::Streaming,
            "error" => MessageStatus::Error,
            _ => MessageStatus::Incomplete,
        }
    }
}

/// A stored chat message.
#[derive(Debug, Clone, Serialize)]
pub struct StoredMessage {
    /// Opaque id (UUID v7: ordered by creation within a process).
    pub id: String,
    /// The session.
    pub session_id: String,
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// Text.
    pub content: String,
    /// The model that wrote it (assistant) or was addressed (user).
    pub model: Option<String>,
    /// User rows: the message's own token count; assistant rows: the whole prompt's.
    pub prompt_tokens: Option<i64>,
    /// Assistant rows: tokens generated.
    pub completion_tokens: Option<i64>,
    /// State.
    pub status: MessageStatus,
    /// Created, ms.
    pub created_at: i64,
    /// Last changed, ms.
    pub updated_at: i64,
    /// Assistant rows: the passages the reply was given, as a JSON array.
    pub citations: Option<serde_json::Value>,
}

/// A message to insert.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// `system`, `user` or `assistant`.
    pub role: &'a str,
    /// Text.
    pub content: &'a str,
    /// Model.
    pub model: Option<&'a str>,
    /// See [`StoredMessage::prompt_tokens`].
    pub prompt_tokens: Option<i64>,
    /// See [`StoredMessage::completion_tokens`].
    pub completion_tokens: Option<i64>,
    /// Initial state.
    pub status: MessageStatus,
}

/// A session's rolling summary of messages that no longer fit the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    /// The summary text.
    pub text: String,
    /// Id of the newest message it covers.
    pub through: String,
}

const COLUMNS: &str = "m.id, m.session_id, m.role, m.content, m.model, m.prompt_tokens, \
                       m.completion_tokens, m.status, m.created_at, m.updated_at, m.citations";

fn from_row(r: &AnyRow) -> Result<StoredMessage> {
    Ok(StoredMessage {
        id: r.try_get("id")?,
        session_id: r.try_get("session_id")?,
        role: r.try_get("role")?,
        content: r.try_get("content")?,
        model: r.try_get("model")?,
        prompt_tokens: r.try_get("prompt_tokens")?,
        completion_tokens: r.try_get("completion_tokens")?,
        status: MessageStatus::parse(&r.try_get::<String, _>("status")?),
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        citations: r
            .try_get::<Option<String>, _>("citations")?
            .and_then(|c| serde_json::from_str(&c).ok()),
    })
}

/// `session $1 is in the scope bound at $2/$3`, as a subquery predicate.
fn in_scope(session_param: usize, first: usize) -> String {
    format!(
        "EXISTS (SELECT 1 FROM chat_sessions t WHERE t.id = ${session_param} AND {})",
        scope::condition(first)
    )
}

impl Store {
    /// Adds a message to a session in the scope and marks the session active. None when the
    /// session is not in the scope.
    pub async fn insert_chat_message(
        &self,
        scope: &Scope,
        session_id: &str,
        msg: &NewMessage<'_>,
    ) -> Result<Option<StoredMessage>> {
        let now = now_ms();
        let row = StoredMessage {
            id: new_id(),
            session_id: session_id.to_string(),
            role: msg.role.to_string(),
            content: msg.content.to_string(),
            model: msg.model.map(str::to_string),
            prompt_tokens: msg.prompt_tokens,
            completion_tokens: msg.completion_tokens,
            status: msg.status,
            created_at: now,
            updated_at: now,
            citations: None,
        };
        let sql = format!(
            "INSERT INTO chat_messages (id, session_id, role, content, model, prompt_tokens, \
               completion_tokens, status, created_at, updated_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $9 WHERE {}",
            in_scope(2, 10)
        );
        let mut tx = self.writer().begin().await?;
        let n = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&row.id)
            .bind(&row.session_id)
            .bind(&row.role)
            .bind(&row.content)
            .bind(&row.model)
            .bind(row.prompt_tokens)
            .bind(row.completion_tokens)
            .bind(row.status.as_str())
            .bind(now)
            .bind(scope.user_id())
            .bind(scope.team_id())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?
            .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        sqlx::query(
            "UPDATE chat_sessions SET last_activity_at = $1, updated_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(session_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(row))
    }

    /// Records the passages a reply was given (a JSON array). Not scoped, like
    /// [`Store::flush_chat_reply`]: called by the reply writer on the row it created.
    pub async fn set_reply_citations(&self, id: &str, citations: &serde_json::Value) -> Result<()> {
        sqlx::query("UPDATE chat_messages SET citations = $1 WHERE id = $2")
            .bind(citations.to_string())
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Writes a growing reply's text. Not scoped: it is only called by the reply writer, with
    /// the id of a row it created through [`Store::insert_chat_message`], so that a reply keeps
    /// being saved even if the writer's scope changes while it streams.
    pub async fn flush_chat_reply(&self, id: &str, content: &str) -> Result<()> {
        sqlx::query(
            "UPDATE chat_messages SET content = $1, updated_at = $2 WHERE id = $3 AND status = 'streaming'",
        )
        .bind(content)
        .bind(now_ms())
        .bind(id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Writes a reply's final text, state and counts (same exception as
    /// [`Store::flush_chat_reply`]), and marks its session active.
    pub async fn finish_chat_reply(
        &self,
        id: &str,
        content: &str,
        status: MessageStatus,
        prompt_tokens: Option<i64>,
        completion_tokens: Option<i64>,
    ) -> Result<()> {
        let now = now_ms();
        let mut tx = self.writer().begin().await?;
        sqlx::query(
            "UPDATE chat_messages SET content = $1, status = $2, \
               prompt_tokens = COALESCE($3, prompt_tokens), \
               completion_tokens = COALESCE($4, completion_tokens), updated_at = $5 \
             WHERE id = $6",
        )
        .bind(content)
        .bind(status.as_str())
        .bind(prompt_tokens)
        .bind(completion_tokens)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE chat_sessions SET last_activity_at = $1 \
             WHERE id IN (SELECT session_id FROM chat_messages WHERE id = $2)",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// At start-up, before serving: replies that were streaming when the process died become
    /// incomplete (their flushed text is kept). Returns how many. Not scoped (all rows).
    pub async fn mark_interrupted_replies(&self) -> Result<u64> {
        let n = sqlx::query(
            "UPDATE chat_messages SET status = 'incomplete', updated_at = $1 WHERE status = 'streaming'",
        )
        .bind(now_ms())
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(n)
    }

    /// A page of a session's messages, oldest first, after the message `after` (exclusive),
    /// at most `limit`. None when the session is not in the scope.
    pub async fn list_chat_messages(
        &self,
        scope: &Scope,
        session_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Option<Vec<StoredMessage>>> {
        if self.chat_session(scope, session_id).await?.is_none() {
            return Ok(None);
        }
        // The cursor row is looked up within the same session, so a foreign id is no cursor.
        let sql = format!(
            "SELECT {COLUMNS} FROM chat_messages m \
             WHERE m.session_id = $1 AND {} \
               AND ($4 IS NULL OR EXISTS (SELECT 1 FROM chat_messages c \
                    WHERE c.id = $4 AND c.session_id = m.session_id \
                      AND (m.created_at > c.created_at OR (m.created_at = c.created_at AND m.id > c.id)))) \
             ORDER BY m.created_at, m.id LIMIT $5",
            in_scope(1, 2)
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(session_id)
            .bind(scope.user_id())
            .bind(scope.team_id())
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(from_row)
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// All of a session's messages, oldest first (for building a prompt or counting tokens).
    /// None when the session is not in the scope.
    pub async fn all_chat_messages(
        &self,
        scope: &Scope,
        session_id: &str,
    ) -> Result<Option<Vec<StoredMessage>>> {
        self.list_chat_messages(scope, session_id, None, u32::MAX / 2)
            .await
    }

    /// Deletes one message of a session in the scope. False when there was none.
    pub async fn delete_chat_message(
        &self,
        scope: &Scope,
        session_id: &str,
        id: &str,
    ) -> Result<bool> {
        let sql = format!(
            "DELETE FROM chat_messages WHERE id = $1 AND session_id = $2 AND {}",
            in_scope(2, 3)
        );
        let n = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(session_id)
            .bind(scope.user_id())
            .bind(scope.team_id())
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// The session's rolling summary, if it has one. None also when the session is not in the
    /// scope.
    pub async fn chat_summary(
        &self,
        scope: &Scope,
        session_id: &str,
    ) -> Result<Option<SessionSummary>> {
        let sql = format!(
            "SELECT t.summary, t.summary_through FROM chat_sessions t WHERE t.id = $1 AND {}",
            scope::condition(2)
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(session_id)
            .bind(scope.user_id())
            .bind(scope.team_id())
            .fetch_optional(self.reader())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let text: Option<String> = row.try_get("summary")?;
        let through: Option<String> = row.try_get("summary_through")?;
        Ok(text
            .zip(through)
            .map(|(text, through)| SessionSummary { text, through }))
    }

    /// Stores (Some) or clears (None) the session's rolling summary. False when the session is
    /// not in the scope.
    pub async fn set_chat_summary(
        &self,
        scope: &Scope,
        session_id: &str,
        summary: Option<&SessionSummary>,
    ) -> Result<bool> {
        let sql = format!(
            "UPDATE chat_sessions SET summary = $1, summary_through = $2 \
             WHERE id IN (SELECT t.id FROM chat_sessions t WHERE t.id = $3 AND {})",
            scope::condition(4)
        );
        let n = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(summary.map(|s| s.text.as_str()))
            .bind(summary.map(|s| s.through.as_str()))
            .bind(session_id)
            .bind(scope.user_id())
            .bind(scope.team_id())
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Archives every unarchived session whose last activity is older than `cutoff_ms`.
    /// Returns how many (a maintenance job: all scopes).
    pub async fn archive_idle_chat_sessions(&self, cutoff_ms: i64) -> Result<u64> {
        let n = sqlx::query(
            "UPDATE chat_sessions SET archived = 1, updated_at = $1 \
             WHERE archived = 0 AND last_activity_at < $2",
        )
        .bind(now_ms())
        .bind(cutoff_ms)
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(n)
    }

    /// Test support: sets a session's last activity time.
    #[doc(hidden)]
    pub async fn force_chat_activity(&self, session_id: &str, at_ms: i64) -> Result<()> {
        sqlx::query("UPDATE chat_sessions SET last_activity_at = $1 WHERE id = $2")
            .bind(at_ms)
            .bind(session_id)
            .execute(self.writer())
            .await?;
        Ok(())
    }
}
