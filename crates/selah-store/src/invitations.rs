//! Team invitations: one-time, expiring, attempt-limited codes. The store keeps only a hash
//! of each code's secret; the comparison is made by the caller's constant-time check.
//!
//! Redemption runs in one transaction that first takes a write lock on the invitation's row
//! (a no-op `UPDATE`), so two concurrent redemptions of one code are serialised and exactly
//! one of them finds it unused.

use selah_core::TeamRole;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::teams::parse_team_role;
use crate::{Result, Store, StoreError, now_ms};

/// An invitation as listed to team managers (never the code or its hash).
#[derive(Debug, Clone, Serialize)]
pub struct Invitation {
    /// Opaque id (also the first part of the code).
    pub id: String,
    /// The team.
    pub team_id: String,
    /// Role the redeemer gets.
    pub role: TeamRole,
    /// Who made it.
    pub created_by: Option<String>,
    /// Created, ms.
    pub created_at: i64,
    /// Expires, ms.
    pub expires_at: i64,
    /// Wrong secrets presented so far.
    pub attempts: i64,
    /// Who redeemed it.
    pub used_by: Option<String>,
    /// When it was redeemed, ms.
    pub used_at: Option<i64>,
}

/// What a new invitation needs.
pub struct NewInvitation<'a> {
    /// Id chosen by the caller (it is part of the code handed out).
    pub id: &'a str,
    /// The team.
    pub team_id: &'a str,
    /// Hash of the code's secret part.
    pub code_hash: &'a str,
    /// Role given on redemption (never owner).
    pub role: TeamRole,
    /// The inviter.
    pub created_by: &'a str,
    /// Expiry, ms.
    pub expires_at: i64,
}

/// The outcome of presenting a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption {
    /// The user is now a member.
    Joined {
        /// The team joined.
        team_id: String,
        /// Their role in it.
        role: TeamRole,
    },
    /// No invitation with that id.
    Unknown,
    /// Already redeemed.
    Used,
    /// Past its expiry.
    Expired,
    /// Too many wrong secrets were presented; it no longer works at all.
    Burnt,
    /// The secret did not match; the attempt was counted.
    WrongSecret {
        /// The team it was for (for the audit record).
        team_id: String,
        /// Attempts so far, including this one.
        attempts: i64,
    },
    /// The redeemer already belongs to the team; the invitation stays unused.
    AlreadyMember {
        /// The team.
        team_id: String,
    },
}

const COLUMNS: &str =
    "id, team_id, role, created_by, created_at, expires_at, attempts, used_by, used_at";

fn from_row(r: &AnyRow) -> Result<Invitation> {
    Ok(Invitation {
        id: r.try_get("id")?,
        team_id: r.try_get("team_id")?,
        role: parse_team_role(&r.try_get::<String, _>("role")?)?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        attempts: r.try_get("attempts")?,
        used_by: r.try_get("used_by")?,
        used_at: r.try_get("used_at")?,
    })
}

impl Store {
    /// Stores a new invitation.
    pub async fn create_invitation(&self, n: NewInvitation<'_>) -> Result<Invitation> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO team_invitations (id, team_id, code_hash, role, created_by, created_at, expires_at, attempts) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
        )
        .bind(n.id)
        .bind(n.team_id)
        .bind(n.code_hash)
        .bind(n.role.as_str())
        .bind(n.created_by)
        .bind(now)
        .bind(n.expires_at)
        .execute(self.writer())
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(Invitation {
            id: n.id.to_string(),
            team_id: n.team_id.to_string(),
            role: n.role,
            created_by: Some(n.created_by.to_string()),
            created_at: now,
            expires_at: n.expires_at,
            attempts: 0,
            used_by: None,
            used_at: None,
        })
    }

    /// A team's invitations, newest first (used and expired ones included, so managers see
    /// what happened to each).
    pub async fn team_invitations(&self, team_id: &str) -> Result<Vec<Invitation>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM team_invitations WHERE team_id = $1 ORDER BY created_at DESC, id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(team_id)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Deletes one of a team's invitations. False when the team has no such invitation.
    pub async fn delete_invitation(&self, team_id: &str, invitation_id: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM team_invitations WHERE id = $1 AND team_id = $2")
            .bind(invitation_id)
            .bind(team_id)
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Redeems invitation `id` for `user_id` when `secret_matches(stored_hash)` says the
    /// presented secret is right. A wrong secret counts an attempt; at `max_attempts` the
    /// invitation is burnt and even the right secret fails from then on.
    pub async fn redeem_invitation(
        &self,
        id: &str,
        user_id: &str,
        max_attempts: i64,
        secret_matches: impl FnOnce(&str) -> bool + Send,
    ) -> Result<Redemption> {
        let now = now_ms();
        let mut tx = self.writer().begin().await?;
        // Take the row's write lock before reading it (SQLite has no SELECT ... FOR UPDATE).
        let locked = sqlx::query("UPDATE team_invitations SET attempts = attempts WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if locked == 0 {
            return Ok(Redemption::Unknown);
        }
        let row = sqlx::query(
            "SELECT team_id, code_hash, role, expires_at, attempts, used_at FROM team_invitations WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let team_id: String = row.try_get("team_id")?;
        let code_hash: String = row.try_get("code_hash")?;
        let attempts: i64 = row.try_get("attempts")?;
        let role = parse_team_role(&row.try_get::<String, _>("role")?)?;
        if row.try_get::<Option<i64>, _>("used_at")?.is_some() {
            return Ok(Redemption::Used);
        }
        if attempts >= max_attempts {
            return Ok(Redemption::Burnt);
        }
        if row.try_get::<i64, _>("expires_at")? <= now {
            return Ok(Redemption::Expired);
        }
        if !secret_matches(&code_hash) {
            sqlx::query("UPDATE team_invitations SET attempts = attempts + 1 WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Redemption::WrongSecret {
                team_id,
                attempts: attempts + 1,
            });
        }
        let member =
            sqlx::query("SELECT 1 AS one FROM team_members WHERE team_id = $1 AND user_id = $2")
                .bind(&team_id)
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
        if member.is_some() {
            return Ok(Redemption::AlreadyMember { team_id });
        }
        sqlx::query("UPDATE team_invitations SET used_by = $1, used_at = $2 WHERE id = $3")
            .bind(user_id)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO team_members (team_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&team_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        tx.commit().await?;
        Ok(Redemption::Joined { team_id, role })
    }
}
