//! Authorization made hard to forget: a handler that needs a permission takes
//! `Require<perm::X>` as an argument, and cannot run unless the caller holds `X` in the
//! request's context (personal, or the team named by the `X-Selah-Team` header, whose
//! membership is verified here). `founder.all` additionally needs a recent step-up.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use selah_core::permissions::Subject;
use selah_core::{ErrorCode, Permission, TeamRole};
use selah_store::Scope;

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;

/// Header naming the team a request acts in (absent: personal context).
pub const TEAM_HEADER: &str = "x-selah-team";

/// A type standing for one permission key.
pub trait PermissionKey: Send + Sync + 'static {
    /// The key.
    const KEY: Permission;
}

/// Marker types, one per permission key.
pub mod perm {
    use super::PermissionKey;
    use selah_core::Permission;

    macro_rules! markers {
        ($($name:ident),* $(,)?) => {$(
            #[doc = concat!("Marker for `Permission::", stringify!($name), "`.")]
            pub struct $name;
            impl PermissionKey for $name {
                const KEY: Permission = Permission::$name;
            }
        )*};
    }

    markers!(
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
        FounderAll,
    );
}

/// The request's context: the scope its resources live in and the caller's team role there.
#[derive(Debug, Clone)]
pub struct Context {
    /// Personal or team scope, membership verified.
    pub scope: Scope,
    /// The caller's role in the team, when in a team context.
    pub team_role: Option<TeamRole>,
}

impl Context {
    /// Resolves the context from the `X-Selah-Team` header.
    pub async fn resolve(
        parts: &Parts,
        state: &AppState,
        user: &CurrentUser,
    ) -> Result<Self, ApiError> {
        let team = parts
            .headers
            .get(TEAM_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty());
        match team {
            None => Ok(Context {
                scope: Scope::Personal {
                    user_id: user.id().to_string(),
                },
                team_role: None,
            }),
            Some(team_id) => {
                if team_id.len() > 64 {
                    return Err(ApiError::bad_request(
                        "the X-Selah-Team header is not a team id",
                    ));
                }
                let role = state
                    .store
                    .team_role(team_id, user.id())
                    .await?
                    .ok_or_else(|| ApiError::not_found("team"))?;
                Ok(Context {
                    scope: Scope::Team {
                        user_id: user.id().to_string(),
                        team_id: team_id.to_string(),
                    },
                    team_role: Some(role),
                })
            }
        }
    }
}

/// Proof that the caller holds permission `P` in the request's context.
pub struct Require<P: PermissionKey> {
    /// The caller.
    pub user: CurrentUser,
    /// The scope the request acts in.
    pub scope: Scope,
    /// The caller's team role, in a team context.
    pub team_role: Option<TeamRole>,
    _key: PhantomData<P>,
}

impl<P: PermissionKey> Require<P> {
    /// Whether the caller also holds `other` in the same context (for a handler whose answer
    /// widens with a second permission, as search covers chat messages with chat.use).
    pub async fn also_allows(&self, state: &AppState, other: Permission) -> Result<bool, ApiError> {
        let overrides = state.store.permission_overrides(self.user.id()).await?;
        let subject = Subject {
            role: self.user.user.role,
            overrides: &overrides,
            team_role: self.team_role,
        };
        Ok(subject.allows(other))
    }
}

impl<P: PermissionKey> FromRequestParts<AppState> for Require<P> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let ctx = Context::resolve(parts, state, &user).await?;
        let overrides = state.store.permission_overrides(user.id()).await?;
        let subject = Subject {
            role: user.user.role,
            overrides: &overrides,
            team_role: ctx.team_role,
        };
        if !subject.allows(P::KEY) {
            return Err(ApiError::forbidden(format!(
                "this needs the {} permission",
                P::KEY.key()
            )));
        }
        if P::KEY == Permission::FounderAll && user.step_up_until <= selah_store::now_ms() {
            return Err(ApiError::new(
                ErrorCode::StepUpRequired,
                "enter the founder password again (POST /api/v1/auth/step-up) to do this",
            ));
        }
        Ok(Require {
            user,
            scope: ctx.scope,
            team_role: ctx.team_role,
            _key: PhantomData,
        })
    }
}

/// Whether `user` holds `key` in a resource's context: personal (`team` is `None`), or a team,
/// where only a member can hold anything. For requests that name their context in the message
/// rather than a header (the live WebSocket).
pub async fn allows_in(
    state: &AppState,
    user: &CurrentUser,
    team: Option<&str>,
    key: Permission,
) -> Result<bool, ApiError> {
    let team_role = match team {
        None => None,
        Some(t) => match state.store.team_role(t, user.id()).await? {
            Some(role) => Some(role),
            None => return Ok(false),
        },
    };
    let overrides = state.store.permission_overrides(user.id()).await?;
    let subject = Subject {
        role: user.user.role,
        overrides: &overrides,
        team_role,
    };
    Ok(subject.allows(key))
}
