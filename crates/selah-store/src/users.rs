//! User accounts.

use selah_core::Role;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError, new_id, now_ms};

/// A user account as stored (the password hash stays inside the store crate's callers that
/// need it; it is skipped when serialised).
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// Opaque id.
    pub id: String,
    /// Display name, as typed at creation.
    pub username: String,
    /// The PHC-format argon2id hash.
    #[serde(skip)]
    pub password_hash: String,
    /// Global role.
    pub role: Role,
    /// A disabled user cannot log in and their sessions are ended.
    pub disabled: bool,
    /// Creation time, ms.
    pub created_at: i64,
}

const COLUMNS: &str = "id, username, password_hash, role, disabled, created_at";

fn from_row(r: &AnyRow) -> Result<User> {
    let role: String = r.try_get("role")?;
    Ok(User {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        password_hash: r.try_get("password_hash")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Conflict(format!("unknown role {role}")))?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

/// The key usernames are unique by: trimmed and lower-cased.
pub fn username_key(username: &str) -> String {
    username.trim().to_lowercase()
}

impl Store {
    /// Number of users (0 before setup).
    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(self.reader())
            .await?
            .try_get("n")?)
    }

    /// Creates a user. [`StoreError::Conflict`] when the name is taken.
    pub async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
    ) -> Result<User> {
        let id = new_id();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO users (id, username, username_key, password_hash, role, disabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6, $6)",
        )
        .bind(&id)
        .bind(username.trim())
        .bind(username_key(username))
        .bind(password_hash)
        .bind(role.as_str())
        .bind(now)
        .execute(self.writer())
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(User {
            id,
            username: username.trim().to_string(),
            password_hash: password_hash.to_string(),
            role,
            disabled: false,
            created_at: now,
        })
    }

    /// Creates the founder only if no user exists yet, atomically. `Ok(None)` when a user exists.
    pub async fn create_founder(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<Option<User>> {
        let mut tx = self.writer().begin().await?;
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        if n > 0 {
            return Ok(None);
        }
        let id = new_id();
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO users (id, username, username_key, password_hash, role, disabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'founder', 0, $5, $5)",
        )
        .bind(&id)
        .bind(username.trim())
        .bind(username_key(username))
        .bind(password_hash)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            // Another instance made the founder between our count and insert.
            Err(e) => match StoreError::from_sqlx(e) {
                StoreError::Conflict(_) => return Ok(None),
                other => return Err(other),
            },
        }
        tx.commit().await?;
        Ok(Some(User {
            id,
            username: username.trim().to_string(),
            password_hash: password_hash.to_string(),
            role: Role::Founder,
            disabled: false,
            created_at: now,
        }))
    }

    /// A user by id.
    pub async fn user(&self, id: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// A user by name, case-insensitively.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE username_key = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(username_key(username))
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every user, oldest first.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users ORDER BY created_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Replaces a user's password hash and ends all their sessions. False when no such user.
    pub async fn set_password(&self, id: &str, password_hash: &str) -> Result<bool> {
        self.sessions.clear();
        let mut tx = self.writer().begin().await?;
        let n = sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Replaces a user's password hash and ends every session of theirs except `keep_session`
    /// (the one the change was made from). False when no such user.
    pub async fn change_password(
        &self,
        id: &str,
        password_hash: &str,
        keep_session: &str,
    ) -> Result<bool> {
        self.sessions.clear();
        let mut tx = self.writer().begin().await?;
        let n = sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(id)
            .bind(keep_session)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Disables or re-enables a user; disabling ends their sessions. False when no such user.
    pub async fn set_disabled(&self, id: &str, disabled: bool) -> Result<bool> {
        self.sessions.clear();
        let mut tx = self.writer().begin().await?;
        let n = sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(disabled))
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Sets a user's global role. False when no such user. The founder's role cannot change
    /// here, nor can anyone become founder (the database's one-founder index also refuses).
    pub async fn set_role(&self, id: &str, role: Role) -> Result<bool> {
        self.sessions.clear();
        let n = sqlx::query(
            "UPDATE users SET role = $1, updated_at = $2 WHERE id = $3 AND role <> 'founder'",
        )
        .bind(role.as_str())
        .bind(now_ms())
        .bind(id)
        .execute(self.writer())
        .await
        .map_err(StoreError::from_sqlx)?
        .rows_affected();
        Ok(n > 0)
    }
}
