//! `selah vault encrypt` and `vault decrypt`: age files made and opened on this machine, with
//! nothing sent to the server. Interop with the stock `age` both ways at the chunk
//! boundaries, encryption to other keys with no server at all, pipes, damaged and foreign
//! files (nothing written, an existing output left alone), concurrent writers of one path,
//! and kill -9 in the middle of writing.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::run;
use crate::vault::{Who, age_keygen, data, founder_setup, public_key};

/// `age ARGS` in `dir`; returns its stdout, failing the test if it fails.
fn age(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("age")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("age is installed");
    assert!(
        out.status.success(),
        "age {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs `cmd` with `input` on its stdin; returns success, stdout and stderr.
fn piped(cmd: &mut Command, input: &[u8]) -> (bool, Vec<u8>, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Temporary `.part` files left in `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect()
}

/// `who`'s command, pointed at a server address where nothing listens.
fn offline(who: &Who, args: &[&str]) -> Command {
    let mut c = who.cmd(args);
    c.env("SELAH_URL", "http://127.0.0.1:9");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_encrypted_here_open_with_age_and_age_files_decrypt_here() {
    let root = tempfile::tempdir().unwrap();
    let (_server, api, me) = founder_setup(root.path()).await;
    me.init_and_unlock();
    me.ok(&["export-key", "-o", "vault-key.txt"]);
    let vault_pk = public_key(&api).await;

    // The chunk boundaries, several batches, and past the 8 MiB at which output writeback starts.
    for (i, len) in [0, 1, 65_535, 65_536, 65_537, (1 << 20) + 3, (20 << 20) + 5]
        .into_iter()
        .enumerate()
    {
        let plain = data(len, 40 + i as u64);
        let name = format!("plain-{i}");
        std::fs::write(me.path(&name), &plain).unwrap();
        // Selah to the vault key, `age -d` with the exported key.
        let sealed = format!("selah-{i}.age");
        let out = me.ok(&["encrypt", &name, "-o", &sealed]);
        assert!(out.is_empty(), "encrypt writes nothing to stdout: {out}");
        let opened = age(&me.home, &["-d", "-i", "vault-key.txt", &sealed]);
        assert!(opened == plain, "{len} bytes: age opened something else");
        // `age -r` the vault's public key, Selah opens it.
        let theirs = format!("age-{i}.age");
        age(&me.home, &["-r", &vault_pk, "-o", &theirs, &name]);
        let back = format!("back-{i}");
        me.ok(&["decrypt", &theirs, "-o", &back]);
        assert!(
            std::fs::read(me.path(&back)).unwrap() == plain,
            "{len} bytes: decrypt wrote something else"
        );
    }

    // To other keys, with no server reachable: nothing is needed but the public keys.
    let other_pk = age_keygen(&me.path("other.txt"));
    let plain = data(200_000, 50);
    std::fs::write(me.path("letter"), &plain).unwrap();
    let (st, _, err) = run(&mut offline(
        &me,
        &[
            "encrypt",
            "letter",
            "-o",
            "letter.age",
            "-r",
            &other_pk,
            "-r",
            &vault_pk,
        ],
    ));
    assert!(st.success(), "encrypt -r must not need the server: {err}");
    assert!(err.contains("letter.age"), "{err}");
    assert!(age(&me.home, &["-d", "-i", "other.txt", "letter.age"]) == plain);
    let (st, _, err) = run(&mut offline(
        &me,
        &[
            "decrypt",
            "letter.age",
            "-o",
            "letter.other",
            "-i",
            "other.txt",
        ],
    ));
    assert!(st.success(), "decrypt -i must not need the server: {err}");
    assert!(std::fs::read(me.path("letter.other")).unwrap() == plain);
    // Also to the vault key (the unlocked one; the server is up again).
    me.ok(&["decrypt", "letter.age", "-o", "letter.mine"]);
    assert!(std::fs::read(me.path("letter.mine")).unwrap() == plain);

    // Standard input to standard output, both ways.
    let (ok, sealed, err) = piped(&mut me.cmd(&["encrypt", "-", "-o", "-"]), &plain);
    assert!(ok, "{err}");
    assert!(sealed.starts_with(b"age-encryption.org/v1\n"));
    let (ok, opened, err) = piped(&mut me.cmd(&["decrypt", "-", "-o", "-"]), &sealed);
    assert!(ok, "{err}");
    assert!(opened == plain, "the pipe round trip changed the bytes");
    assert!(leftovers(&me.home).is_empty(), "{:?}", leftovers(&me.home));
}

/// Where the payload of an age file starts (after the header's `--- MAC` line and the nonce).
fn payload_start(file: &[u8]) -> usize {
    let mac = file
        .windows(5)
        .position(|w| w == b"\n--- ")
        .expect("an age header");
    let end = mac + 1 + file[mac + 1..].iter().position(|&b| b == b'\n').unwrap();
    end + 1 + 16
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decrypt_refuses_damaged_and_foreign_files_and_writes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let (_server, _api, me) = founder_setup(root.path()).await;
    me.init_and_unlock();
    // Three full chunks and a short final one.
    std::fs::write(me.path("plain"), data(3 * 65_536 + 100, 60)).unwrap();
    me.ok(&["encrypt", "plain", "-o", "good.age"]);
    let good = std::fs::read(me.path("good.age")).unwrap();
    std::fs::write(me.path("out"), b"keep").unwrap();
    let untouched = |what: &str| {
        assert_eq!(
            std::fs::read(me.path("out")).unwrap(),
            b"keep",
            "{what}: the existing output was changed"
        );
        assert!(
            leftovers(&me.home).is_empty(),
            "{what}: left {:?}",
            leftovers(&me.home)
        );
    };

    let mut flipped = good.clone();
    flipped[payload_start(&good) + 65_552 + 10] ^= 0x01;
    std::fs::write(me.path("flipped.age"), &flipped).unwrap();
    let err = me.fails(&["decrypt", "flipped.age", "-o", "out"]);
    assert!(err.contains("chunk 1 failed authentication"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    untouched("a flipped byte");

    let cut = payload_start(&good) + 3 * 65_552;
    std::fs::write(me.path("cut.age"), &good[..cut]).unwrap();
    let err = me.fails(&["decrypt", "cut.age", "-o", "out"]);
    assert!(err.contains("truncated"), "{err}");
    untouched("a truncated file");

    let other_pk = age_keygen(&me.path("other.txt"));
    age(&me.home, &["-r", &other_pk, "-o", "foreign.age", "plain"]);
    let err = me.fails(&["decrypt", "foreign.age", "-o", "out"]);
    assert!(err.contains("not encrypted to you"), "{err}");
    untouched("a file for someone else");
    me.ok(&["export-key", "-o", "vault-key.txt"]);
    let err = me.fails(&["decrypt", "foreign.age", "-o", "out", "-i", "vault-key.txt"]);
    assert!(
        err.contains("the key in vault-key.txt cannot open"),
        "{err}"
    );
    untouched("a file for someone else, with -i");

    let err = me.fails(&["decrypt", "plain", "-o", "out"]);
    assert!(err.contains("not an age file"), "{err}");
    untouched("a file that is not age");
    let err = me.fails(&["decrypt", "good.age", "-o", "out", "-i", "plain"]);
    assert!(err.contains("not an age identity file"), "{err}");
    untouched("a key file that is not one");

    // The encrypting side: bad recipients, missing input, a directory as output.
    let err = me.fails(&["encrypt", "plain", "-o", "out", "-r", "age1nonsense"]);
    assert!(err.contains("not an age X25519 public key"), "{err}");
    untouched("a malformed recipient");
    let err = me.fails(&["encrypt", "missing", "-o", "out"]);
    assert!(err.contains("cannot read missing"), "{err}");
    untouched("a missing input");
    std::fs::create_dir(me.path("dir")).unwrap();
    let err = me.fails(&["encrypt", "plain", "-o", "dir"]);
    assert!(err.contains("is a directory"), "{err}");
    let err = me.fails(&["encrypt", "dir", "-o", "out"]);
    assert!(err.contains("not a regular file"), "{err}");
    untouched("a directory");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_encryptions_to_one_path_leave_one_whole_file() {
    let root = tempfile::tempdir().unwrap();
    let (_server, _api, me) = founder_setup(root.path()).await;
    me.init_and_unlock();
    let plains: Vec<Vec<u8>> = (0..4).map(|i| data(2 << 20, 70 + i)).collect();
    for (i, p) in plains.iter().enumerate() {
        std::fs::write(me.path(&format!("p{i}")), p).unwrap();
    }
    let children: Vec<_> = (0..4)
        .map(|i| {
            me.cmd(&["encrypt", &format!("p{i}"), "-o", "same.age"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    me.ok(&["decrypt", "same.age", "-o", "same.out"]);
    let got = std::fs::read(me.path("same.out")).unwrap();
    assert!(
        plains.contains(&got),
        "the file is not any one writer's whole output"
    );
    assert!(leftovers(&me.home).is_empty(), "{:?}", leftovers(&me.home));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_encrypting_leaves_the_previous_file_whole() {
    let root = tempfile::tempdir().unwrap();
    let (_server, _api, me) = founder_setup(root.path()).await;
    me.init_and_unlock();
    let before = data(100_000, 80);
    std::fs::write(me.path("before"), &before).unwrap();
    me.ok(&["encrypt", "before", "-o", "kept.age"]);

    // Feed standard input slowly so the process is surely in the middle of writing.
    let mut child = me
        .cmd(&["encrypt", "-", "-o", "kept.age"])
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let chunk = data(1 << 20, 81);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        stdin.write_all(&chunk).unwrap();
        let written: u64 = std::fs::read_dir(&me.home)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .map(|e| e.metadata().unwrap().len())
            .sum();
        if written > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "no temporary output appeared");
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);

    me.ok(&["decrypt", "kept.age", "-o", "kept.out"]);
    assert!(
        std::fs::read(me.path("kept.out")).unwrap() == before,
        "the file written before the kill was changed"
    );
}
