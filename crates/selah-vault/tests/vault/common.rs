//! Helpers shared by the tests: deterministic data, identities, the `age` CLI.

use std::path::Path;
use std::process::{Command, Output};

use age::x25519;
use selah_vault::stream::CHUNK_SIZE;
use sha2::{Digest, Sha256};

pub const CHUNK: usize = CHUNK_SIZE;

/// Deterministic, incompressible-looking bytes (xorshift), different per `seed`.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub fn identities(n: usize) -> Vec<x25519::Identity> {
    (0..n).map(|_| x25519::Identity::generate()).collect()
}

pub fn recipients(ids: &[x25519::Identity]) -> Vec<x25519::Recipient> {
    ids.iter().map(|i| i.to_public()).collect()
}

/// `&[&dyn Recipient]` from owned recipients.
pub fn dyn_recipients(r: &[x25519::Recipient]) -> Vec<&dyn age::Recipient> {
    r.iter().map(|r| r as &dyn age::Recipient).collect()
}

/// Encrypts with selah-vault to the given recipients.
pub fn seal(plain: &[u8], to: &[x25519::Recipient]) -> Vec<u8> {
    let mut out = Vec::new();
    selah_vault::encrypt(plain, &mut out, &dyn_recipients(to)).unwrap();
    out
}

/// Decrypts with selah-vault; returns the output written so far and the result.
pub fn open(
    file: &[u8],
    id: &x25519::Identity,
) -> (Vec<u8>, selah_vault::Result<selah_vault::Sealed>) {
    let mut out = Vec::new();
    let result = selah_vault::decrypt(file, &mut out, &[id]);
    (out, result)
}

/// Runs the `age` CLI; panics with a clear message when it is not installed.
pub fn age_cli(args: &[&str], dir: &Path) -> Output {
    Command::new("age")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the `age` command is required for these tests (Debian package `age`)")
}

pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "command failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes an identity as a key file the CLI can read.
pub fn key_file(dir: &Path, name: &str, id: &x25519::Identity) -> String {
    use age::secrecy::ExposeSecret;
    let path = dir.join(name);
    std::fs::write(&path, format!("{}\n", id.to_string().expose_secret())).unwrap();
    path.to_str().unwrap().to_owned()
}
