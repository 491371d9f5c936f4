//! age's published test vectors (the C2SP "testkit" set, as shipped in the `age` crate's
//! package under `tests/testdata/testkit/`), run against selah-vault's header parser and
//! STREAM reader. The vectors are found at test time in Cargo's registry, never copied
//! here. Armored vectors are out of scope (vault files are binary).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use selah_vault::{Error, Header, Options, StreamError, StreamReader, read_header};

use crate::common::*;

#[derive(Debug, PartialEq)]
enum Expect {
    Success([u8; 32]),
    HeaderFailure,
    HmacFailure,
    NoMatch,
    PayloadFailure([u8; 32]),
    ArmorFailure,
}

struct Vector {
    expect: Expect,
    file_key: Vec<u8>,
    identities: Vec<String>,
    passphrases: Vec<String>,
    armored: bool,
    file: Vec<u8>,
}

/// The `age` package directory in Cargo's registry, for the version in Cargo.lock.
fn age_package_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The lock file is beside the manifest here and at the workspace root once moved.
    let lock = manifest
        .ancestors()
        .map(|d| d.join("Cargo.lock"))
        .find(|p| p.exists())
        .expect("Cargo.lock not found");
    let lock = std::fs::read_to_string(lock).unwrap();
    let version = lock
        .split("[[package]]")
        .find_map(|p| {
            p.contains("name = \"age\"\n")
                .then(|| {
                    p.lines()
                        .find_map(|l| l.strip_prefix("version = \"")?.strip_suffix('"'))
                })
                .flatten()
        })
        .expect("age is not in Cargo.lock");
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    let src = cargo_home.join("registry").join("src");
    std::fs::read_dir(&src)
        .unwrap_or_else(|e| panic!("{}: {e}", src.display()))
        .filter_map(|e| Some(e.ok()?.path().join(format!("age-{version}"))))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| panic!("age-{version} not found under {}", src.display()))
}

fn hex32(s: &str) -> [u8; 32] {
    let bytes = unhex(s);
    bytes.try_into().expect("a SHA-256 is 32 bytes")
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn parse_vector(raw: &[u8]) -> Vector {
    let mut rest = raw;
    let mut next_line = || {
        let end = rest.iter().position(|&b| b == b'\n').unwrap();
        let line = std::str::from_utf8(&rest[..end]).unwrap().trim().to_owned();
        rest = &rest[end + 1..];
        line
    };
    let mut expect = None;
    let mut payload = None;
    let (mut file_key, mut identities, mut passphrases) = (Vec::new(), Vec::new(), Vec::new());
    let (mut armored, mut compressed) = (false, false);
    loop {
        let line = next_line();
        if line.is_empty() {
            break;
        }
        let (key, value) = line.split_once(": ").unwrap();
        match key {
            "expect" => expect = Some(value.to_owned()),
            "payload" => payload = Some(hex32(value)),
            "file key" => file_key = unhex(value),
            "identity" => identities.push(value.to_owned()),
            "passphrase" => passphrases.push(value.to_owned()),
            "armored" => armored = value == "yes",
            "compressed" => compressed = value == "zlib",
            "comment" => {}
            other => panic!("unknown testkit field {other}"),
        }
    }
    let mut file = Vec::new();
    if compressed {
        flate2::read::ZlibDecoder::new(rest)
            .read_to_end(&mut file)
            .unwrap();
    } else {
        file = rest.to_vec();
    }
    let expect = match expect.as_deref().unwrap() {
        "success" => Expect::Success(payload.unwrap()),
        "payload failure" => Expect::PayloadFailure(payload.unwrap()),
        "header failure" => Expect::HeaderFailure,
        "HMAC failure" => Expect::HmacFailure,
        "no match" => Expect::NoMatch,
        "armor failure" => Expect::ArmorFailure,
        other => panic!("unknown expectation {other}"),
    };
    Vector {
        expect,
        file_key,
        identities,
        passphrases,
        armored,
        file,
    }
}

/// Runs one vector through our code and says what happened, in testkit's terms.
fn run(v: &Vector) -> Expect {
    let mut input = &v.file[..];
    let (header, rest) = match read_header(&mut input) {
        Ok(found) => found,
        Err(_) => return Expect::HeaderFailure,
    };
    let x25519: Vec<age::x25519::Identity> = v
        .identities
        .iter()
        .map(|s| age::x25519::Identity::from_str(s).unwrap())
        .collect();
    let scrypt: Vec<age::scrypt::Identity> = v
        .passphrases
        .iter()
        .map(|p| {
            let mut id = age::scrypt::Identity::new(p.clone().into());
            // The vectors use 2^10..2^16; one asks for 2^23 and must be refused.
            id.set_max_work_factor(16);
            id
        })
        .collect();
    let ids: Vec<&dyn age::Identity> = x25519
        .iter()
        .map(|i| i as &dyn age::Identity)
        .chain(scrypt.iter().map(|i| i as &dyn age::Identity))
        .collect();
    let file_key = match header.unwrap_file_key(&ids) {
        Ok(key) => key,
        Err(Error::HeaderMac) => return Expect::HmacFailure,
        Err(Error::NoMatchingIdentity | Error::WrongPassphrase) => return Expect::NoMatch,
        Err(Error::Header(_) | Error::Stanza(_) | Error::ExcessiveWork { .. }) => {
            return Expect::HeaderFailure;
        }
        Err(e) => panic!("unexpected error {e}"),
    };
    assert_eq!(
        file_key.expose_secret()[..],
        v.file_key[..],
        "wrong file key"
    );
    check_header_reencodes(&header);
    // Small batches, so the multi-chunk vectors cross batch boundaries.
    let payload = std::io::Cursor::new(rest).chain(input);
    // A missing or short nonce fails when the reader is made, before any payload: the
    // testkit counts the nonce as part of the header.
    let Ok(mut reader) = StreamReader::new(
        payload,
        &file_key,
        Options {
            threads: 2,
            batch_chunks: 3,
        },
    ) else {
        return Expect::HeaderFailure;
    };
    let mut out = Vec::new();
    let result = read_until_error(&mut reader, &mut out);
    match result {
        Ok(()) => Expect::Success(sha256(&out)),
        Err(e) => {
            assert!(
                StreamError::from_io(&e).is_some(),
                "payload error without a StreamError: {e}"
            );
            Expect::PayloadFailure(sha256(&out))
        }
    }
}

/// Like `read_to_end`, but keeps what was read before an error.
fn read_until_error(r: &mut impl Read, out: &mut Vec<u8>) -> std::io::Result<()> {
    let mut buf = [0u8; 10_000];
    loop {
        match r.read(&mut buf)? {
            0 => return Ok(()),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// A header we accepted is in canonical form: parsing its own bytes gives the same length.
fn check_header_reencodes(header: &Header) {
    let again = Header::parse(header.as_bytes()).unwrap();
    assert_eq!(again.len(), header.len());
    assert_eq!(again.stanzas(), header.stanzas());
}

#[test]
fn age_testkit_vectors() {
    let dir = age_package_dir().join("tests/testdata/testkit");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the age package no longer ships its test vectors?)",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let (mut ran, mut armored, mut failures) = (0, 0, Vec::new());
    for path in &names {
        let v = parse_vector(&std::fs::read(path).unwrap());
        if v.armored || v.expect == Expect::ArmorFailure {
            armored += 1;
            continue;
        }
        ran += 1;
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let got = std::panic::catch_unwind(|| run(&v)).map_err(|_| "panicked".to_owned());
        match got {
            Ok(got) if got == v.expect => {}
            Ok(got) => failures.push(format!("{name}: expected {:?}, got {got:?}", v.expect)),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    eprintln!(
        "testkit: {ran} binary vectors run, {armored} armored skipped, from {}",
        dir.display()
    );
    assert!(
        failures.is_empty(),
        "{} failing vectors:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The set has 123 files, 92 of them binary; fail loudly if it shrinks unnoticed.
    assert!(ran >= 90, "only {ran} vectors ran");
}
