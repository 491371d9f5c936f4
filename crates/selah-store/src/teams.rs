//! Teams, memberships and invitations.

use selah_core::TeamRole;
use sqlx::Row;

use crate::{Result, Store};

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
}
