//! Chat sessions: the first scoped resource. Every function takes a [`Scope`] and never
//! touches a row of another scope: personal rows are the user's own with no team; team rows
//! are the team's, and only while the user is a member (checked inside each query).
//!
//! The list query is written per scope kind rather than with the generic
//! [`scope::condition`], so that its `WHERE` implies the partial indexes'
//! (`team_id IS NULL` / `team_id IS NOT NULL`) and the planner can use them.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::scope::{self, Scope};
use crate::{Result, Store, StoreError, new_id, now_ms};

/// A chat session (its messages, summary and activity time live in [`crate::chat_messages`]).
#[derive(Debug, Clone, Serialize)]
pub struct ChatSession {
    /// Opaque id.
    pub id: String,
    /// Who created it.
    pub owner_id: String,
    /// The team it belongs to; None for a personal session.
    pub team_id: Option<String>,
    /// Title shown in the list.
    pub title: String,
    /// Archived sessions are hidden from the default list.
    pub archived: bool,
    /// Model last used, if any.
    pub active_model: Option<String>,
    /// Created, ms.
    pub created_at: i64,
    /// Last changed, ms.
    pub updated_at: i64,
}

/// A change to a session; None leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ChatSessionPatch {
    /// New title.
    pub title: Option<String>,
    /// Archive or unarchive.
    pub archived: Option<bool>,
}

const COLUMNS: &str =
    "t.id, t.owner_id, t.team_id, t.title, t.archived, t.active_model, t.created_at, t.updated_at";

fn from_row(r: &AnyRow) -> Result<ChatSession> {
    Ok(ChatSession {
        id: r.try_get("id")?,
        owner_id: r.try_get("owner_id")?,
        team_id: r.try_get("team_id")?,
        title: r.try_get("title")?,
        archived: r.try_get::<i64, _>("archived")? != 0,
        active_model: r.try_get("active_model")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The list query for a scope kind; parameters: $1 user, $2 team (team scope only), then the
/// archived filter (NULL for both).
pub fn list_sql(scope: &Scope) -> String {
    match scope {
        Scope::Personal { .. } => format!(
            "SELECT {COLUMNS} FROM chat_sessions t \
             WHERE t.team_id IS NULL AND t.owner_id = $1 AND ($2 IS NULL OR t.archived = $2) \
             ORDER BY t.updated_at DESC, t.id DESC"
        ),
        Scope::Team { .. } => format!(
            "SELECT {COLUMNS} FROM chat_sessions t \
             WHERE t.team_id = $2 \
               AND EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = t.team_id AND m.user_id = $1) \
               AND ($3 IS NULL OR t.archived = $3) \
             ORDER BY t.updated_at DESC, t.id DESC"
        ),
    }
}

impl Store {
    /// Creates a session in the scope (owner: the scope's user; team: the scope's team). In a
    /// team scope nothing is written unless the user is a member: Ok(None).
    pub async fn create_chat_session(
        &self,
        scope: &Scope,
        title: &str,
    ) -> Result<Option<ChatSession>> {
        let now = now_ms();
        let s = ChatSession {
            id: new_id(),
            owner_id: scope.user_id().to_string(),
            team_id: scope.team_id().map(str::to_string),
            title: title.to_string(),
            archived: false,
            active_model: None,
            created_at: now,
            updated_at: now,
        };
        let n = sqlx::query(
            "INSERT INTO chat_sessions (id, owner_id, team_id, title, archived, created_at, updated_at, last_activity_at) \
             SELECT $1, $2, $3, $4, 0, $5, $5, $5 WHERE $3 IS NULL \
               OR EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = $3 AND m.user_id = $2)",
        )
        .bind(&s.id)
        .bind(&s.owner_id)
        .bind(&s.team_id)
        .bind(&s.title)
        .bind(now)
        .execute(self.writer())
        .await
        .map_err(StoreError::from_sqlx)?
        .rows_affected();
        Ok((n > 0).then_some(s))
    }

    /// The scope's sessions, most recently changed first, optionally only archived (true) or
    /// only active (false) ones. One query.
    pub async fn list_chat_sessions(
        &self,
        scope: &Scope,
        archived: Option<bool>,
    ) -> Result<Vec<ChatSession>> {
        let archived = archived.map(i64::from);
        let q = sqlx::query(sqlx::AssertSqlSafe(list_sql(scope))).bind(scope.user_id());
        let q = match scope.team_id() {
            Some(team) => q.bind(team.to_string()),
            None => q,
        };
        let rows = q.bind(archived).fetch_all(self.reader()).await?;
        rows.iter().map(from_row).collect()
    }

    /// One session, if it is in the scope.
    pub async fn chat_session(&self, scope: &Scope, id: &str) -> Result<Option<ChatSession>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM chat_sessions t WHERE t.id = $1 AND {}",
            scope::condition(2)
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(scope.user_id())
            .bind(scope.team_id())
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Changes a session in the scope and returns it; None when it is not in the scope.
    pub async fn update_chat_session(
        &self,
        scope: &Scope,
        id: &str,
        patch: &ChatSessionPatch,
    ) -> Result<Option<ChatSession>> {
        let sql = format!(
            "UPDATE chat_sessions SET title = COALESCE($1, title), \
               archived = COALESCE($2, archived), updated_at = $3 \
             WHERE id IN (SELECT t.id FROM chat_sessions t WHERE t.id = $4 AND {})",
            scope::condition(5)
        );
        let mut tx = self.writer().begin().await?;
        let n = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(patch.title.as_deref())
            .bind(patch.archived.map(i64::from))
            .bind(now_ms())
            .bind(id)
            .bind(scope.user_id())
            .bind(scope.team_id())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        if let Some(t) = &patch.title {
            // The session's messages are searchable under its title.
            sqlx::query(
                "UPDATE passages SET title = $1 WHERE message_id IN \
                   (SELECT id FROM chat_messages WHERE session_id = $2)",
            )
            .bind(t)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        let sql = format!("SELECT {COLUMNS} FROM chat_sessions t WHERE t.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        from_row(&row).map(Some)
    }

    /// Sets (Some) or clears (None: back to the default) the model a session's next messages
    /// use, and returns the session; None when it is not in the scope.
    pub async fn set_chat_session_model(
        &self,
        scope: &Scope,
        id: &str,
        model: Option<&str>,
    ) -> Result<Option<ChatSession>> {
        let sql = format!(
            "UPDATE chat_sessions SET active_model = $1, updated_at = $2 \
             WHERE id IN (SELECT t.id FROM chat_sessions t WHERE t.id = $3 AND {})",
            scope::condition(4)
        );
        let n = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(model)
            .bind(now_ms())
            .bind(id)
            .bind(scope.user_id())
            .bind(scope.team_id())
            .execute(self.writer())
            .await?
            .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        self.chat_session(scope, id).await
    }

    /// Deletes a session in the scope. False when it is not in the scope.
    pub async fn delete_chat_session(&self, scope: &Scope, id: &str) -> Result<bool> {
        let sql = format!(
            "DELETE FROM chat_sessions \
             WHERE id IN (SELECT t.id FROM chat_sessions t WHERE t.id = $1 AND {})",
            scope::condition(2)
        );
        let n = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(scope.user_id())
            .bind(scope.team_id())
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(n > 0)
    }
}
