//! The vault identity and its passphrase wrapping.

use std::io::Read;
use std::process::{Command, Stdio};

use age::secrecy::{ExposeSecret, SecretString};
use selah_vault::{Error, VaultIdentity, WorkFactor};

use crate::common::*;

/// Cheap scrypt so the tests are fast; real use keeps age's default.
const FAST: WorkFactor = WorkFactor {
    log_n: Some(10),
    max_log_n: Some(10),
};

fn pass(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

#[test]
fn identity_strings_have_age_formats() {
    let id = VaultIdentity::generate();
    assert!(id.public_key().starts_with("age1"), "{}", id.public_key());
    assert!(
        id.to_secret()
            .expose_secret()
            .starts_with("AGE-SECRET-KEY-1")
    );
    let again = VaultIdentity::from_secret(&id.to_secret()).unwrap();
    assert_eq!(again.public_key(), id.public_key());
    // Debug output never shows the secret.
    let debug = format!("{id:?}");
    assert!(!debug.contains("AGE-SECRET-KEY"), "{debug}");
    assert!(matches!(
        VaultIdentity::from_secret(&pass("AGE-SECRET-KEY-1nope")),
        Err(Error::InvalidKey(_))
    ));
}

#[test]
fn wrap_unwrap_and_wrong_passphrase() {
    let id = VaultIdentity::generate();
    let wrapped = id.wrap(&pass("correct horse"), FAST).unwrap();
    assert!(wrapped.starts_with(b"age-encryption.org/v1\n-> scrypt "));
    // The secret must not appear in the wrapped file.
    let secret = id.to_secret();
    assert!(
        !wrapped
            .windows(10)
            .any(|w| w == &secret.expose_secret().as_bytes()[..10])
    );
    let back = VaultIdentity::unwrap(&wrapped, &pass("correct horse"), FAST).unwrap();
    assert_eq!(back.public_key(), id.public_key());
    let err = VaultIdentity::unwrap(&wrapped, &pass("wrong horse"), FAST).unwrap_err();
    assert!(matches!(err, Error::WrongPassphrase), "{err}");
    assert_eq!(err.to_string(), "wrong vault passphrase");
    // A file asking for more work than allowed is refused before doing the work.
    let strict = WorkFactor {
        log_n: None,
        max_log_n: Some(9),
    };
    let err = VaultIdentity::unwrap(&wrapped, &pass("correct horse"), strict).unwrap_err();
    assert!(
        matches!(err, Error::ExcessiveWork { required: 10 }),
        "{err}"
    );
}

#[test]
fn the_unwrapped_identity_decrypts_files() {
    let id = VaultIdentity::generate();
    let plain = data(CHUNK + 3, 60);
    let file = seal(&plain, &[id.recipient()]);
    let wrapped = id.wrap(&pass("pw"), FAST).unwrap();
    let back = VaultIdentity::unwrap(&wrapped, &pass("pw"), FAST).unwrap();
    let (out, result) = open(&file, back.identity());
    result.unwrap();
    assert!(out == plain);
}

#[test]
fn change_passphrase() {
    let id = VaultIdentity::generate();
    let old = id.wrap(&pass("old"), FAST).unwrap();
    let new = VaultIdentity::change_passphrase(&old, &pass("old"), &pass("new"), FAST).unwrap();
    assert_eq!(
        VaultIdentity::unwrap(&new, &pass("new"), FAST)
            .unwrap()
            .public_key(),
        id.public_key()
    );
    assert!(matches!(
        VaultIdentity::unwrap(&new, &pass("old"), FAST),
        Err(Error::WrongPassphrase)
    ));
    let err = VaultIdentity::change_passphrase(&old, &pass("nope"), &pass("x"), FAST).unwrap_err();
    assert!(matches!(err, Error::WrongPassphrase), "{err}");
}

#[test]
fn wrapped_identity_opens_with_the_age_crate() {
    let id = VaultIdentity::generate();
    let wrapped = id.wrap(&pass("pw"), FAST).unwrap();
    let d = age::Decryptor::new(&wrapped[..]).unwrap();
    assert!(d.is_scrypt());
    let scrypt = age::scrypt::Identity::new(pass("pw"));
    let mut r = d
        .decrypt(std::iter::once(&scrypt as &dyn age::Identity))
        .unwrap();
    let mut text = String::new();
    r.read_to_string(&mut text).unwrap();
    assert!(text.contains(id.to_secret().expose_secret()));
    assert!(text.contains(&format!("# public key: {}", id.public_key())));
}

/// `age -d` reads the passphrase from a terminal; `script` gives it one and feeds it
/// our stdin.
fn age_cli_with_passphrase(
    args: &str,
    passphrase_lines: &str,
    dir: &std::path::Path,
) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &format!("age {args}"), "/dev/null"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) and `age` are required for this test");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(passphrase_lines.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn wrapped_identity_opens_with_the_age_cli_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let id = VaultIdentity::generate();
    std::fs::write(
        dir.path().join("id.age"),
        id.wrap(&pass("pw cli"), FAST).unwrap(),
    )
    .unwrap();
    let out = age_cli_with_passphrase("-d -o key.txt id.age", "pw cli\n", dir.path());
    assert_ok(&out);
    // The recovered key file works as an age identity file.
    let plain = data(100, 61);
    std::fs::write(dir.path().join("f.age"), seal(&plain, &[id.recipient()])).unwrap();
    assert_ok(&age_cli(
        &["-d", "-i", "key.txt", "-o", "f.out", "f.age"],
        dir.path(),
    ));
    assert!(std::fs::read(dir.path().join("f.out")).unwrap() == plain);

    // A key file wrapped by `age -p` unwraps here (the CLI's own work factor, 2^18).
    assert_ok(&age_cli_with_passphrase(
        "-p -o id2.age key.txt",
        "pw two\npw two\n",
        dir.path(),
    ));
    let wrapped = std::fs::read(dir.path().join("id2.age")).unwrap();
    let back = VaultIdentity::unwrap(
        &wrapped,
        &pass("pw two"),
        WorkFactor {
            log_n: None,
            max_log_n: Some(18),
        },
    )
    .unwrap();
    assert_eq!(back.public_key(), id.public_key());
}

/// What the server checks of an identity it stores: the public key's kind, and a wrapped
/// identity that is an age file to a passphrase alone, with a payload, and small.
#[test]
fn what_a_server_can_check_without_the_passphrase() {
    let id = VaultIdentity::generate();
    selah_vault::check_public_key(&id.public_key()).unwrap();
    for bad in ["", "age1", "AGE-SECRET-KEY-1QQQ", "ssh-ed25519 AAAA"] {
        assert!(
            matches!(
                selah_vault::check_public_key(bad),
                Err(Error::InvalidKey(_))
            ),
            "{bad:?}"
        );
    }
    let wrapped = id.wrap(&pass("correct horse"), FAST).unwrap();
    selah_vault::check_wrapped_identity(&wrapped).unwrap();
    // Encrypted to a key instead of a passphrase.
    let to_key = seal(b"AGE-SECRET-KEY-1...", &recipients(&identities(1)));
    assert!(matches!(
        selah_vault::check_wrapped_identity(&to_key),
        Err(Error::InvalidKey(_))
    ));
    // Not age; the header alone; too large.
    assert!(matches!(
        selah_vault::check_wrapped_identity(b"hello"),
        Err(Error::Header(_))
    ));
    let header_len = selah_vault::payload_offset(&wrapped).unwrap();
    assert!(matches!(
        selah_vault::check_wrapped_identity(&wrapped[..header_len]),
        Err(Error::InvalidKey(_))
    ));
    let mut big = wrapped.clone();
    big.resize(selah_vault::MAX_WRAPPED_IDENTITY + 1, 0);
    assert!(matches!(
        selah_vault::check_wrapped_identity(&big),
        Err(Error::InvalidKey(_))
    ));
}
