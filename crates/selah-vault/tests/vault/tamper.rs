//! Damaged and forged files are rejected with a clear error, and the reader never hands
//! out plaintext of a chunk that did not authenticate.

use chacha20poly1305::{AeadInPlace, ChaCha20Poly1305, KeyInit};
use hkdf::Hkdf;
use selah_vault::stream::{ENCRYPTED_CHUNK_SIZE, NONCE_SIZE};
use selah_vault::{Error, HeaderError, StreamError, payload_offset};
use sha2::Sha256;

use crate::common::*;

/// A 5-chunk file (last chunk short) to one recipient, with its plaintext.
fn sample() -> (age::x25519::Identity, Vec<u8>, Vec<u8>) {
    let ids = identities(1);
    let plain = data(4 * CHUNK + 1000, 77);
    let file = seal(&plain, &recipients(&ids));
    (ids.into_iter().next().unwrap(), plain, file)
}

/// Byte offset of chunk `k` in a file.
fn chunk_at(file: &[u8], k: usize) -> usize {
    payload_offset(file).unwrap() + NONCE_SIZE + k * ENCRYPTED_CHUNK_SIZE
}

fn payload_error(result: selah_vault::Result<selah_vault::Sealed>) -> StreamError {
    match result {
        Err(Error::Payload(e)) => {
            assert!(!e.to_string().is_empty());
            e
        }
        other => panic!("expected a payload error, got {other:?}"),
    }
}

#[test]
fn a_flipped_header_byte_is_rejected_and_nothing_is_written() {
    let (id, _, file) = sample();
    let header_len = payload_offset(&file).unwrap();
    for at in 0..header_len {
        let mut bad = file.clone();
        bad[at] ^= 0x01;
        let (out, result) = open(&bad, &id);
        let err = result.expect_err("a modified header must not open");
        assert!(out.is_empty(), "byte {at}: wrote output");
        assert!(
            matches!(
                err,
                Error::Header(_) | Error::HeaderMac | Error::NoMatchingIdentity | Error::Stanza(_)
            ),
            "byte {at}: {err}"
        );
    }
    // A flip inside the MAC itself is a MAC failure, with a clear message.
    let mut bad = file.clone();
    bad[header_len - 5] ^= 0x01;
    let err = open(&bad, &id).1.unwrap_err();
    assert!(
        matches!(
            err,
            Error::HeaderMac | Error::Header(HeaderError::MacLine { .. })
        ),
        "{err}"
    );
}

#[test]
fn a_flipped_payload_byte_stops_at_that_chunk() {
    let (id, plain, file) = sample();
    for k in 0..5 {
        for offset in [0, 100, ENCRYPTED_CHUNK_SIZE - 1] {
            let at = chunk_at(&file, k) + offset;
            if at >= file.len() {
                continue;
            }
            let mut bad = file.clone();
            bad[at] ^= 0x80;
            let (out, result) = open(&bad, &id);
            assert_eq!(
                payload_error(result),
                StreamError::ChunkAuth { index: k as u64 }
            );
            // Exactly the chunks before the damaged one, nothing of it or after it.
            assert!(
                out == plain[..k * CHUNK],
                "chunk {k}: released {} bytes",
                out.len()
            );
        }
    }
    // The nonce is an input of the payload key: flipping it breaks chunk 0.
    let mut bad = file.clone();
    bad[payload_offset(&file).unwrap()] ^= 1;
    let (out, result) = open(&bad, &id);
    assert_eq!(payload_error(result), StreamError::ChunkAuth { index: 0 });
    assert!(out.is_empty());
}

#[test]
fn truncation_is_detected() {
    let (id, plain, file) = sample();
    // Cut exactly before the last chunk: four good middle chunks, no final one.
    let (out, result) = open(&file[..chunk_at(&file, 4)], &id);
    assert_eq!(payload_error(result), StreamError::Truncated { chunks: 4 });
    assert!(out == plain[..4 * CHUNK]);
    // Cut inside the last chunk: it no longer authenticates.
    let (out, result) = open(&file[..file.len() - 1], &id);
    assert_eq!(payload_error(result), StreamError::ChunkAuth { index: 4 });
    assert!(out == plain[..4 * CHUNK]);
    // Cut inside a middle chunk.
    let (out, result) = open(&file[..chunk_at(&file, 2) + 10], &id);
    assert_eq!(payload_error(result), StreamError::ChunkAuth { index: 2 });
    assert!(out == plain[..2 * CHUNK]);
    // Nothing after the header, or half a nonce.
    let header_len = payload_offset(&file).unwrap();
    for cut in [header_len, header_len + 5] {
        let (out, result) = open(&file[..cut], &id);
        assert_eq!(payload_error(result), StreamError::ShortNonce);
        assert!(out.is_empty());
    }
    // Only the nonce.
    let (out, result) = open(&file[..header_len + NONCE_SIZE], &id);
    assert_eq!(payload_error(result), StreamError::Truncated { chunks: 0 });
    assert!(out.is_empty());
    // Inside the header.
    let (out, result) = open(&file[..header_len - 3], &id);
    assert!(matches!(
        result,
        Err(Error::Header(HeaderError::Incomplete))
    ));
    assert!(out.is_empty());
}

#[test]
fn a_dropped_chunk_is_detected() {
    let (id, plain, file) = sample();
    let mut bad = file[..chunk_at(&file, 2)].to_vec();
    bad.extend_from_slice(&file[chunk_at(&file, 3)..]);
    let (out, result) = open(&bad, &id);
    assert_eq!(payload_error(result), StreamError::ChunkAuth { index: 2 });
    assert!(out == plain[..2 * CHUNK]);
}

#[test]
fn swapped_chunks_are_detected() {
    let (id, plain, file) = sample();
    let mut bad = file.clone();
    let (a, b) = (chunk_at(&file, 1), chunk_at(&file, 2));
    bad[a..b].copy_from_slice(&file[b..b + ENCRYPTED_CHUNK_SIZE]);
    bad[b..b + ENCRYPTED_CHUNK_SIZE].copy_from_slice(&file[a..b]);
    let (out, result) = open(&bad, &id);
    assert_eq!(payload_error(result), StreamError::ChunkAuth { index: 1 });
    assert!(out == plain[..CHUNK]);
}

#[test]
fn data_after_the_final_chunk_is_rejected() {
    let ids = identities(1);
    // A full final chunk authenticates as the last one, so what follows is trailing data.
    let plain = data(2 * CHUNK, 78);
    let file = seal(&plain, &recipients(&ids));
    for extra in [&b"x"[..], &file[chunk_at(&file, 1)..]] {
        let mut bad = file.clone();
        bad.extend_from_slice(extra);
        let (out, result) = open(&bad, &ids[0]);
        assert_eq!(payload_error(result), StreamError::TrailingData);
        // Every chunk did authenticate; the caller discards the output on error.
        assert!(out == plain);
    }
    // After a short final chunk the extra bytes look like part of it: it fails to
    // authenticate and none of it is released.
    let (id, plain, file) = sample();
    let mut bad = file.clone();
    bad.push(b'x');
    let (out, result) = open(&bad, &id);
    assert_eq!(payload_error(result), StreamError::ChunkAuth { index: 4 });
    assert!(out == plain[..4 * CHUNK]);
}

#[test]
fn a_header_swapped_between_two_files_is_rejected() {
    let ids = identities(1);
    let to = recipients(&ids);
    let (a, b) = (
        seal(&data(CHUNK + 5, 1), &to),
        seal(&data(CHUNK + 5, 2), &to),
    );
    let mut bad = a[..payload_offset(&a).unwrap()].to_vec();
    bad.extend_from_slice(&b[payload_offset(&b).unwrap()..]);
    let (out, result) = open(&bad, &ids[0]);
    assert_eq!(payload_error(result), StreamError::ChunkAuth { index: 0 });
    assert!(out.is_empty());
}

#[test]
fn an_empty_final_chunk_after_data_is_rejected() {
    // Our writer never makes this file, so seal its payload by hand: one full middle
    // chunk, then an empty final chunk.
    let ids = identities(1);
    let file = seal(&data(10, 3), &recipients(&ids));
    let header = selah_vault::Header::parse(&file).unwrap();
    let file_key = header.unwrap_file_key(&[&ids[0]]).unwrap();
    let nonce = [9u8; NONCE_SIZE];
    let mut key = [0u8; 32];
    use age::secrecy::ExposeSecret;
    Hkdf::<Sha256>::new(Some(&nonce), file_key.expose_secret())
        .expand(b"payload", &mut key)
        .unwrap();
    let aead = ChaCha20Poly1305::new(&key.into());
    let seal_chunk = |index: u8, last: bool, text: &[u8]| {
        let mut n = [0u8; 12];
        n[10] = index;
        n[11] = u8::from(last);
        let mut buf = text.to_vec();
        let tag = aead
            .encrypt_in_place_detached(&n.into(), b"", &mut buf)
            .unwrap();
        buf.extend_from_slice(&tag);
        buf
    };
    let plain = data(CHUNK, 4);
    let mut bad = header.as_bytes().to_vec();
    bad.extend_from_slice(&nonce);
    bad.extend_from_slice(&seal_chunk(0, false, &plain));
    bad.extend_from_slice(&seal_chunk(1, true, b""));
    let (out, result) = open(&bad, &ids[0]);
    assert_eq!(
        payload_error(result),
        StreamError::EmptyLastChunk { index: 1 }
    );
    assert!(out == plain);
    // The same file with the final chunk holding data is fine: the hand sealing is right.
    let mut good = bad[..bad.len() - 16].to_vec();
    good.extend_from_slice(&seal_chunk(1, true, b"z"));
    let (out, result) = open(&good, &ids[0]);
    result.unwrap();
    assert_eq!(out.len(), CHUNK + 1);
}

#[test]
fn errors_read_clearly() {
    let (id, _, file) = sample();
    let err = open(&file[..chunk_at(&file, 4)], &id)
        .1
        .unwrap_err()
        .to_string();
    assert!(err.contains("truncated"), "{err}");
    let other = identities(1);
    let err = open(&file, &other[0]).1.unwrap_err().to_string();
    assert!(err.contains("no identity matches"), "{err}");
    let err = open(b"not an age file at all\n", &id)
        .1
        .unwrap_err()
        .to_string();
    assert!(err.contains("not an age file"), "{err}");
}
