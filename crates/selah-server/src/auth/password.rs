//! Password hashing with argon2id, always off the async executor (a hash takes tens of
//! milliseconds of CPU on purpose).

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::{ApiError, ApiResult};

/// Hashes a password (argon2id, the crate's OWASP-recommended defaults) in PHC format.
pub async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt_bytes = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt_bytes);
        let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

/// Checks a password against a stored hash. A malformed hash counts as a mismatch.
pub async fn verify_password(hash: String, password: String) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || match PasswordHash::new(&hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    })
    .await
    .map_err(ApiError::internal)
}

/// A real hash of a random password, verified against when the username is unknown so that
/// "no such user" costs the same time as "wrong password".
pub async fn dummy_hash() -> String {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return h.clone();
    }
    let h = hash_password(super::token::generate())
        .await
        .unwrap_or_default();
    DUMMY.get_or_init(|| h).clone()
}

/// Checks the password policy: at least `min_len` characters, at most 1024.
pub fn check_policy(password: &str, min_len: usize) -> ApiResult<()> {
    let n = password.chars().count();
    if n < min_len {
        return Err(ApiError::validation(format!(
            "the password must have at least {min_len} characters"
        )));
    }
    if n > 1024 {
        return Err(ApiError::validation(
            "the password must have at most 1024 characters",
        ));
    }
    Ok(())
}
