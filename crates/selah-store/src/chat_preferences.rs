//! A user's chat preferences: their system prompt, free-form preferences (a JSON object the
//! context builder renders into the prompt) and default model. One row per user, personal in
//! every context (a team chat still speaks to the same person).

use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store, StoreError, now_ms};

/// The stored preferences; [`Default`] when the user never saved any.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChatPreferences {
    /// Instructions put first in every prompt.
    pub system_prompt: Option<String>,
    /// A JSON object of preferences (e.g. `{"tone": "brief"}`).
    pub preferences: serde_json::Map<String, serde_json::Value>,
    /// The model new messages use when the session names none.
    pub default_model: Option<String>,
}

impl Store {
    /// The user's chat preferences (defaults when none are stored).
    pub async fn chat_preferences(&self, user_id: &str) -> Result<ChatPreferences> {
        let row = sqlx::query(
            "SELECT system_prompt, preferences, default_model FROM user_preferences WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else {
            return Ok(ChatPreferences::default());
        };
        let prefs: String = row.try_get("preferences")?;
        Ok(ChatPreferences {
            system_prompt: row.try_get("system_prompt")?,
            // Written by this module from a Map, so it parses; an unreadable value is treated
            // as empty rather than failing every chat.
            preferences: serde_json::from_str(&prefs).unwrap_or_default(),
            default_model: row.try_get("default_model")?,
        })
    }

    /// Replaces the user's chat preferences.
    pub async fn put_chat_preferences(&self, user_id: &str, p: &ChatPreferences) -> Result<()> {
        let prefs = serde_json::Value::Object(p.preferences.clone()).to_string();
        sqlx::query(
            "INSERT INTO user_preferences (user_id, system_prompt, preferences, default_model, updated_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id) DO UPDATE SET system_prompt = $2, preferences = $3, \
               default_model = $4, updated_at = $5",
        )
        .bind(user_id)
        .bind(p.system_prompt.as_deref())
        .bind(prefs)
        .bind(p.default_model.as_deref())
        .bind(now_ms())
        .execute(self.writer())
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }
}
