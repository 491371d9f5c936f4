//! Session tokens: 256 random bits, shown to the client once, stored only as a SHA-256 hash.
//! The CSRF token is derived from the session token, so it needs no storage and dies with it.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Name of the session cookie.
pub const COOKIE_NAME: &str = "selah_session";
/// Header carrying the CSRF token on cookie-authenticated changes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A fresh token (43 URL-safe characters).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database stores for a token.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The CSRF token belonging to a session token.
pub fn csrf_for(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"selah-csrf\0");
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

/// Compares without an early exit, so timing does not reveal how much matched.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hash_deterministically() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
        assert_ne!(csrf_for(&a), hash(&a));
        assert!(constant_time_eq(&csrf_for(&a), &csrf_for(&a)));
        assert!(!constant_time_eq(&csrf_for(&a), &csrf_for(&b)));
    }
}
