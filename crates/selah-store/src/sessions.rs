//! Login sessions and API tokens. Only the SHA-256 of a token is stored; the token itself
//! exists only in the client's hands.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::users::User;
use crate::{Result, Store, StoreError, new_id, now_ms};

/// A session as listed to its owner (no hash).
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    /// Public id (for listing and revoking).
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// `browser` (cookie) or `token` (bearer).
    pub kind: String,
    /// Created, ms.
    pub created_at: i64,
    /// Last used, ms (updated at most once a minute).
    pub last_seen_at: i64,
    /// Absolute expiry, ms.
    pub expires_at: i64,
    /// Founder step-up valid until, ms (0: none).
    pub step_up_until: i64,
    /// Client address at login.
    pub ip: Option<String>,
    /// Client user agent at login.
    pub user_agent: Option<String>,
}

/// What a new session needs.
pub struct NewSession<'a> {
    /// SHA-256 (hex) of the token.
    pub token_hash: &'a str,
    /// Owner.
    pub user_id: &'a str,
    /// `browser` or `token`.
    pub kind: &'a str,
    /// Absolute lifetime in ms.
    pub lifetime_ms: i64,
    /// Client address.
    pub ip: Option<&'a str>,
    /// Client user agent.
    pub user_agent: Option<&'a str>,
}

const SESSION_COLUMNS: &str = "s.id, s.user_id, s.kind, s.created_at, s.last_seen_at, s.expires_at, s.step_up_until, s.ip, s.user_agent";

fn session_from_row(r: &AnyRow) -> Result<Session> {
    Ok(Session {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        kind: r.try_get("kind")?,
        created_at: r.try_get("created_at")?,
        last_seen_at: r.try_get("last_seen_at")?,
        expires_at: r.try_get("expires_at")?,
        step_up_until: r.try_get("step_up_until")?,
        ip: r.try_get("ip")?,
        user_agent: r.try_get("user_agent")?,
    })
}

/// How stale `last_seen_at` may get before a request refreshes it. Idle timeouts are measured
/// in minutes, so a write on every request would only cost throughput.
pub const TOUCH_GRANULARITY_MS: i64 = 60_000;

impl Store {
    /// Stores a new session.
    pub async fn create_session(&self, s: NewSession<'_>) -> Result<Session> {
        let id = new_id();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, kind, created_at, last_seen_at, expires_at, step_up_until, ip, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $5, $6, 0, $7, $8)",
        )
        .bind(&id)
        .bind(s.token_hash)
        .bind(s.user_id)
        .bind(s.kind)
        .bind(now)
        .bind(now + s.lifetime_ms)
        .bind(s.ip)
        .bind(s.user_agent)
        .execute(self.writer())
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(Session {
            id,
            user_id: s.user_id.into(),
            kind: s.kind.into(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + s.lifetime_ms,
            step_up_until: 0,
            ip: s.ip.map(Into::into),
            user_agent: s.user_agent.map(Into::into),
        })
    }

    /// The live session for a token hash and its user, if the session exists, has not passed its
    /// absolute expiry and has been used within `idle_ms`. Refreshes `last_seen_at` when stale.
    pub async fn session_by_token(
        &self,
        token_hash: &str,
        idle_ms: i64,
    ) -> Result<Option<(Session, User)>> {
        let now = now_ms();
        if let Some(hit) = self.sessions.get(token_hash, now, idle_ms) {
            return Ok(Some(hit));
        }
        let sql = format!(
            "SELECT {SESSION_COLUMNS}, u.username, u.password_hash, u.role, u.disabled, u.created_at AS user_created_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(now)
            .bind(now - idle_ms)
            .fetch_optional(self.reader())
            .await?;
        let Some(r) = row else { return Ok(None) };
        let session = session_from_row(&r)?;
        let role: String = r.try_get("role")?;
        let user = User {
            id: session.user_id.clone(),
            username: r.try_get("username")?,
            password_hash: r.try_get("password_hash")?,
            role: selah_core::Role::parse(&role)
                .ok_or_else(|| StoreError::Conflict(format!("unknown role {role}")))?,
            disabled: r.try_get::<i64, _>("disabled")? != 0,
            created_at: r.try_get("user_created_at")?,
        };
        if now - session.last_seen_at > TOUCH_GRANULARITY_MS {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&session.id)
                .execute(self.writer())
                .await?;
        }
        self.sessions.put(token_hash, &session, &user);
        Ok(Some((session, user)))
    }

    /// A user's live sessions, newest first.
    pub async fn list_sessions(&self, user_id: &str) -> Result<Vec<Session>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.user_id = $1 AND s.expires_at > $2 ORDER BY s.created_at DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(now_ms())
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(session_from_row).collect()
    }

    /// A user's sessions that are still usable: before their absolute expiry and used within
    /// `idle_ms`. Newest first.
    pub async fn live_sessions(&self, user_id: &str, idle_ms: i64) -> Result<Vec<Session>> {
        let now = now_ms();
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.user_id = $1 AND s.expires_at > $2 \
             AND s.last_seen_at > $3 ORDER BY s.created_at DESC, s.id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(now)
            .bind(now - idle_ms)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(session_from_row).collect()
    }

    /// Deletes one of a user's sessions. False when the user has no such session.
    pub async fn revoke_session(&self, user_id: &str, session_id: &str) -> Result<bool> {
        self.sessions.clear();
        let n = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(session_id)
            .bind(user_id)
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Marks a session as having re-entered the founder password until `until_ms`.
    pub async fn set_step_up(&self, session_id: &str, until_ms: i64) -> Result<()> {
        self.sessions.clear();
        sqlx::query("UPDATE sessions SET step_up_until = $1 WHERE id = $2")
            .bind(until_ms)
            .bind(session_id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Deletes sessions past their absolute expiry or idle longer than `idle_ms`; returns how many.
    pub async fn delete_expired_sessions(&self, idle_ms: i64) -> Result<u64> {
        self.sessions.clear();
        let now = now_ms();
        Ok(
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                .bind(now)
                .bind(now - idle_ms)
                .execute(self.writer())
                .await?
                .rows_affected(),
        )
    }

    /// Test support: moves a session's clock back, to simulate idleness or age.
    #[doc(hidden)]
    pub async fn age_session(&self, session_id: &str, by_ms: i64) -> Result<()> {
        self.sessions.clear();
        sqlx::query(
            "UPDATE sessions SET created_at = created_at - $1, last_seen_at = last_seen_at - $1, expires_at = expires_at - $1 WHERE id = $2",
        )
        .bind(by_ms)
        .bind(session_id)
        .execute(self.writer())
        .await?;
        Ok(())
    }
}
