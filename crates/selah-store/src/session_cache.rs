//! A very short-lived cache of validated sessions, so the hot path of an authenticated request
//! does not need a database round trip every time.
//!
//! Entries live for [`TTL`] at most. Every store function that changes a user or a session
//! clears the whole cache, so within this process a revocation, password change, role change,
//! disabling or step-up is seen by the very next request. Changes made by another process (the
//! CLI, a second instance on PostgreSQL) are seen within [`TTL`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::sessions::Session;
use crate::users::User;

/// How long a validated session is trusted without asking the database again.
pub const TTL: Duration = Duration::from_secs(1);

/// Most entries kept; beyond it the cache is simply emptied (it refills on demand).
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub(crate) struct SessionCache {
    entries: Mutex<HashMap<String, (Instant, Session, User)>>,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionCache")
    }
}

impl SessionCache {
    /// A cached session for a token hash that is still within its lifetime and idle limit.
    pub(crate) fn get(
        &self,
        token_hash: &str,
        now_ms: i64,
        idle_ms: i64,
    ) -> Option<(Session, User)> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (at, session, user) = entries.get(token_hash)?;
        let fresh = at.elapsed() < TTL
            && session.expires_at > now_ms
            && session.last_seen_at > now_ms - idle_ms;
        fresh.then(|| (session.clone(), user.clone()))
    }

    pub(crate) fn put(&self, token_hash: &str, session: &Session, user: &User) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            token_hash.to_string(),
            (Instant::now(), session.clone(), user.clone()),
        );
    }

    /// Forgets everything; called by every change to users or sessions.
    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
