//! Per-IP rate limiting by route class (seed: 100 requests per minute per IP).
//!
//! Each (client, class) key has a fixed 60-second window that starts at its first request and
//! counts exactly, so the 101st request within that minute is refused. The table is split into
//! shards, each behind its own mutex held for a hash lookup and an addition, so concurrent
//! requests from different clients rarely meet on the same lock.
//!
//! Memory is bounded two ways: each shard drops expired windows at most once a minute, when it
//! is next touched, and never holds more than its share of [`MAX_KEYS`]; a full shard first
//! drops expired windows and then evicts the window that started longest ago.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use axum::http::Method;
use selah_core::Config;

/// Window length.
pub const WINDOW_MS: u64 = 60_000;
/// Most keys kept across all shards.
pub const MAX_KEYS: usize = 65_536;
const SHARDS: usize = 32;

/// Which limit a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteClass {
    /// Login, step-up, first-run setup and invitation redemption: guessable secrets, so stricter.
    Auth,
    /// Everything else.
    General,
}

/// The class of a request, or `None` for routes that are never limited (`/health` and
/// `/metrics`: watchdogs and scrapers must always get through; the embedded web app's files,
/// which are static, cached by the browser and fetched a dozen at a time on a page load).
pub fn classify(method: &Method, path: &str) -> Option<RouteClass> {
    match path {
        "/health" | "/metrics" => None,
        p if (method == Method::GET || method == Method::HEAD)
            && !crate::web::is_server_path(p) =>
        {
            None
        }
        "/api/v1/auth/login" | "/api/v1/auth/step-up" | "/api/v1/teams/join"
            if method == Method::POST =>
        {
            Some(RouteClass::Auth)
        }
        // Creating the founder; reading the setup status is an ordinary read that every page
        // load of the web app makes.
        p if method == Method::POST
            && (p == "/api/v1/setup" || p.starts_with("/api/v1/setup/")) =>
        {
            Some(RouteClass::Auth)
        }
        _ => Some(RouteClass::General),
    }
}

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The limit for this class (`RateLimit-Limit`).
    pub limit: u32,
    /// Requests left in the window (`RateLimit-Remaining`).
    pub remaining: u32,
    /// Whole seconds until the window ends (`RateLimit-Reset`, and `Retry-After` when refused).
    pub reset_secs: u64,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start_ms: u64,
    count: u32,
}

#[derive(Default)]
struct Shard {
    windows: HashMap<(IpAddr, RouteClass), Window>,
    last_prune_ms: u64,
}

impl Shard {
    fn prune(&mut self, now_ms: u64) {
        self.windows
            .retain(|_, w| now_ms.saturating_sub(w.start_ms) < WINDOW_MS);
        self.last_prune_ms = now_ms;
    }
}

/// The limiter.
pub struct RateLimiter {
    enabled: bool,
    general_limit: u32,
    auth_limit: u32,
    epoch: Instant,
    hasher: RandomState,
    shards: Box<[Mutex<Shard>]>,
}

/// The key a client is counted under. IPv6 clients usually hold a whole /64, so they are
/// counted per /64; otherwise one host could rotate addresses to escape the limit.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::from([s[0], s[1], s[2], s[3], 0, 0, 0, 0])
            }
        },
        v4 => v4,
    }
}

impl RateLimiter {
    /// A limiter for the configuration's `rate_limit` section.
    pub fn new(config: &Config) -> Self {
        Self {
            enabled: config.rate_limit.enabled,
            general_limit: config.rate_limit.per_minute,
            auth_limit: config.rate_limit.auth_per_minute,
            epoch: Instant::now(),
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// False when `rate_limit.enabled` is off: nothing is counted or refused.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Counts a request from `ip` in `class` now.
    pub fn check(&self, ip: IpAddr, class: RouteClass) -> Decision {
        let now_ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.check_at(ip, class, now_ms)
    }

    /// Counts a request at `now_ms` (milliseconds on the limiter's own clock; tests pass
    /// synthetic times).
    pub fn check_at(&self, ip: IpAddr, class: RouteClass, now_ms: u64) -> Decision {
        let limit = match class {
            RouteClass::Auth => self.auth_limit,
            RouteClass::General => self.general_limit,
        };
        let key = (client_key(ip), class);
        let shard_index = (self.hasher.hash_one(key) % SHARDS as u64) as usize;
        let mut shard = self.shards[shard_index]
            .lock()
            .unwrap_or_else(|p| p.into_inner());

        if now_ms.saturating_sub(shard.last_prune_ms) >= WINDOW_MS {
            shard.prune(now_ms);
        }
        if !shard.windows.contains_key(&key) && shard.windows.len() >= MAX_KEYS / SHARDS {
            shard.prune(now_ms);
            if shard.windows.len() >= MAX_KEYS / SHARDS
                && let Some(oldest) = shard
                    .windows
                    .iter()
                    .min_by_key(|(_, w)| w.start_ms)
                    .map(|(k, _)| *k)
            {
                shard.windows.remove(&oldest);
            }
        }

        let w = shard.windows.entry(key).or_insert(Window {
            start_ms: now_ms,
            count: 0,
        });
        if now_ms.saturating_sub(w.start_ms) >= WINDOW_MS {
            *w = Window {
                start_ms: now_ms,
                count: 0,
            };
        }
        let allowed = w.count < limit;
        if allowed {
            w.count += 1;
        }
        let left_ms = (w.start_ms + WINDOW_MS).saturating_sub(now_ms);
        Decision {
            allowed,
            limit,
            remaining: limit - w.count.min(limit),
            reset_secs: left_ms.div_ceil(1000).max(1),
        }
    }

    /// Keys currently held (for tests and diagnostics).
    pub fn tracked_keys(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).windows.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_minute: u32, auth: u32) -> RateLimiter {
        let mut c = Config::default();
        c.rate_limit.per_minute = per_minute;
        c.rate_limit.auth_per_minute = auth;
        RateLimiter::new(&c)
    }

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn the_101st_request_in_a_minute_is_refused_until_the_window_ends() {
        let l = limiter(100, 20);
        for i in 0..100 {
            let d = l.check_at(A, RouteClass::General, 1_000 + i * 100);
            assert!(d.allowed, "request {}", i + 1);
            assert_eq!(d.remaining, 99 - i as u32);
        }
        let d = l.check_at(A, RouteClass::General, 30_500);
        assert!(!d.allowed);
        assert_eq!((d.limit, d.remaining, d.reset_secs), (100, 0, 31));
        // Another client and another class are counted apart.
        assert!(l.check_at(B, RouteClass::General, 30_500).allowed);
        assert!(l.check_at(A, RouteClass::Auth, 30_500).allowed);
        // The window started at 1 000 ms; at 60 999 ms it is still closed, at 61 000 it reopens.
        assert!(!l.check_at(A, RouteClass::General, 60_999).allowed);
        let d = l.check_at(A, RouteClass::General, 61_000);
        assert!(d.allowed);
        assert_eq!((d.remaining, d.reset_secs), (99, 60));
    }

    #[test]
    fn auth_routes_have_their_own_stricter_limit() {
        let l = limiter(100, 3);
        for _ in 0..3 {
            assert!(l.check_at(A, RouteClass::Auth, 0).allowed);
        }
        assert!(!l.check_at(A, RouteClass::Auth, 0).allowed);
        assert!(l.check_at(A, RouteClass::General, 0).allowed);
    }

    #[test]
    fn classes_by_route() {
        use RouteClass::*;
        let post = Method::POST;
        let get = Method::GET;
        assert_eq!(classify(&post, "/api/v1/auth/login"), Some(Auth));
        assert_eq!(classify(&get, "/api/v1/auth/login"), Some(General));
        assert_eq!(classify(&post, "/api/v1/auth/step-up"), Some(Auth));
        assert_eq!(classify(&get, "/api/v1/setup/status"), Some(General));
        assert_eq!(classify(&post, "/api/v1/setup/founder"), Some(Auth));
        assert_eq!(classify(&post, "/api/v1/teams/join"), Some(Auth));
        assert_eq!(classify(&get, "/api/v1/setupx"), Some(General));
        assert_eq!(classify(&get, "/api/v1/auth/me"), Some(General));
        assert_eq!(classify(&get, "/health"), None);
        assert_eq!(classify(&get, "/metrics"), None);
        // The web app's static files are not limited; sockets and writes anywhere are.
        assert_eq!(classify(&get, "/assets/index-abc.js"), None);
        assert_eq!(classify(&get, "/chat/abc"), None);
        assert_eq!(classify(&get, "/ws"), Some(General));
        assert_eq!(classify(&get, "/v1/models"), Some(General));
        assert_eq!(classify(&post, "/chat"), Some(General));
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_and_mapped_v4_as_v4() {
        let l = limiter(2, 2);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(l.check_at(a, RouteClass::General, 0).allowed);
        assert!(l.check_at(b, RouteClass::General, 0).allowed);
        assert!(!l.check_at(a, RouteClass::General, 0).allowed);
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(client_key(mapped), A);
    }

    #[test]
    fn the_table_is_pruned_and_capped() {
        let l = limiter(100, 20);
        for i in 0..1_000u32 {
            l.check_at(IpAddr::from(i.to_be_bytes()), RouteClass::General, 0);
        }
        assert_eq!(l.tracked_keys(), 1_000);
        // A minute later each shard prunes its expired windows when next touched.
        for i in 0..10_000u32 {
            l.check_at(
                IpAddr::from((i + 5_000).to_be_bytes()),
                RouteClass::General,
                70_000,
            );
        }
        assert_eq!(l.tracked_keys(), 10_000);
        // Far more clients than the cap within one minute: the table stays bounded.
        for i in 0..(MAX_KEYS as u32 + 5_000) {
            l.check_at(
                IpAddr::from((i + 100_000).to_be_bytes()),
                RouteClass::General,
                80_000,
            );
        }
        assert!(l.tracked_keys() <= MAX_KEYS, "{}", l.tracked_keys());
    }
}
