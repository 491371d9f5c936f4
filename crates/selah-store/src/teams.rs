//! Teams and memberships. Invitations live in [`crate::invitations`].
//!
//! Changes that could leave a team without an owner (demoting or removing an owner) first take
//! a write lock on the team's row (a no-op `UPDATE`), so two owners demoting each other at the
//! same moment are serialised on PostgreSQL as they already are on SQLite's single writer.

use selah_core::TeamRole;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::{Result, Store, StoreError, new_id, now_ms};

/// A team.
#[derive(Debug, Clone, Serialize)]
pub struct Team {
    /// Opaque id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Who created it (None once that account is gone).
    pub created_by: Option<String>,
    /// Creation time, ms.
    pub created_at: i64,
}

/// A team seen by one of its members.
#[derive(Debug, Clone, Serialize)]
pub struct MyTeam {
    /// The team.
    #[serde(flatten)]
    pub team: Team,
    /// The member's role in it.
    pub role: TeamRole,
}

/// One membership.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    /// The user.
    pub user_id: String,
    /// Their username.
    pub username: String,
    /// Their role in the team.
    pub role: TeamRole,
    /// When they joined, ms.
    pub joined_at: i64,
}

/// Why a membership change was refused, or that it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    /// Done.
    Done,
    /// The user is not a member of the team.
    NotMember,
    /// The change would leave the team without an owner.
    LastOwner,
}

fn team_from_row(r: &AnyRow) -> Result<Team> {
    Ok(Team {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(crate) fn parse_team_role(s: &str) -> Result<TeamRole> {
    TeamRole::parse(s).ok_or_else(|| StoreError::Conflict(format!("unknown team role {s}")))
}

/// Locks the team's row for the rest of the transaction; false when there is no such team.
pub(crate) async fn lock_team(tx: &mut Transaction<'_, Any>, team_id: &str) -> Result<bool> {
    let n = sqlx::query("UPDATE teams SET name = name WHERE id = $1")
        .bind(team_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(n > 0)
}

/// Members of a team with the owner role, inside a transaction.
async fn owner_count(tx: &mut Transaction<'_, Any>, team_id: &str) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) AS n FROM team_members WHERE team_id = $1 AND role = 'owner'")
            .bind(team_id)
            .fetch_one(&mut **tx)
            .await?
            .try_get("n")?,
    )
}

async fn role_in_tx(
    tx: &mut Transaction<'_, Any>,
    team_id: &str,
    user_id: &str,
) -> Result<Option<TeamRole>> {
    let row = sqlx::query("SELECT role FROM team_members WHERE team_id = $1 AND user_id = $2")
        .bind(team_id)
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| parse_team_role(&r.try_get::<String, _>("role")?))
        .transpose()
}

impl Store {
    /// The user's role in a team, or None when not a member (or no such team).
    pub async fn team_role(&self, team_id: &str, user_id: &str) -> Result<Option<TeamRole>> {
        let row = sqlx::query("SELECT role FROM team_members WHERE team_id = $1 AND user_id = $2")
            .bind(team_id)
            .bind(user_id)
            .fetch_optional(self.reader())
            .await?;
        Ok(match row {
            Some(r) => TeamRole::parse(&r.try_get::<String, _>("role")?),
            None => None,
        })
    }

    /// Creates a team with `creator` as its owner, atomically.
    pub async fn create_team(&self, name: &str, creator: &str) -> Result<MyTeam> {
        let team = Team {
            id: new_id(),
            name: name.to_string(),
            created_by: Some(creator.to_string()),
            created_at: now_ms(),
        };
        let mut tx = self.writer().begin().await?;
        sqlx::query("INSERT INTO teams (id, name, created_by, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&team.id)
            .bind(&team.name)
            .bind(creator)
            .bind(team.created_at)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        sqlx::query(
            "INSERT INTO team_members (team_id, user_id, role, joined_at) VALUES ($1, $2, 'owner', $3)",
        )
        .bind(&team.id)
        .bind(creator)
        .bind(team.created_at)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        tx.commit().await?;
        Ok(MyTeam {
            team,
            role: TeamRole::Owner,
        })
    }

    /// The teams a user belongs to, with their role, oldest first.
    pub async fn teams_of(&self, user_id: &str) -> Result<Vec<MyTeam>> {
        let rows = sqlx::query(
            "SELECT t.id, t.name, t.created_by, t.created_at, m.role FROM teams t \
             JOIN team_members m ON m.team_id = t.id WHERE m.user_id = $1 \
             ORDER BY t.created_at, t.id",
        )
        .bind(user_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MyTeam {
                    team: team_from_row(r)?,
                    role: parse_team_role(&r.try_get::<String, _>("role")?)?,
                })
            })
            .collect()
    }

    /// A team as seen by `user_id`: None when there is no such team or they are not a member
    /// (the two are deliberately indistinguishable).
    pub async fn team_for_member(&self, team_id: &str, user_id: &str) -> Result<Option<MyTeam>> {
        let row = sqlx::query(
            "SELECT t.id, t.name, t.created_by, t.created_at, m.role FROM teams t \
             JOIN team_members m ON m.team_id = t.id WHERE t.id = $1 AND m.user_id = $2",
        )
        .bind(team_id)
        .bind(user_id)
        .fetch_optional(self.reader())
        .await?;
        row.map(|r| {
            Ok(MyTeam {
                team: team_from_row(&r)?,
                role: parse_team_role(&r.try_get::<String, _>("role")?)?,
            })
        })
        .transpose()
    }

    /// A team's members, owners first, then by join time.
    pub async fn team_members(&self, team_id: &str) -> Result<Vec<Member>> {
        let rows = sqlx::query(
            "SELECT m.user_id, u.username, m.role, m.joined_at FROM team_members m \
             JOIN users u ON u.id = m.user_id WHERE m.team_id = $1 \
             ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'member' THEN 2 ELSE 3 END, \
             m.joined_at, m.user_id",
        )
        .bind(team_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Member {
                    user_id: r.try_get("user_id")?,
                    username: r.try_get("username")?,
                    role: parse_team_role(&r.try_get::<String, _>("role")?)?,
                    joined_at: r.try_get("joined_at")?,
                })
            })
            .collect()
    }

    /// Sets a member's role; refuses to demote the last owner.
    pub async fn set_member_role(
        &self,
        team_id: &str,
        user_id: &str,
        role: TeamRole,
    ) -> Result<MemberChange> {
        let mut tx = self.writer().begin().await?;
        if !lock_team(&mut tx, team_id).await? {
            return Ok(MemberChange::NotMember);
        }
        let Some(current) = role_in_tx(&mut tx, team_id, user_id).await? else {
            return Ok(MemberChange::NotMember);
        };
        if current == TeamRole::Owner
            && role != TeamRole::Owner
            && owner_count(&mut tx, team_id).await? <= 1
        {
            return Ok(MemberChange::LastOwner);
        }
        sqlx::query("UPDATE team_members SET role = $1 WHERE team_id = $2 AND user_id = $3")
            .bind(role.as_str())
            .bind(team_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(MemberChange::Done)
    }

    /// Removes a member; refuses to remove the last owner.
    pub async fn remove_member(&self, team_id: &str, user_id: &str) -> Result<MemberChange> {
        let mut tx = self.writer().begin().await?;
        if !lock_team(&mut tx, team_id).await? {
            return Ok(MemberChange::NotMember);
        }
        let Some(current) = role_in_tx(&mut tx, team_id, user_id).await? else {
            return Ok(MemberChange::NotMember);
        };
        if current == TeamRole::Owner && owner_count(&mut tx, team_id).await? <= 1 {
            return Ok(MemberChange::LastOwner);
        }
        sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2")
            .bind(team_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(MemberChange::Done)
    }

    /// Deletes a team with its memberships, invitations and resources (cascade). False when
    /// there is no such team.
    pub async fn delete_team(&self, team_id: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM teams WHERE id = $1")
            .bind(team_id)
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Adds a member directly (tests and the invitation redemption use this).
    /// [`StoreError::Conflict`] when already a member.
    pub async fn add_member(&self, team_id: &str, user_id: &str, role: TeamRole) -> Result<()> {
        sqlx::query(
            "INSERT INTO team_members (team_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(team_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(now_ms())
        .execute(self.writer())
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }
}
