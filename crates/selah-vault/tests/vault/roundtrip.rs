//! Round trips through selah-vault's own writer and reader, at every chunk boundary.

use std::io::{Read, Write};

use selah_vault::stream::{ENCRYPTED_CHUNK_SIZE, NONCE_SIZE, TAG_SIZE};
use selah_vault::{Options, StreamReader, StreamWriter, payload_offset};

use crate::common::*;

/// 0 B, 1 B, around one chunk, 10 MiB, and exact and off-by-one multiples of a batch.
const SIZES: &[usize] = &[
    0,
    1,
    CHUNK - 1,
    CHUNK,
    CHUNK + 1,
    10 << 20,
    16 * CHUNK * 2,
    16 * CHUNK * 2 + 1,
];

fn expected_ciphertext_len(header: usize, plain: usize) -> usize {
    let chunks = plain.div_ceil(CHUNK).max(1);
    header + NONCE_SIZE + plain + chunks * TAG_SIZE
}

#[test]
fn round_trips_with_one_and_several_recipients() {
    for &recipient_count in &[1, 3] {
        let ids = identities(recipient_count);
        let to = recipients(&ids);
        for (i, &size) in SIZES.iter().enumerate() {
            let plain = data(size, i as u64);
            let mut file = Vec::new();
            let sealed = selah_vault::encrypt(&plain[..], &mut file, &dyn_recipients(&to)).unwrap();
            let header_len = payload_offset(&file).unwrap();
            assert_eq!(sealed.plaintext_len, size as u64);
            assert_eq!(sealed.ciphertext_len, file.len() as u64);
            assert_eq!(sealed.ciphertext_sha256, sha256(&file));
            assert_eq!(
                file.len(),
                expected_ciphertext_len(header_len, size),
                "size {size}"
            );
            for id in &ids {
                let (out, result) = open(&file, id);
                let opened = result.unwrap_or_else(|e| panic!("size {size}: {e}"));
                assert!(out == plain, "size {size}: plaintext differs");
                assert_eq!(opened.ciphertext_sha256, sealed.ciphertext_sha256);
                assert_eq!(opened.plaintext_len, size as u64);
            }
        }
    }
}

#[test]
fn output_does_not_depend_on_threads_batches_or_write_sizes() {
    let key = selah_vault::header::new_file_key();
    let nonce = [7u8; NONCE_SIZE];
    let plain = data(5 * CHUNK + 123, 9);
    let mut reference = None;
    for threads in [1, 2, 3] {
        for batch_chunks in [1, 2, 16] {
            for write_size in [1000, CHUNK, 3 * CHUNK + 1] {
                let options = Options {
                    threads,
                    batch_chunks,
                };
                let mut w = StreamWriter::with_nonce(Vec::new(), &key, nonce, options).unwrap();
                for part in plain.chunks(write_size) {
                    w.write_all(part).unwrap();
                }
                let payload = w.finish().unwrap();
                match &reference {
                    None => reference = Some(payload),
                    Some(r) => assert!(*r == payload, "{options:?} write {write_size}"),
                }
                let mut r =
                    StreamReader::new(&reference.as_ref().unwrap()[..], &key, options).unwrap();
                let mut back = Vec::new();
                r.read_to_end(&mut back).unwrap();
                assert!(back == plain, "{options:?}");
            }
        }
    }
    let payload = reference.unwrap();
    assert_eq!(
        payload.len(),
        NONCE_SIZE + 5 * ENCRYPTED_CHUNK_SIZE + 123 + TAG_SIZE
    );
}

#[test]
fn tiny_reads_return_every_byte_in_order() {
    let key = selah_vault::header::new_file_key();
    let plain = data(2 * CHUNK + 5, 4);
    let mut w = StreamWriter::new(
        Vec::new(),
        &key,
        Options {
            threads: 2,
            batch_chunks: 2,
        },
    )
    .unwrap();
    w.write_all(&plain).unwrap();
    let payload = w.finish().unwrap();
    let mut r = StreamReader::new(
        &payload[..],
        &key,
        Options {
            threads: 2,
            batch_chunks: 2,
        },
    )
    .unwrap();
    let mut back = Vec::new();
    let mut byte = [0u8; 7];
    loop {
        let n = r.read(&mut byte).unwrap();
        if n == 0 {
            break;
        }
        back.extend_from_slice(&byte[..n]);
    }
    assert!(back == plain);
    // Reading on after the end keeps returning 0.
    assert_eq!(r.read(&mut byte).unwrap(), 0);
}

#[test]
fn streaming_decryptor_matches_decrypt() {
    let ids = identities(1);
    let plain = data(3 * CHUNK + 17, 12);
    let file = seal(&plain, &recipients(&ids));
    let mut r = selah_vault::decryptor(&file[..], &[&ids[0]], Options::default()).unwrap();
    let mut back = Vec::new();
    r.read_to_end(&mut back).unwrap();
    assert!(back == plain);
}

#[test]
fn a_passphrase_cannot_be_mixed_with_other_recipients() {
    let ids = identities(1);
    let mut scrypt = age::scrypt::Recipient::new("pw".to_owned().into());
    scrypt.set_work_factor(2);
    let err =
        selah_vault::encrypt(&b"x"[..], Vec::new(), &[&ids[0].to_public(), &scrypt]).unwrap_err();
    assert!(matches!(err, selah_vault::Error::Recipients(_)), "{err}");
    let err = selah_vault::encrypt(&b"x"[..], Vec::new(), &[]).unwrap_err();
    assert!(matches!(err, selah_vault::Error::Recipients(_)), "{err}");
}
