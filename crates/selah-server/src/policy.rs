//! The route × role table: for every route the server serves, what it requires and the status
//! a probe request gets from each role. `tests/api/policy.rs` walks the whole table against a
//! running server, and checks that the table and the OpenAPI document list exactly the same
//! routes, so a route added without a row here fails the build's tests.
//!
//! Probes are chosen so that a permitted role gets a deterministic answer that is neither 401
//! nor 403 (404 for an id that does not exist, 422 for an invalid body) and changes no state a
//! later probe depends on. The walk goes row by row, each row through the roles in the order of
//! [`ROLES`]; each role has its own account and session, the founder's stepped up.

use selah_core::Permission;

/// The roles a probe is sent as, in the order of [`Rule::expect`].
pub const ROLES: [&str; 6] = [
    "founder",
    "super_admin",
    "admin",
    "member",
    "guest",
    "anonymous",
];

/// What a route requires before it looks at the request itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user.
    SignedIn,
    /// A signed-in user who is a member of the team in the path; the team role decides the
    /// rest (see the route's documentation).
    TeamMember,
    /// A permission key, in the request's context (personal or `X-Selah-Team`).
    Permission(Permission),
    /// The founder (no step-up needed: this is how one steps up).
    Founder,
    /// The founder, with a step-up in the last few minutes.
    FounderStepUp,
}

/// Whether the probe needs a session of its own (because it ends or alters the session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionUse {
    /// The role's shared session.
    Shared,
    /// A fresh session, signed in just for this probe.
    Fresh,
}

/// One route's row.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// The path template as in the OpenAPI document.
    pub path: &'static str,
    /// What it requires.
    pub requires: Requirement,
    /// The path actually requested (parameters filled in).
    pub probe: &'static str,
    /// The JSON body sent, if any.
    pub body: Option<&'static str>,
    /// Which session the probe uses.
    pub session: SessionUse,
    /// Expected status for founder, super_admin, admin, member, guest, anonymous.
    pub expect: [u16; 6],
}

/// An id that exists nowhere.
pub const NO_ID: &str = "00000000-0000-7000-8000-000000000000";

macro_rules! rule {
    ($m:literal $p:literal, $req:expr, $probe:literal, $body:expr, $expect:expr) => {
        rule!($m $p, $req, $probe, $body, $expect, SessionUse::Shared)
    };
    ($m:literal $p:literal, $req:expr, $probe:literal, $body:expr, $expect:expr, $s:expr) => {
        Rule {
            method: $m,
            path: $p,
            requires: $req,
            probe: $probe,
            body: $body,
            session: $s,
            expect: $expect,
        }
    };
}

use Permission as P;
use Requirement::*;

/// The table.
pub const TABLE: &[Rule] = &[
    // Observability: public, for watchdogs and scrapers.
    rule!("GET" "/health", Public, "/health", None, [200, 200, 200, 200, 200, 200]),
    rule!("GET" "/metrics", Public, "/metrics", None, [200, 200, 200, 200, 200, 200]),
    // Setup: public; once the founder exists it is refused for everyone.
    rule!("GET" "/api/v1/setup/status", Public,
        "/api/v1/setup/status", None, [200, 200, 200, 200, 200, 200]),
    rule!("POST" "/api/v1/setup/founder", Public,
        "/api/v1/setup/founder", Some(r#"{"username":"another","password":"another-long-password"}"#),
        [409, 409, 409, 409, 409, 409]),
    // Login is public; a body without a password is malformed (and counts no failure).
    rule!("POST" "/api/v1/auth/login", Public,
        "/api/v1/auth/login", Some(r#"{"username":"founder"}"#), [400, 400, 400, 400, 400, 400]),
    rule!("POST" "/api/v1/auth/logout", SignedIn,
        "/api/v1/auth/logout", None, [204, 204, 204, 204, 204, 401], SessionUse::Fresh),
    rule!("GET" "/api/v1/auth/me", SignedIn,
        "/api/v1/auth/me", None, [200, 200, 200, 200, 200, 401]),
    rule!("GET" "/api/v1/auth/sessions", SignedIn,
        "/api/v1/auth/sessions", None, [200, 200, 200, 200, 200, 401]),
    rule!("DELETE" "/api/v1/auth/sessions/{id}", SignedIn,
        "/api/v1/auth/sessions/00000000-0000-7000-8000-000000000000", None,
        [404, 404, 404, 404, 404, 401]),
    rule!("GET" "/api/v1/auth/permissions/effective", SignedIn,
        "/api/v1/auth/permissions/effective", None, [200, 200, 200, 200, 200, 401]),
    // A body without the new password is malformed: no password is checked or changed.
    rule!("POST" "/api/v1/auth/password", SignedIn,
        "/api/v1/auth/password", Some(r#"{"current_password":"x"}"#), [400, 400, 400, 400, 400, 401]),
    // Step-up is the founder's; the probe carries the test founder's password.
    rule!("POST" "/api/v1/auth/step-up", Founder,
        "/api/v1/auth/step-up", Some(r#"{"password":"founder-password-long"}"#),
        [200, 403, 403, 403, 403, 401]),
    // User administration: admin.manage_users; per-user overrides are the founder's.
    rule!("GET" "/api/v1/admin/users", Permission(P::AdminManageUsers),
        "/api/v1/admin/users", None, [200, 200, 200, 403, 403, 401]),
    rule!("POST" "/api/v1/admin/users", Permission(P::AdminManageUsers),
        "/api/v1/admin/users", Some(r#"{"username":"x","password":"long-enough-password","role":"member"}"#),
        [422, 422, 422, 403, 403, 401]),
    rule!("GET" "/api/v1/admin/users/{id}", Permission(P::AdminManageUsers),
        "/api/v1/admin/users/00000000-0000-7000-8000-000000000000", None,
        [404, 404, 404, 403, 403, 401]),
    rule!("PATCH" "/api/v1/admin/users/{id}", Permission(P::AdminManageUsers),
        "/api/v1/admin/users/00000000-0000-7000-8000-000000000000", Some(r#"{"disabled":true}"#),
        [404, 404, 404, 403, 403, 401]),
    rule!("PUT" "/api/v1/admin/users/{id}/password", Permission(P::AdminManageUsers),
        "/api/v1/admin/users/00000000-0000-7000-8000-000000000000/password",
        Some(r#"{"password":"long-enough-password"}"#), [404, 404, 404, 403, 403, 401]),
    rule!("PUT" "/api/v1/admin/users/{id}/role", Permission(P::AdminManageUsers),
        "/api/v1/admin/users/00000000-0000-7000-8000-000000000000/role", Some(r#"{"role":"guest"}"#),
        [404, 404, 404, 403, 403, 401]),
    rule!("PUT" "/api/v1/admin/users/{id}/permissions", FounderStepUp,
        "/api/v1/admin/users/00000000-0000-7000-8000-000000000000/permissions",
        Some(r#"{"grants":[],"denials":[]}"#), [404, 403, 403, 403, 403, 401]),
    // Audit log: admin.view_audit. Reading it changes nothing the later probes depend on.
    rule!("GET" "/api/v1/admin/audit-log", Permission(P::AdminViewAudit),
        "/api/v1/admin/audit-log?limit=5", None, [200, 200, 200, 403, 403, 401]),
    rule!("GET" "/api/v1/admin/audit-log/export.csv", Permission(P::AdminViewAudit),
        "/api/v1/admin/audit-log/export.csv", None, [200, 200, 200, 403, 403, 401]),
    rule!("GET" "/api/v1/admin/audit-log/verify", Permission(P::AdminViewAudit),
        "/api/v1/admin/audit-log/verify", None, [200, 200, 200, 403, 403, 401]),
    // Cleanup runs the jobs (temp files, expired sessions, old audit records): the probe
    // accounts' sessions are fresh, so they survive it.
    rule!("POST" "/api/v1/admin/cleanup", Permission(P::AdminCleanup),
        "/api/v1/admin/cleanup", None, [200, 200, 200, 403, 403, 401]),
    // Teams: creating one needs admin.manage_users; the probe's empty name is refused (422).
    rule!("POST" "/api/v1/teams", Permission(P::AdminManageUsers),
        "/api/v1/teams", Some(r#"{"name":""}"#), [422, 422, 422, 403, 403, 401]),
    rule!("GET" "/api/v1/teams", SignedIn,
        "/api/v1/teams", None, [200, 200, 200, 200, 200, 401]),
    // Redeeming: a well-formed code for an invitation that does not exist.
    rule!("POST" "/api/v1/teams/join", SignedIn,
        "/api/v1/teams/join", Some(r#"{"code":"00000000-0000-7000-8000-000000000000.nosuchsecret"}"#),
        [404, 404, 404, 404, 404, 401]),
    // Everything under a team answers 404 to non-members, whatever their global role.
    rule!("GET" "/api/v1/teams/{id}", TeamMember,
        "/api/v1/teams/00000000-0000-7000-8000-000000000000", None, [404, 404, 404, 404, 404, 401]),
    rule!("DELETE" "/api/v1/teams/{id}", TeamMember,
        "/api/v1/teams/00000000-0000-7000-8000-000000000000", None, [404, 404, 404, 404, 404, 401]),
    rule!("GET" "/api/v1/teams/{id}/members", TeamMember,
        "/api/v1/teams/00000000-0000-7000-8000-000000000000/members", None,
        [404, 404, 404, 404, 404, 401]),
    rule!("PATCH" "/api/v1/teams/{id}/members/{user_id}", TeamMember,
        "/api/v1/teams/00000000-0000-7000-8000-000000000000/members/00000000-0000-7000-8000-000000000000",
        Some(r#"{"role":"member"}"#), [404, 404, 404, 404, 404, 401]),
    rule!("DELETE" "/api/v1/teams/{id}/members/{user_id}", TeamMember,
        "/api/v1/teams/00000000-0000-7000-8000-000000000000/members/00000000-0000-7000-8000-000000000000",
        None, [404, 404, 404, 404, 404, 401]),
    rule!("POST" "/api/v1/teams/{id}/invitations", TeamMember,
        "/api/v1/teams/00000000-0000-7000-8000-000000000000/invitations", Some(r#"{"role":"member"}"#),
        [404, 404, 404, 404, 404, 401]),
    rule!("GET" "/api/v1/teams/{id}/invitations", TeamMember,
        "/api/v1/teams/00000000-0000-7000-8000-000000000000/invitations", None,
        [404, 404, 404, 404, 404, 401]),
    rule!("DELETE" "/api/v1/teams/{id}/invitations/{inv_id}", TeamMember,
        "/api/v1/teams/00000000-0000-7000-8000-000000000000/invitations/00000000-0000-7000-8000-000000000000",
        None, [404, 404, 404, 404, 404, 401]),
    // Chat sessions: guests may use chat but not manage sessions.
    rule!("POST" "/api/v1/chat/sessions", Permission(P::ChatUse),
        "/api/v1/chat/sessions", Some(r#"{"title":""}"#), [422, 422, 422, 422, 422, 401]),
    rule!("GET" "/api/v1/chat/sessions", Permission(P::ChatUse),
        "/api/v1/chat/sessions", None, [200, 200, 200, 200, 200, 401]),
    rule!("GET" "/api/v1/chat/sessions/{id}", Permission(P::ChatUse),
        "/api/v1/chat/sessions/00000000-0000-7000-8000-000000000000", None,
        [404, 404, 404, 404, 404, 401]),
    rule!("PATCH" "/api/v1/chat/sessions/{id}", Permission(P::ChatManageSessions),
        "/api/v1/chat/sessions/00000000-0000-7000-8000-000000000000", Some(r#"{"title":"renamed"}"#),
        [404, 404, 404, 404, 403, 401]),
    rule!("DELETE" "/api/v1/chat/sessions/{id}", Permission(P::ChatManageSessions),
        "/api/v1/chat/sessions/00000000-0000-7000-8000-000000000000", None,
        [404, 404, 404, 404, 403, 401]),
    // Chat messages, token meter, model switch and preferences: chat.use, guests included.
    rule!("POST" "/api/v1/chat/sessions/{id}/messages", Permission(P::ChatUse),
        "/api/v1/chat/sessions/00000000-0000-7000-8000-000000000000/messages", Some(r#"{"content":"hi"}"#),
        [404, 404, 404, 404, 404, 401]),
    rule!("GET" "/api/v1/chat/sessions/{id}/messages", Permission(P::ChatUse),
        "/api/v1/chat/sessions/00000000-0000-7000-8000-000000000000/messages", None,
        [404, 404, 404, 404, 404, 401]),
    rule!("POST" "/api/v1/chat/sessions/{id}/stop", Permission(P::ChatUse),
        "/api/v1/chat/sessions/00000000-0000-7000-8000-000000000000/stop", None,
        [404, 404, 404, 404, 404, 401]),
    rule!("POST" "/api/v1/chat/sessions/{id}/regenerate", Permission(P::ChatUse),
        "/api/v1/chat/sessions/00000000-0000-7000-8000-000000000000/regenerate", Some("{}"),
        [404, 404, 404, 404, 404, 401]),
    rule!("GET" "/api/v1/chat/sessions/{id}/token-count", Permission(P::ChatUse),
        "/api/v1/chat/sessions/00000000-0000-7000-8000-000000000000/token-count", None,
        [404, 404, 404, 404, 404, 401]),
    rule!("PATCH" "/api/v1/chat/sessions/{id}/model", Permission(P::ChatUse),
        "/api/v1/chat/sessions/00000000-0000-7000-8000-000000000000/model", Some(r#"{"model":null}"#),
        [404, 404, 404, 404, 404, 401]),
    rule!("GET" "/api/v1/chat/preferences", Permission(P::ChatUse),
        "/api/v1/chat/preferences", None, [200, 200, 200, 200, 200, 401]),
    rule!("PUT" "/api/v1/chat/preferences", Permission(P::ChatUse),
        "/api/v1/chat/preferences", Some(r#"{"default_model":"local:no-such-model"}"#),
        [422, 422, 422, 422, 422, 401]),
    // The vault identity: personal, vault.use (guests have none). The probing users have no
    // identity yet; the PUT's public key is refused before anything is stored.
    rule!("GET" "/api/v1/vault/identity", Permission(P::VaultUse),
        "/api/v1/vault/identity", None, [404, 404, 404, 404, 403, 401]),
    rule!("PUT" "/api/v1/vault/identity", Permission(P::VaultUse),
        "/api/v1/vault/identity",
        Some(r#"{"public_key":"age1nope","wrapped_identity":"","version":0}"#),
        [422, 422, 422, 422, 403, 401]),
    rule!("GET" "/api/v1/vault/public-keys/{user_id}", Permission(P::VaultUse),
        "/api/v1/vault/public-keys/00000000-0000-7000-8000-000000000000", None,
        [404, 404, 404, 404, 403, 401]),
    // Live sessions: live.join to look, live.host to save presets (guests may join, not host).
    rule!("GET" "/api/v1/live/rooms", Permission(P::LiveJoin),
        "/api/v1/live/rooms", None, [200, 200, 200, 200, 200, 401]),
    rule!("GET" "/api/v1/live/rooms/{room}/messages", Permission(P::LiveJoin),
        "/api/v1/live/rooms/00000000-0000-7000-8000-000000000000/messages", None,
        [404, 404, 404, 404, 404, 401]),
    rule!("GET" "/api/v1/live/breathing-presets", Permission(P::LiveJoin),
        "/api/v1/live/breathing-presets", None, [200, 200, 200, 200, 200, 401]),
    rule!("POST" "/api/v1/live/breathing-presets", Permission(P::LiveHost),
        "/api/v1/live/breathing-presets", Some(r#"{"name":"","pattern":{}}"#),
        [422, 422, 422, 422, 403, 401]),
    rule!("DELETE" "/api/v1/live/breathing-presets/{id}", Permission(P::LiveHost),
        "/api/v1/live/breathing-presets/00000000-0000-7000-8000-000000000000", None,
        [404, 404, 404, 404, 403, 401]),
    rule!("GET" "/api/v1/wellbeing/stress", Permission(P::LiveJoin),
        "/api/v1/wellbeing/stress", None, [200, 200, 200, 200, 200, 401]),
    rule!("GET" "/api/v1/wellbeing/sessions", Permission(P::LiveJoin),
        "/api/v1/wellbeing/sessions", None, [200, 200, 200, 200, 200, 401]),
    // Vault items, content and sharing: vault.use in the request's context; probes name an
    // item that does not exist (404) or send a body refused before anything is stored (422).
    rule!("GET" "/api/v1/vault/items", Permission(P::VaultUse),
        "/api/v1/vault/items", None, [200, 200, 200, 200, 403, 401]),
    rule!("POST" "/api/v1/vault/items", Permission(P::VaultUse),
        "/api/v1/vault/items", Some(r#"{"kind":"nope","meta":""}"#),
        [422, 422, 422, 422, 403, 401]),
    rule!("GET" "/api/v1/vault/items/{id}", Permission(P::VaultUse),
        "/api/v1/vault/items/00000000-0000-7000-8000-000000000000", None,
        [404, 404, 404, 404, 403, 401]),
    rule!("PATCH" "/api/v1/vault/items/{id}", Permission(P::VaultUse),
        "/api/v1/vault/items/00000000-0000-7000-8000-000000000000", Some(r#"{"row_version":1}"#),
        [404, 404, 404, 404, 403, 401]),
    rule!("DELETE" "/api/v1/vault/items/{id}", Permission(P::VaultUse),
        "/api/v1/vault/items/00000000-0000-7000-8000-000000000000", None,
        [404, 404, 404, 404, 403, 401]),
    rule!("POST" "/api/v1/vault/items/{id}/restore", Permission(P::VaultUse),
        "/api/v1/vault/items/00000000-0000-7000-8000-000000000000/restore", None,
        [404, 404, 404, 404, 403, 401]),
    rule!("GET" "/api/v1/vault/items/{id}/content", Permission(P::VaultUse),
        "/api/v1/vault/items/00000000-0000-7000-8000-000000000000/content", None,
        [404, 404, 404, 404, 403, 401]),
    rule!("GET" "/api/v1/vault/items/{id}/headers", Permission(P::VaultUse),
        "/api/v1/vault/items/00000000-0000-7000-8000-000000000000/headers", None,
        [404, 404, 404, 404, 403, 401]),
    rule!("PUT" "/api/v1/vault/items/{id}/recipients", Permission(P::VaultUse),
        "/api/v1/vault/items/00000000-0000-7000-8000-000000000000/recipients",
        Some(r#"{"recipients":[],"meta":"","headers":{},"row_version":1}"#),
        [422, 422, 422, 422, 403, 401]),
    // Vault uploads (tus): OPTIONS is public (tus clients discover the server with it); the
    // rest need vault.use. The probes send no Tus-Resumable header (412) or name no upload.
    rule!("OPTIONS" "/api/v1/vault/uploads", Public,
        "/api/v1/vault/uploads", None, [204, 204, 204, 204, 204, 204]),
    rule!("POST" "/api/v1/vault/uploads", Permission(P::VaultUse),
        "/api/v1/vault/uploads", None, [412, 412, 412, 412, 403, 401]),
    rule!("HEAD" "/api/v1/vault/uploads/{id}", Permission(P::VaultUse),
        "/api/v1/vault/uploads/00000000-0000-7000-8000-000000000000", None,
        [404, 404, 404, 404, 403, 401]),
    rule!("PATCH" "/api/v1/vault/uploads/{id}", Permission(P::VaultUse),
        "/api/v1/vault/uploads/00000000-0000-7000-8000-000000000000", None,
        [412, 412, 412, 412, 403, 401]),
    rule!("DELETE" "/api/v1/vault/uploads/{id}", Permission(P::VaultUse),
        "/api/v1/vault/uploads/00000000-0000-7000-8000-000000000000", None,
        [404, 404, 404, 404, 403, 401]),
    // OpenAI-compatible endpoints: bearer token, chat.use.
    rule!("POST" "/v1/chat/completions", Permission(P::ChatUse),
        "/v1/chat/completions", Some(r#"{"messages":[]}"#), [400, 400, 400, 400, 400, 401]),
    rule!("GET" "/v1/models", Permission(P::ChatUse),
        "/v1/models", None, [200, 200, 200, 200, 200, 401]),
    // Models: reading needs chat.use; hot slots and imports change what the whole machine keeps
    // in memory and on disk, so they need admin.manage_settings. Probes name a slot or model
    // that does not exist (404) or a relative import path (422): nothing changes.
    rule!("GET" "/api/v1/chat/models", Permission(P::ChatUse),
        "/api/v1/chat/models", None, [200, 200, 200, 200, 200, 401]),
    rule!("GET" "/api/v1/chat/models/hot-slots", Permission(P::ChatUse),
        "/api/v1/chat/models/hot-slots", None, [200, 200, 200, 200, 200, 401]),
    rule!("POST" "/api/v1/chat/models/hot-slots/{slot_num}", Permission(P::AdminManageSettings),
        "/api/v1/chat/models/hot-slots/99", Some(r#"{"model":"local:no-such-model"}"#),
        [404, 404, 403, 403, 403, 401]),
    rule!("DELETE" "/api/v1/chat/models/hot-slots/{slot_num}", Permission(P::AdminManageSettings),
        "/api/v1/chat/models/hot-slots/99", None, [404, 404, 403, 403, 403, 401]),
    rule!("POST" "/api/v1/chat/models/check-fit", Permission(P::ChatUse),
        "/api/v1/chat/models/check-fit", Some(r#"{"model":"local:no-such-model"}"#),
        [404, 404, 404, 404, 404, 401]),
    rule!("POST" "/api/v1/chat/models/import", Permission(P::AdminManageSettings),
        "/api/v1/chat/models/import", Some(r#"{"path":"relative.gguf"}"#),
        [422, 422, 403, 403, 403, 401]),
    // Documents and search: reading needs docs.read (guests too), writing docs.write (not
    // guests). Probes send an invalid note (422) or name a document that does not exist (404).
    rule!("POST" "/api/v1/docs/documents", Permission(P::DocsWrite),
        "/api/v1/docs/documents", Some(r#"{"title":"","body":"x"}"#), [422, 422, 422, 422, 403, 401]),
    rule!("GET" "/api/v1/docs/documents", Permission(P::DocsRead),
        "/api/v1/docs/documents", None, [200, 200, 200, 200, 200, 401]),
    rule!("GET" "/api/v1/docs/documents/{id}", Permission(P::DocsRead),
        "/api/v1/docs/documents/00000000-0000-7000-8000-000000000000", None,
        [404, 404, 404, 404, 404, 401]),
    rule!("PATCH" "/api/v1/docs/documents/{id}", Permission(P::DocsWrite),
        "/api/v1/docs/documents/00000000-0000-7000-8000-000000000000", Some(r#"{"title":"renamed"}"#),
        [404, 404, 404, 404, 403, 401]),
    rule!("DELETE" "/api/v1/docs/documents/{id}", Permission(P::DocsWrite),
        "/api/v1/docs/documents/00000000-0000-7000-8000-000000000000", None,
        [404, 404, 404, 404, 403, 401]),
    rule!("GET" "/api/v1/search", Permission(P::DocsRead),
        "/api/v1/search?q=lighthouse", None, [200, 200, 200, 200, 200, 401]),
    // Engine status: any signed-in user.
    rule!("GET" "/api/v1/monitoring/engine", SignedIn,
        "/api/v1/monitoring/engine", None, [200, 200, 200, 200, 200, 401]),
    rule!("GET" "/api/v1/monitoring/metal4", SignedIn,
        "/api/v1/monitoring/metal4", None, [200, 200, 200, 200, 200, 401]),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_unique_and_probes_fit_their_templates() {
        let mut seen = std::collections::HashSet::new();
        for r in TABLE {
            assert!(
                seen.insert((r.method, r.path)),
                "duplicate row {} {}",
                r.method,
                r.path
            );
            let (t, p): (Vec<_>, Vec<_>) = (
                r.path.split('/').collect(),
                r.probe.split('?').next().unwrap_or("").split('/').collect(),
            );
            assert_eq!(t.len(), p.len(), "{} {}", r.method, r.path);
            for (a, b) in t.iter().zip(&p) {
                assert!(
                    a.starts_with('{') || a == b,
                    "{} {}: probe {}",
                    r.method,
                    r.path,
                    r.probe
                );
            }
            if let Some(b) = r.body {
                serde_json::from_str::<serde_json::Value>(b).expect("probe body is JSON");
            }
        }
    }

    /// The written statuses agree with the requirement and the role baselines: a role is
    /// refused (403) exactly when the requirement says it lacks the right, and only anonymous
    /// callers get 401 (public routes excepted).
    #[test]
    fn statuses_agree_with_requirements_and_baselines() {
        use selah_core::Role;
        for r in TABLE {
            let what = format!("{} {}", r.method, r.path);
            match r.requires {
                Public => assert_ne!(r.expect[5], 401, "{what} is public"),
                _ => assert_eq!(r.expect[5], 401, "{what} needs a session"),
            }
            for (i, role) in Role::ALL.iter().enumerate() {
                let allowed = match r.requires {
                    Public | SignedIn | TeamMember => true,
                    Permission(p) => role.baseline().contains(&p),
                    Founder | FounderStepUp => *role == Role::Founder,
                };
                assert_ne!(r.expect[i], 401, "{what}: {role:?} is signed in");
                assert_eq!(
                    r.expect[i] == 403,
                    !allowed,
                    "{what}: {role:?} expects {}",
                    r.expect[i]
                );
            }
        }
    }
}
