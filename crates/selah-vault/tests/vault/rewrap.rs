//! Sharing by rewrapping: a new header for the same file key, the payload untouched.

use selah_vault::{Error, payload_offset, rewrap};

use crate::common::*;

/// The rewrapped file: new header, then the old payload bytes as they were.
fn with_header(header: &[u8], file: &[u8]) -> Vec<u8> {
    let mut out = header.to_vec();
    out.extend_from_slice(&file[payload_offset(file).unwrap()..]);
    out
}

#[test]
fn rewrapped_file_opens_for_the_new_recipient_only() {
    let ids = identities(3);
    let (alice, bob, carol) = (&ids[0], &ids[1], &ids[2]);
    let plain = data(2 * CHUNK + 9, 50);
    let file = seal(&plain, &[alice.to_public()]);
    let payload = file[payload_offset(&file).unwrap()..].to_vec();

    let header = rewrap(&file, &[alice], &[&bob.to_public()]).unwrap();
    let shared = with_header(&header, &file);
    assert!(
        shared[payload_offset(&shared).unwrap()..] == payload[..],
        "payload changed"
    );
    let (out, result) = open(&shared, bob);
    result.unwrap();
    assert!(out == plain);
    // Alice was left out of the new list, so the new header no longer opens for her.
    let (out, result) = open(&shared, alice);
    assert!(
        matches!(result, Err(Error::NoMatchingIdentity)),
        "{result:?}"
    );
    assert!(out.is_empty());
    // Someone who could not open the old header cannot rewrap it.
    let err = rewrap(&file, &[carol], &[&carol.to_public()]).unwrap_err();
    assert!(matches!(err, Error::NoMatchingIdentity), "{err}");

    // Sharing with both keeps both.
    let header = rewrap(&file, &[alice], &[&alice.to_public(), &bob.to_public()]).unwrap();
    let both = with_header(&header, &file);
    for id in [alice, bob] {
        let (out, result) = open(&both, id);
        result.unwrap();
        assert!(out == plain);
    }
}

#[test]
fn rewrapped_file_opens_with_the_age_cli() {
    let dir = tempfile::tempdir().unwrap();
    let ids = identities(2);
    let plain = data(CHUNK + 1, 51);
    let file = seal(&plain, &[ids[0].to_public()]);
    let header = rewrap(&file, &[&ids[0]], &[&ids[1].to_public()]).unwrap();
    std::fs::write(dir.path().join("shared.age"), with_header(&header, &file)).unwrap();
    let key = key_file(dir.path(), "bob.key", &ids[1]);
    assert_ok(&age_cli(
        &["-d", "-i", &key, "-o", "out", "shared.age"],
        dir.path(),
    ));
    assert!(std::fs::read(dir.path().join("out")).unwrap() == plain);
    // And the old identity fails there too.
    let key = key_file(dir.path(), "alice.key", &ids[0]);
    let out = age_cli(&["-d", "-i", &key, "-o", "out2", "shared.age"], dir.path());
    assert!(!out.status.success());
}

#[test]
fn a_file_made_by_the_age_cli_can_be_rewrapped() {
    let dir = tempfile::tempdir().unwrap();
    let ids = identities(2);
    let plain = data(3 * CHUNK, 52);
    std::fs::write(dir.path().join("in"), &plain).unwrap();
    let to = ids[0].to_public().to_string();
    assert_ok(&age_cli(&["-r", &to, "-o", "f.age", "in"], dir.path()));
    let file = std::fs::read(dir.path().join("f.age")).unwrap();
    let header = rewrap(&file, &[&ids[0]], &[&ids[1].to_public()]).unwrap();
    let (out, result) = open(&with_header(&header, &file), &ids[1]);
    result.unwrap();
    assert!(out == plain);
}
