//! Interoperability with the `age` crate and the `age` CLI, both directions, and
//! byte-identity of the payload with age's own STREAM.

use std::io::{Read, Write};

use age::secrecy::ExposeSecret;
use selah_vault::stream::NONCE_SIZE;
use selah_vault::{Header, Options, StreamWriter};

use crate::common::*;

const SIZES: &[usize] = &[0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 20 * CHUNK + 3];

fn age_crate_encrypt(plain: &[u8], to: &[age::x25519::Recipient]) -> Vec<u8> {
    let e = age::Encryptor::with_recipients(to.iter().map(|r| r as &dyn age::Recipient)).unwrap();
    let mut out = Vec::new();
    let mut w = e.wrap_output(&mut out).unwrap();
    w.write_all(plain).unwrap();
    w.finish().unwrap();
    out
}

fn age_crate_decrypt(file: &[u8], id: &age::x25519::Identity) -> Vec<u8> {
    let d = age::Decryptor::new(file).unwrap();
    let mut r = d
        .decrypt(std::iter::once(id as &dyn age::Identity))
        .unwrap();
    let mut out = Vec::new();
    r.read_to_end(&mut out).unwrap();
    out
}

#[test]
fn selah_files_open_with_the_age_crate() {
    let ids = identities(2);
    for (i, &size) in SIZES.iter().enumerate() {
        let plain = data(size, 100 + i as u64);
        let file = seal(&plain, &recipients(&ids));
        for id in &ids {
            assert!(age_crate_decrypt(&file, id) == plain, "size {size}");
        }
    }
}

#[test]
fn age_crate_files_open_with_selah() {
    let ids = identities(2);
    for (i, &size) in SIZES.iter().enumerate() {
        let plain = data(size, 200 + i as u64);
        let file = age_crate_encrypt(&plain, &recipients(&ids));
        for id in &ids {
            let (out, result) = open(&file, id);
            result.unwrap_or_else(|e| panic!("size {size}: {e}"));
            assert!(out == plain, "size {size}");
        }
    }
}

/// Re-encrypting age's plaintext with age's file key and nonce gives age's payload bytes.
#[test]
fn payload_is_byte_identical_to_age() {
    let ids = identities(1);
    for (i, &size) in SIZES.iter().chain(&[40 * CHUNK]).enumerate() {
        let plain = data(size, 300 + i as u64);
        let file = age_crate_encrypt(&plain, &recipients(&ids));
        let header = Header::parse(&file).unwrap();
        let key = header.unwrap_file_key(&[&ids[0]]).unwrap();
        let nonce: [u8; NONCE_SIZE] = file[header.len()..header.len() + NONCE_SIZE]
            .try_into()
            .unwrap();
        for options in [
            Options {
                threads: 1,
                batch_chunks: 1,
            },
            Options {
                threads: 2,
                batch_chunks: 16,
            },
        ] {
            let mut w = StreamWriter::with_nonce(Vec::new(), &key, nonce, options).unwrap();
            w.write_all(&plain).unwrap();
            let ours = w.finish().unwrap();
            assert!(
                ours[..] == file[header.len()..],
                "size {size} {options:?}: payload differs"
            );
        }
    }
}

#[test]
fn selah_files_open_with_the_age_cli() {
    let dir = tempfile::tempdir().unwrap();
    let ids = identities(2);
    let plain = data(3 * CHUNK + 77, 400);
    std::fs::write(dir.path().join("file.age"), seal(&plain, &recipients(&ids))).unwrap();
    for (i, id) in ids.iter().enumerate() {
        let key = key_file(dir.path(), &format!("key{i}"), id);
        let out = age_cli(
            &["-d", "-i", &key, "-o", "plain.out", "file.age"],
            dir.path(),
        );
        assert_ok(&out);
        assert!(std::fs::read(dir.path().join("plain.out")).unwrap() == plain);
        std::fs::remove_file(dir.path().join("plain.out")).unwrap();
    }
    // Empty plaintext too (a single empty final chunk).
    std::fs::write(dir.path().join("empty.age"), seal(b"", &recipients(&ids))).unwrap();
    let key = key_file(dir.path(), "k", &ids[0]);
    // (to stdout: age creates an `-o` file only on its first write)
    let out = age_cli(&["-d", "-i", &key, "empty.age"], dir.path());
    assert_ok(&out);
    assert_eq!(out.stdout, b"");
}

#[test]
fn age_cli_files_open_with_selah() {
    let dir = tempfile::tempdir().unwrap();
    let ids = identities(2);
    for (i, &size) in SIZES.iter().enumerate() {
        let plain = data(size, 500 + i as u64);
        std::fs::write(dir.path().join("in"), &plain).unwrap();
        let to: Vec<String> = ids.iter().map(|i| i.to_public().to_string()).collect();
        let out = age_cli(
            &["-r", &to[0], "-r", &to[1], "-o", "file.age", "in"],
            dir.path(),
        );
        assert_ok(&out);
        let file = std::fs::read(dir.path().join("file.age")).unwrap();
        for id in &ids {
            let (out, result) = open(&file, id);
            result.unwrap_or_else(|e| panic!("size {size}: {e}"));
            assert!(out == plain, "size {size}");
        }
        std::fs::remove_file(dir.path().join("file.age")).unwrap();
    }
}

#[test]
fn age_cli_key_files_and_public_keys_agree_with_ours() {
    let dir = tempfile::tempdir().unwrap();
    let out = age_cli(&["--version"], dir.path());
    assert_ok(&out);
    // age-keygen ships with the same package; our parser must read its output.
    let keygen = std::process::Command::new("age-keygen")
        .arg("-o")
        .arg(dir.path().join("k.txt"))
        .output();
    let keygen = keygen.expect("age-keygen (Debian package `age`) is required");
    assert_ok(&keygen);
    let text = std::fs::read_to_string(dir.path().join("k.txt")).unwrap();
    let secret = text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap();
    let public = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap();
    let id = selah_vault::VaultIdentity::from_secret(&secret.to_owned().into()).unwrap();
    assert_eq!(id.public_key(), public);
    assert_eq!(id.to_secret().expose_secret(), secret);
}
