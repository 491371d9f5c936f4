//! Scopes: a personal resource has no team; a team resource is visible only to that team's
//! members. Every store query for user-owned rows takes a [`Scope`], and membership is checked
//! inside the query itself, so a handler that forgets to check cannot leak a row.

/// Whose resources a query may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The user's own resources (`team_id IS NULL AND owner_id = user`).
    Personal {
        /// The acting user.
        user_id: String,
    },
    /// A team's resources, seen by a member (`team_id = team AND user is a member`).
    Team {
        /// The acting user.
        user_id: String,
        /// The team.
        team_id: String,
    },
}

impl Scope {
    /// The acting user.
    pub fn user_id(&self) -> &str {
        match self {
            Scope::Personal { user_id } | Scope::Team { user_id, .. } => user_id,
        }
    }

    /// The team, if any.
    pub fn team_id(&self) -> Option<&str> {
        match self {
            Scope::Personal { .. } => None,
            Scope::Team { team_id, .. } => Some(team_id),
        }
    }
}

/// The SQL condition that restricts table alias `t` (with `owner_id` and `team_id` columns) to
/// a scope. Parameters: `$user` is the acting user, `$team` the team id or NULL.
///
/// Written so both are always bound, in this order, at positions `first` and `first + 1`.
pub fn condition(first: usize) -> String {
    let (u, t) = (first, first + 1);
    format!(
        "(( ${t} IS NULL AND t.team_id IS NULL AND t.owner_id = ${u}) \
         OR (${t} IS NOT NULL AND t.team_id = ${t} \
             AND EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = t.team_id AND m.user_id = ${u})))"
    )
}
