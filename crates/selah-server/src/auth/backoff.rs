//! Failed-login back-off per account and per client IP.
//!
//! Every failed password check (login or step-up) counts against two keys: the attempted
//! account (its lower-cased username, whether or not it exists, so probing unknown names backs
//! off exactly like guessing a real one) and the client's IP. Once a key has
//! `auth.lockout_threshold` failures with no 15-minute pause between them, each further attempt
//! must wait: 1 s after the threshold-th failure, doubling per extra failure, capped at
//! `auth.lockout_max_secs`. An attempt made during the wait is refused before the password is
//! looked at, so a locked account costs the attacker nothing but also teaches them nothing.
//! A successful login clears the account's counter (not the IP's: one good account must not
//! launder a spraying IP).
//!
//! Attempts still being judged count too: `check` hands out an [`Attempt`] that holds a pending
//! slot on both keys until it is dropped, and once failures plus pending attempts reach the
//! threshold, further attempts wait. A burst of simultaneous guesses therefore gets no more
//! tries past the threshold than a patient attacker would.
//!
//! State is in memory and bounded: entries quiet for the window are pruned, and when the map
//! still exceeds its cap the stalest entries go first.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use selah_core::Config;

/// Failures older than this (since the key's last failure) are forgotten.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Most keys kept at once; beyond it the stalest are dropped.
const MAX_ENTRIES: usize = 100_000;

/// What a failure is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Ip(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    pending: u32,
    last_failure: Instant,
}

/// An attempt under way; its pending slot is released when it is dropped. Keep it alive until
/// the failure or success has been recorded.
#[must_use = "the attempt must live until its outcome is recorded"]
pub struct Attempt<'a> {
    guard: &'a LoginGuard,
    keys: [Key; 2],
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        let mut entries = self.guard.entries.lock().unwrap_or_else(|e| e.into_inner());
        for key in &self.keys {
            if let Some(e) = entries.get_mut(key) {
                e.pending = e.pending.saturating_sub(1);
            }
        }
    }
}

/// Tracks failed logins and says when an attempt must wait.
pub struct LoginGuard {
    threshold: u32,
    max_wait: Duration,
    entries: Mutex<HashMap<Key, Entry>>,
}

impl LoginGuard {
    /// A guard for the configuration's `auth.lockout_*` settings.
    pub fn new(config: &Config) -> Self {
        Self {
            threshold: config.auth.lockout_threshold.max(1),
            max_wait: Duration::from_secs(config.auth.lockout_max_secs.max(1)),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn keys(account: &str, ip: IpAddr) -> [Key; 2] {
        [Key::Account(account_key(account)), Key::Ip(ip)]
    }

    /// The wait owed after `failures` failures (zero below the threshold).
    fn wait_for(&self, failures: u32) -> Duration {
        if failures < self.threshold {
            return Duration::ZERO;
        }
        let doublings = (failures - self.threshold).min(30);
        Duration::from_secs(1u64 << doublings).min(self.max_wait)
    }

    /// Starts an attempt on `account` from `ip`, or `Err(seconds)` when it must still wait.
    pub fn check(&self, account: &str, ip: IpAddr) -> Result<Attempt<'_>, u64> {
        self.check_at(account, ip, Instant::now())
    }

    fn check_at(&self, account: &str, ip: IpAddr, now: Instant) -> Result<Attempt<'_>, u64> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let keys = Self::keys(account, ip);
        let mut remaining = Duration::ZERO;
        for key in &keys {
            let Some(e) = entries.get(key) else { continue };
            let since = now.saturating_duration_since(e.last_failure);
            let failures = if since >= WINDOW { 0 } else { e.failures };
            if since < WINDOW {
                remaining = remaining.max(self.wait_for(failures).saturating_sub(since));
            }
            if e.pending > 0 && failures + e.pending >= self.threshold {
                // Earlier attempts are still being judged and could lock the key.
                remaining = remaining.max(Duration::from_secs(1));
            }
        }
        if !remaining.is_zero() {
            // Round up so a client that waits exactly Retry-After is let in.
            return Err(remaining.as_millis().div_ceil(1000).max(1) as u64);
        }
        if entries.len() >= MAX_ENTRIES {
            prune(&mut entries, now);
        }
        for key in &keys {
            let e = entries.entry(key.clone()).or_insert(Entry {
                failures: 0,
                pending: 0,
                last_failure: now,
            });
            e.pending += 1;
        }
        Ok(Attempt { guard: self, keys })
    }

    /// Counts a failed password check against the account and the IP.
    pub fn record_failure(&self, account: &str, ip: IpAddr) {
        self.record_failure_at(account, ip, Instant::now());
    }

    fn record_failure_at(&self, account: &str, ip: IpAddr, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            prune(&mut entries, now);
        }
        for key in Self::keys(account, ip) {
            let e = entries.entry(key).or_insert(Entry {
                failures: 0,
                pending: 0,
                last_failure: now,
            });
            if now.saturating_duration_since(e.last_failure) >= WINDOW {
                e.failures = 0;
            }
            e.failures = e.failures.saturating_add(1);
            e.last_failure = now;
        }
    }

    /// Clears the account's counter after a successful login.
    pub fn record_success(&self, account: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&Key::Account(account_key(account)));
    }

    /// Number of keys held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// True when nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The account key: the username as the store compares it, cut to a bounded length so a huge
/// attempted name cannot inflate memory.
fn account_key(account: &str) -> String {
    let cut: String = account.chars().take(128).collect();
    selah_store::users::username_key(&cut)
}

/// Drops entries outside the window; if that is not enough, the oldest half.
fn prune(entries: &mut HashMap<Key, Entry>, now: Instant) {
    entries.retain(|_, e| e.pending > 0 || now.saturating_duration_since(e.last_failure) < WINDOW);
    if entries.len() >= MAX_ENTRIES {
        let mut times: Vec<Instant> = entries.values().map(|e| e.last_failure).collect();
        times.sort_unstable();
        let cutoff = times[times.len() / 2];
        entries.retain(|_, e| e.pending > 0 || e.last_failure > cutoff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(threshold: u32, max: u64) -> LoginGuard {
        let mut c = Config::default();
        c.auth.lockout_threshold = threshold;
        c.auth.lockout_max_secs = max;
        LoginGuard::new(&c)
    }

    /// The outcome of a check, with the attempt released at once.
    fn probe(g: &LoginGuard, account: &str, ip: IpAddr, t: Instant) -> Result<(), u64> {
        g.check_at(account, ip, t).map(drop)
    }

    #[test]
    fn simultaneous_attempts_count_towards_the_threshold() {
        let g = guard(3, 60);
        let t = Instant::now();
        let a = g.check_at("alice", IP, t).unwrap();
        let b = g.check_at("alice", IP, t).unwrap();
        let c = g.check_at("alice", IP, t).unwrap();
        assert_eq!(
            g.check_at("alice", IP2, t).map(drop),
            Err(1),
            "three attempts are already being judged"
        );
        drop((a, b, c));
        assert_eq!(
            probe(&g, "alice", IP2, t),
            Ok(()),
            "released when they finish"
        );
    }

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const IP2: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn waits_double_from_one_second_up_to_the_cap() {
        let g = guard(3, 5);
        let t = Instant::now();
        for _ in 0..2 {
            g.record_failure_at("Alice", IP, t);
        }
        assert_eq!(probe(&g, "alice", IP, t), Ok(()));
        g.record_failure_at("alice", IP, t);
        assert_eq!(probe(&g, "alice", IP, t), Err(1));
        assert_eq!(probe(&g, "alice", IP, t + Duration::from_secs(1)), Ok(()));
        g.record_failure_at("alice", IP, t);
        assert_eq!(probe(&g, "alice", IP, t), Err(2));
        g.record_failure_at("alice", IP, t);
        assert_eq!(probe(&g, "alice", IP, t), Err(4));
        g.record_failure_at("alice", IP, t);
        assert_eq!(probe(&g, "alice", IP, t), Err(5), "capped");
    }

    #[test]
    fn account_and_ip_are_separate_keys_and_success_clears_only_the_account() {
        let g = guard(2, 60);
        let t = Instant::now();
        g.record_failure_at("alice", IP, t);
        g.record_failure_at("bob", IP, t);
        // The IP has two failures: everyone from it waits; bob from elsewhere does not.
        assert!(probe(&g, "carol", IP, t).is_err());
        assert_eq!(probe(&g, "bob", IP2, t), Ok(()));
        g.record_failure_at("bob", IP2, t);
        assert!(probe(&g, "bob", IP2, t).is_err(), "bob's account is locked");
        g.record_success("bob");
        assert_eq!(probe(&g, "bob", IP2, t), Ok(()));
        assert!(probe(&g, "bob", IP, t).is_err(), "the IP still waits");
    }

    #[test]
    fn failures_are_forgotten_after_a_quiet_window_and_pruned() {
        let g = guard(1, 60);
        let t = Instant::now();
        g.record_failure_at("alice", IP, t);
        assert!(probe(&g, "alice", IP, t).is_err());
        let later = t + WINDOW;
        assert_eq!(probe(&g, "alice", IP, later), Ok(()));
        g.record_failure_at("alice", IP, later);
        assert_eq!(probe(&g, "alice", IP, later), Err(1), "the count restarted");
        let mut m = g.entries.lock().unwrap();
        prune(&mut m, later + WINDOW);
        assert!(m.is_empty());
    }
}
