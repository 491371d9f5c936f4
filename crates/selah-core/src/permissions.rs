//! The permission policy: keys, roles and their baselines, per-user grants and denials, team
//! roles, and the evaluation that says for every key whether it is granted and why.
//!
//! Precedence, strongest first: the founder has everything; a per-user denial; a per-user
//! grant; in a team context the team role's baseline for team-scoped keys; the global role's
//! baseline. Administrative keys (`admin.*`, `data.*`, `backups.*`, `mesh.*`) come only from the
//! global role and per-user grants: a team role never makes someone an administrator.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! permissions {
    // `tt`, not `literal`: a `literal` fragment reaches the derive macros wrapped in an invisible
    // group, which utoipa does not read, so the API document showed the Rust names.
    ($($variant:ident = $key:tt, $team:tt;)*) => {
        /// A permission key such as `docs.read`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        pub enum Permission {
            $(#[doc = $key] #[serde(rename = $key)] $variant,)*
        }

        impl Permission {
            /// Every key, in documentation order.
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            /// The key as written in the API and the database (`docs.read`).
            pub fn key(self) -> &'static str {
                match self { $(Permission::$variant => $key,)* }
            }

            /// True for keys that a team role can give within that team.
            pub fn team_scoped(self) -> bool {
                match self { $(Permission::$variant => $team,)* }
            }
        }
    };
}

permissions! {
    ChatUse = "chat.use", true;
    ChatManageSessions = "chat.manage_sessions", true;
    DocsRead = "docs.read", true;
    DocsWrite = "docs.write", true;
    VaultUse = "vault.use", true;
    WorkflowsView = "workflows.view", true;
    WorkflowsExecute = "workflows.execute", true;
    WorkflowsManage = "workflows.manage", true;
    LiveJoin = "live.join", true;
    LiveHost = "live.host", true;
    DataRunSql = "data.run_sql", false;
    BackupsManage = "backups.manage", false;
    MeshManage = "mesh.manage", false;
    AdminManageUsers = "admin.manage_users", false;
    AdminViewAudit = "admin.view_audit", false;
    AdminManageSettings = "admin.manage_settings", false;
    AdminCleanup = "admin.cleanup", false;
    FounderAll = "founder.all", false;
}

impl Permission {
    /// Parses a key such as `docs.read`.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.key() == key)
    }

    /// The group shown in the permissions screen: the part before the dot.
    pub fn category(self) -> &'static str {
        self.key().split('.').next().unwrap_or("")
    }
}

/// A user's global role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The person who set Selah up. Exactly one.
    Founder,
    /// Everything but the founder's own rights.
    SuperAdmin,
    /// Runs users, audit and cleanup.
    Admin,
    /// Uses every feature.
    Member,
    /// Reads and joins, does not write.
    Guest,
}

impl Role {
    /// All roles, strongest first.
    pub const ALL: &'static [Role] = &[
        Role::Founder,
        Role::SuperAdmin,
        Role::Admin,
        Role::Member,
        Role::Guest,
    ];

    /// The stored name (`super_admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Founder => "founder",
            Role::SuperAdmin => "super_admin",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Guest => "guest",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.as_str() == s)
    }

    /// The keys this role has before grants and denials.
    pub fn baseline(self) -> &'static [Permission] {
        use Permission::*;
        const MEMBER: &[Permission] = &[
            ChatUse,
            ChatManageSessions,
            DocsRead,
            DocsWrite,
            VaultUse,
            WorkflowsView,
            WorkflowsExecute,
            LiveJoin,
            LiveHost,
        ];
        const ADMIN: &[Permission] = &[
            ChatUse,
            ChatManageSessions,
            DocsRead,
            DocsWrite,
            VaultUse,
            WorkflowsView,
            WorkflowsExecute,
            WorkflowsManage,
            LiveJoin,
            LiveHost,
            AdminManageUsers,
            AdminViewAudit,
            AdminCleanup,
        ];
        const SUPER_ADMIN: &[Permission] = &[
            ChatUse,
            ChatManageSessions,
            DocsRead,
            DocsWrite,
            VaultUse,
            WorkflowsView,
            WorkflowsExecute,
            WorkflowsManage,
            LiveJoin,
            LiveHost,
            DataRunSql,
            BackupsManage,
            MeshManage,
            AdminManageUsers,
            AdminViewAudit,
            AdminManageSettings,
            AdminCleanup,
        ];
        match self {
            Role::Founder => Permission::ALL,
            Role::SuperAdmin => SUPER_ADMIN,
            Role::Admin => ADMIN,
            Role::Member => MEMBER,
            Role::Guest => &[ChatUse, DocsRead, WorkflowsView, LiveJoin],
        }
    }

    /// Whether someone with role `self` may set another user's role from `from` to `to`
    /// (before step-up, which the founder needs for anything touching admin roles).
    pub fn may_change_role(self, from: Role, to: Role) -> bool {
        if from == Role::Founder || to == Role::Founder {
            return false; // the founder is made by setup only
        }
        match self {
            Role::Founder => true,
            Role::SuperAdmin | Role::Admin => from >= Role::Member && to >= Role::Member,
            _ => false,
        }
    }

    /// True when changing a user between these roles is a founder-only action.
    pub fn change_needs_founder(from: Role, to: Role) -> bool {
        from <= Role::Admin || to <= Role::Admin
    }
}

/// A user's role within one team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TeamRole {
    /// Manages the team: members, invitations, roles.
    Owner,
    /// Manages the team's content and invites people.
    Admin,
    /// Uses the team's resources.
    Member,
    /// Reads the team's resources.
    Guest,
}

impl TeamRole {
    /// All team roles, strongest first.
    pub const ALL: &'static [TeamRole] = &[
        TeamRole::Owner,
        TeamRole::Admin,
        TeamRole::Member,
        TeamRole::Guest,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::Owner => "owner",
            TeamRole::Admin => "admin",
            TeamRole::Member => "member",
            TeamRole::Guest => "guest",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.as_str() == s)
    }

    /// Team-scoped keys this team role gives within its team.
    pub fn baseline(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            TeamRole::Owner | TeamRole::Admin => &[
                ChatUse,
                ChatManageSessions,
                DocsRead,
                DocsWrite,
                VaultUse,
                WorkflowsView,
                WorkflowsExecute,
                WorkflowsManage,
                LiveJoin,
                LiveHost,
            ],
            TeamRole::Member => &[
                ChatUse,
                ChatManageSessions,
                DocsRead,
                DocsWrite,
                VaultUse,
                WorkflowsView,
                WorkflowsExecute,
                LiveJoin,
                LiveHost,
            ],
            TeamRole::Guest => &[ChatUse, DocsRead, WorkflowsView, LiveJoin],
        }
    }

    /// May invite people and manage members.
    pub fn manages_members(self) -> bool {
        matches!(self, TeamRole::Owner | TeamRole::Admin)
    }
}

/// Whether a per-user override grants or denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Adds the key.
    Grant,
    /// Removes the key, whatever else would give it.
    Deny,
}

/// Why a key ended up granted or denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The founder holds every key.
    Founder,
    /// A per-user denial.
    Denial,
    /// A per-user grant.
    Grant,
    /// The role within the current team.
    TeamRole,
    /// The global role's baseline.
    RoleBaseline,
    /// Nothing gives it.
    NotInBaseline,
}

/// One key's outcome.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Decision {
    /// The key.
    pub key: Permission,
    /// Its category (`docs`, `admin`, `founder`).
    pub category: &'static str,
    /// Whether it is granted.
    pub granted: bool,
    /// What decided it.
    pub source: Source,
}

/// Everything that decides a user's permissions.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// Global role.
    pub role: Role,
    /// Per-user overrides.
    pub overrides: &'a [(Permission, Effect)],
    /// The team role when acting in a team context.
    pub team_role: Option<TeamRole>,
}

impl Subject<'_> {
    /// The decision for one key.
    pub fn decide(&self, key: Permission) -> Decision {
        let (granted, source) = self.evaluate(key);
        Decision {
            key,
            category: key.category(),
            granted,
            source,
        }
    }

    /// Whether one key is granted.
    pub fn allows(&self, key: Permission) -> bool {
        self.evaluate(key).0
    }

    /// Every key's decision.
    pub fn effective(&self) -> Vec<Decision> {
        Permission::ALL.iter().map(|k| self.decide(*k)).collect()
    }

    fn evaluate(&self, key: Permission) -> (bool, Source) {
        if self.role == Role::Founder {
            return (true, Source::Founder);
        }
        if key == Permission::FounderAll {
            return (false, Source::NotInBaseline);
        }
        let over = self
            .overrides
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, e)| *e);
        match over {
            Some(Effect::Deny) => return (false, Source::Denial),
            Some(Effect::Grant) => return (true, Source::Grant),
            None => {}
        }
        if let (Some(team_role), true) = (self.team_role, key.team_scoped()) {
            return if team_role.baseline().contains(&key) {
                (true, Source::TeamRole)
            } else {
                (false, Source::TeamRole)
            };
        }
        if self.role.baseline().contains(&key) {
            (true, Source::RoleBaseline)
        } else {
            (false, Source::NotInBaseline)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;

    fn subject(role: Role) -> Subject<'static> {
        Subject {
            role,
            overrides: &[],
            team_role: None,
        }
    }

    #[test]
    fn keys_round_trip_and_the_list_is_complete() {
        assert_eq!(Permission::ALL.len(), 18);
        for p in Permission::ALL {
            assert_eq!(Permission::from_key(p.key()), Some(*p));
            assert_eq!(serde_json::to_value(p).unwrap(), serde_json::json!(p.key()));
        }
    }

    #[test]
    fn baselines_are_nested_from_guest_to_founder() {
        for pair in Role::ALL.windows(2) {
            for p in pair[1].baseline() {
                assert!(
                    pair[0].baseline().contains(p),
                    "{:?} lacks {:?} that {:?} has",
                    pair[0],
                    p,
                    pair[1]
                );
            }
        }
    }

    #[test]
    fn founder_all_only_for_the_founder_and_never_grantable() {
        let grant = [(FounderAll, Effect::Grant)];
        let s = Subject {
            role: Role::SuperAdmin,
            overrides: &grant,
            team_role: None,
        };
        assert!(!s.allows(FounderAll));
        assert!(subject(Role::Founder).allows(FounderAll));
    }

    #[test]
    fn denial_beats_grant_beats_baseline() {
        let o = [(DocsWrite, Effect::Deny), (AdminViewAudit, Effect::Grant)];
        let s = Subject {
            role: Role::Member,
            overrides: &o,
            team_role: None,
        };
        assert_eq!(s.decide(DocsWrite).source, Source::Denial);
        assert!(!s.allows(DocsWrite));
        assert!(s.allows(AdminViewAudit));
        assert_eq!(s.decide(DocsRead).source, Source::RoleBaseline);
        assert_eq!(s.decide(DataRunSql).source, Source::NotInBaseline);
    }

    #[test]
    fn team_role_decides_team_keys_but_not_admin_keys() {
        let s = Subject {
            role: Role::Admin,
            overrides: &[],
            team_role: Some(TeamRole::Guest),
        };
        assert!(!s.allows(DocsWrite));
        assert_eq!(s.decide(DocsWrite).source, Source::TeamRole);
        assert!(s.allows(AdminViewAudit));
        let g = Subject {
            role: Role::Guest,
            overrides: &[],
            team_role: Some(TeamRole::Owner),
        };
        assert!(g.allows(WorkflowsManage));
        assert!(!g.allows(AdminManageUsers));
    }

    #[test]
    fn role_changes() {
        assert!(Role::Admin.may_change_role(Role::Guest, Role::Member));
        assert!(!Role::Admin.may_change_role(Role::Member, Role::Admin));
        assert!(!Role::Member.may_change_role(Role::Guest, Role::Member));
        assert!(!Role::Founder.may_change_role(Role::Member, Role::Founder));
        assert!(Role::change_needs_founder(Role::Member, Role::Admin));
        assert!(!Role::change_needs_founder(Role::Member, Role::Guest));
    }
}
