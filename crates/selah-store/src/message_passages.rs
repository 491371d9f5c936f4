//! Chat messages as searchable passages: finished user and assistant messages are cut into
//! passages under their session's owner, team and title, searchable at once by full text; the
//! worker's backlog embeds them like any passage without a vector. The passages go with their
//! message (foreign key, cascade), so deleting a message or a session leaves nothing to find.

use sqlx::Row;

use crate::passages::NewPassage;
use crate::{Result, Store, now_ms};

/// A finished message that has no passages yet.
#[derive(Debug, Clone)]
pub struct UnindexedMessage {
    /// Message id.
    pub id: String,
    /// Its session's owner.
    pub owner_id: String,
    /// Its session's team.
    pub team_id: Option<String>,
    /// Its session's title.
    pub title: String,
    /// The message text.
    pub content: String,
}

impl Store {
    /// Up to `limit` finished user and assistant messages with text and no passages, oldest
    /// first. Replies still streaming or failed wait or are left out.
    pub async fn unindexed_chat_messages(&self, limit: i64) -> Result<Vec<UnindexedMessage>> {
        let rows = sqlx::query(
            "SELECT m.id, s.owner_id, s.team_id, s.title, m.content \
             FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id \
             WHERE m.role IN ('user', 'assistant') AND m.status IN ('complete', 'incomplete') \
               AND TRIM(m.content) <> '' \
               AND NOT EXISTS (SELECT 1 FROM passages p WHERE p.message_id = m.id) \
             ORDER BY m.created_at, m.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(UnindexedMessage {
                    id: r.try_get("id")?,
                    owner_id: r.try_get("owner_id")?,
                    team_id: r.try_get("team_id")?,
                    title: r.try_get("title")?,
                    content: r.try_get("content")?,
                })
            })
            .collect()
    }

    /// Stores a message's passages, searchable at once, unless it has some already or is gone
    /// (deleted since it was read). Returns how many were written.
    pub async fn put_message_passages(
        &self,
        message: &UnindexedMessage,
        passages: &[NewPassage],
    ) -> Result<u64> {
        let mut tx = self.writer().begin().await?;
        let live: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM chat_messages m WHERE m.id = $1 \
               AND NOT EXISTS (SELECT 1 FROM passages p WHERE p.message_id = m.id)",
        )
        .bind(&message.id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if live == 0 {
            return Ok(0);
        }
        let now = now_ms();
        for p in passages {
            sqlx::query(
                "INSERT INTO passages (message_id, owner_id, team_id, generation, seq, char_start, \
                   char_end, title, heading, text, tokens, searchable, created_at) \
                 VALUES ($1, $2, $3, 0, $4, $5, $6, $7, NULL, $8, $9, 1, $10)",
            )
            .bind(&message.id)
            .bind(&message.owner_id)
            .bind(message.team_id.as_deref())
            .bind(p.seq)
            .bind(p.char_start)
            .bind(p.char_end)
            .bind(&message.title)
            .bind(&p.text)
            .bind(p.tokens)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(passages.len() as u64)
    }
}
