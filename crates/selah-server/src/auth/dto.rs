//! Shapes shared by the account endpoints, and the input rules they apply (also used by the
//! CLI, so `selah user add` refuses exactly what the API refuses).

use selah_core::Role;
use selah_store::users::User;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};

/// A user as the API shows them (never the password hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    /// Opaque id.
    pub id: String,
    /// Name as typed at creation.
    pub username: String,
    /// Global role.
    pub role: Role,
    /// Disabled accounts cannot sign in.
    pub disabled: bool,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.clone(),
            username: u.username.clone(),
            role: u.role,
            disabled: u.disabled,
            created_at: u.created_at,
        }
    }
}

/// `{"user": …}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserEnvelope {
    /// The user.
    pub user: UserView,
}

/// Checks a username: 3 to 64 characters from `A-Z a-z 0-9 . _ -`.
pub fn check_username(username: &str) -> ApiResult<()> {
    let n = username.chars().count();
    let ok_chars = username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !(3..=64).contains(&n) || !ok_chars {
        return Err(ApiError::validation(
            "the username must be 3 to 64 characters of letters, digits, '.', '_' or '-'",
        ));
    }
    Ok(())
}

/// Parses a role name for a new or changed account; `founder` is never accepted (the founder
/// is made by setup only).
pub fn parse_assignable_role(role: &str) -> ApiResult<Role> {
    match Role::parse(role) {
        Some(Role::Founder) => Err(ApiError::validation(
            "nobody can be made founder: the founder is created once, at setup",
        )),
        Some(r) => Ok(r),
        None => Err(ApiError::validation(
            "the role must be one of super_admin, admin, member, guest",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["abc", "a.b-c_d", "A1b", &"x".repeat(64)] {
            assert!(check_username(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "", "has space", "ünï", "a/b", &"x".repeat(65)] {
            assert!(check_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles() {
        assert_eq!(parse_assignable_role("admin").unwrap(), Role::Admin);
        assert!(parse_assignable_role("founder").is_err());
        assert!(parse_assignable_role("root").is_err());
    }
}
