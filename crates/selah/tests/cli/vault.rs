//! `selah vault …` end to end: the real binary as the client, against a real `selah serve`.
//! Round trips at the chunk boundaries, interop with the stock `age` and `age-keygen`
//! (`/usr/bin/age`), tampering with a stored blob, a wrong passphrase, sharing and unsharing
//! with a second user (and a team), passphrase changes, an upload resumed in the middle of a
//! chunk after its connection is cut and across a kill -9 restart of the server, and the
//! client's memory on a 5 GiB upload.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::common::{
    self, Api, Server, bin, clean_env, files_under, peak_rss_kib, reset_peak_rss, rss_kib, run,
};

pub(crate) const PASSPHRASE: &str = "correct horse battery staple";

async fn serve(data: &Path) -> Server {
    Server::start(data, no_ollama).await
}

fn no_ollama(c: &mut Command) {
    c.env(
        "SELAH_AI__OLLAMA_MODELS_DIR",
        "/nonexistent/selah-test-ollama",
    );
}

/// Someone using the CLI: their token and their own runtime, cache, config and home dirs.
pub(crate) struct Who {
    base: String,
    token: String,
    pub(crate) home: PathBuf,
}

impl Who {
    pub(crate) fn new(root: &Path, name: &str, base: &str, token: &str) -> Who {
        let home = root.join(format!("home-{name}"));
        for d in ["run", "cache", "config"] {
            std::fs::create_dir_all(home.join(d)).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(home.join("run"), std::fs::Permissions::from_mode(0o700))
                .unwrap();
        }
        Who {
            base: base.to_string(),
            token: token.to_string(),
            home,
        }
    }

    /// `selah vault ARGS` as this user, without a passphrase in the environment.
    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        clean_env(&mut c);
        c.env("SELAH_URL", &self.base)
            .env("SELAH_TOKEN", &self.token)
            .env("HOME", &self.home)
            .env("XDG_RUNTIME_DIR", self.home.join("run"))
            .env("XDG_CACHE_HOME", self.home.join("cache"))
            .env("XDG_CONFIG_HOME", self.home.join("config"))
            .env_remove("SELAH_VAULT_PASSPHRASE")
            .current_dir(&self.home)
            .stdin(Stdio::null())
            .arg("vault")
            .args(args);
        c
    }

    /// Runs a command that must succeed; returns its stdout.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let (st, out, err) = run(&mut self.cmd(args));
        assert!(
            st.success(),
            "vault {args:?}: {st}\nstdout: {out}\nstderr: {err}"
        );
        out
    }

    /// Runs a command that must fail; returns its stderr.
    pub(crate) fn fails(&self, args: &[&str]) -> String {
        let (st, out, err) = run(&mut self.cmd(args));
        assert!(!st.success(), "vault {args:?} succeeded: {out}\n{err}");
        err
    }

    /// `vault init` and `vault unlock` with the passphrase from the environment.
    pub(crate) fn init_and_unlock(&self) {
        let (st, out, err) = run(self
            .cmd(&["init"])
            .env("SELAH_VAULT_PASSPHRASE", PASSPHRASE));
        assert!(st.success(), "init: {out}\n{err}");
        assert!(
            err.contains("lose the vault passphrase"),
            "init must say that losing the passphrase loses the vault: {err}"
        );
        self.unlock();
    }

    /// `vault unlock` for an hour (the key is cached per server address).
    fn unlock(&self) {
        let (st, out, err) = run(self
            .cmd(&["unlock", "--for", "1h"])
            .env("SELAH_VAULT_PASSPHRASE", PASSPHRASE));
        assert!(st.success(), "unlock: {out}\n{err}");
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.home.join(name)
    }
}

/// Deterministic bytes that do not compress.
pub(crate) fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn sha256_file(path: &Path) -> String {
    let mut f = std::fs::File::open(path).unwrap();
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).unwrap();
    hex::encode(h.finalize())
}

/// A server with the founder signed in for the CLI.
pub(crate) async fn founder_setup(root: &Path) -> (Server, Api, Who) {
    let server = serve(&root.join("data")).await;
    let api = server.founder().await;
    let who = Who::new(root, "founder", &server.base, api.token.as_deref().unwrap());
    (server, api, who)
}

/// The vault's public key of a user, from `GET /vault/identity`.
pub(crate) async fn public_key(api: &Api) -> String {
    let (st, body) = api.get("/api/v1/vault/identity").await;
    assert_eq!(st, 200, "{body}");
    body["public_key"].as_str().unwrap().to_string()
}

/// Makes a key with the stock `age-keygen` at `path`; returns its public key.
pub(crate) fn age_keygen(path: &Path) -> String {
    let st = Command::new("age-keygen")
        .arg("-o")
        .arg(path)
        .stderr(Stdio::null())
        .status()
        .expect("age-keygen is installed");
    assert!(st.success());
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("age-keygen writes the public key in a comment")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_of_every_size_round_trip_byte_for_byte() {
    let root = tempfile::tempdir().unwrap();
    let (_server, _api, me) = founder_setup(root.path()).await;
    me.init_and_unlock();
    let sizes = [0usize, 1, 65_535, 65_536, 65_537, 10 << 20];
    for (i, &size) in sizes.iter().enumerate() {
        let name = format!("file-{size}.bin");
        let plain = data(size, i as u64 + 1);
        std::fs::write(me.path(&name), &plain).unwrap();
        // The key cached by `unlock` is used: no passphrase anywhere.
        me.ok(&["put", &name]);
        let out = format!("back-{size}.bin");
        me.ok(&["get", &name, "-o", &out]);
        let back = std::fs::read(me.path(&out)).unwrap();
        assert!(back == plain, "size {size}: the file came back different");
    }
    // Standard input in, standard output out.
    let plain = data(200_000, 99);
    let mut put = me.cmd(&["put", "-", "--name", "from-stdin", "--tag", "piped"]);
    put.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = put.spawn().unwrap();
    child.stdin.take().unwrap().write_all(&plain).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = me.cmd(&["get", "from-stdin", "-o", "-"]).output().unwrap();
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert!(got.stdout == plain, "stdin upload came back different");

    let listing = me.ok(&["ls"]);
    for size in sizes {
        assert!(listing.contains(&format!("file-{size}.bin")), "{listing}");
    }
    assert!(listing.contains("from-stdin [piped]"), "{listing}");
    // A second put of the same name is refused; --replace makes a new version.
    let err = me.fails(&["put", "file-1.bin"]);
    assert!(err.contains("--replace"), "{err}");
    std::fs::write(me.path("v2"), b"second version").unwrap();
    me.ok(&["put", "v2", "--replace", "file-1.bin"]);
    me.ok(&["get", "file-1.bin", "-o", "v2-back"]);
    assert_eq!(
        std::fs::read(me.path("v2-back")).unwrap(),
        b"second version"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_renames_trash_and_restore() {
    let root = tempfile::tempdir().unwrap();
    let (server, _api, me) = founder_setup(root.path()).await;
    me.init_and_unlock();
    me.ok(&["mkdir", "papers"]);
    me.ok(&["mkdir", "old", "--parent", "papers"]);
    std::fs::write(me.path("a.txt"), b"alpha").unwrap();
    me.ok(&[
        "put", "a.txt", "--folder", "papers", "--tag", "x", "--tag", "y",
    ]);
    let inside = me.ok(&["ls", "papers"]);
    assert!(
        inside.contains("a.txt [x, y]") && inside.contains("old/"),
        "{inside}"
    );
    assert!(!me.ok(&["ls"]).contains("a.txt"));

    me.ok(&["mv", "a.txt", "b.txt", "--to", "papers/old"]);
    assert!(me.ok(&["ls", "old"]).contains("b.txt"));
    me.ok(&["mv", "b.txt", "--to", "/"]);
    assert!(me.ok(&["ls"]).contains("b.txt"));

    // Two items of one name: ambiguous, the error lists the ids, an id resolves it.
    std::fs::write(me.path("b.txt"), b"beta").unwrap();
    me.ok(&["put", "b.txt", "--folder", "old"]);
    let err = me.fails(&["get", "b.txt", "-o", "x"]);
    assert!(err.contains("ambiguous"), "{err}");
    let long = me.ok(&["ls", "old", "--long"]);
    let id = long
        .lines()
        .find(|l| l.contains("b.txt"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    me.ok(&["get", &id, "-o", "beta"]);
    assert_eq!(std::fs::read(me.path("beta")).unwrap(), b"beta");
    me.ok(&["get", "papers/old/b.txt", "-o", "beta2"]);
    assert_eq!(std::fs::read(me.path("beta2")).unwrap(), b"beta");

    me.ok(&["rm", "papers"]);
    let trash = me.ok(&["ls", "--trash"]);
    // The trash lists what was trashed (the folder), not each thing inside it.
    assert!(trash.contains("papers/"), "{trash}");
    assert!(!trash.contains("b.txt"), "{trash}");
    assert!(!me.ok(&["ls"]).contains("papers"));
    me.ok(&["restore", "papers"]);
    assert!(me.ok(&["ls", "old"]).contains("b.txt"));
    me.ok(&["rm", "papers/old/b.txt", "--purge"]);
    let err = me.fails(&["get", "papers/old/b.txt"]);
    assert!(err.contains("no file or note named"), "{err}");
    // The names never reach the server.
    for f in files_under(&server.data) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !bytes.windows(6).any(|w| w == b"papers"),
            "{} holds a plaintext name",
            f.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_open_with_age_and_age_files_import() {
    let root = tempfile::tempdir().unwrap();
    let (_server, api, me) = founder_setup(root.path()).await;
    me.init_and_unlock();
    let plain = data(300_000, 7);
    std::fs::write(me.path("doc.bin"), &plain).unwrap();
    me.ok(&["put", "doc.bin"]);

    // Rewrapped to a key made by age-keygen: `age -d -i` opens it.
    let other_pk = age_keygen(&me.path("other.txt"));
    me.ok(&[
        "export",
        "doc.bin",
        "-o",
        "for-other.age",
        "--recipient",
        &other_pk,
    ]);
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(me.path("other.txt"))
        .arg(me.path("for-other.age"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == plain, "age decrypted something else");

    // As stored, with the vault key written out by export-key.
    me.ok(&["export", "doc.bin", "-o", "stored.age"]);
    let (st, _, err) = run(&mut me.cmd(&["export-key", "-o", "vault-key.txt"]));
    assert!(st.success(), "{err}");
    assert!(err.contains("WARNING"), "export-key must warn: {err}");
    let mode = std::fs::metadata(me.path("vault-key.txt")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.permissions().mode() & 0o777, 0o600);
    }
    let out = Command::new("age")
        .args(["-d", "-i", "vault-key.txt", "stored.age"])
        .current_dir(&me.home)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == plain);

    // Made by `age -r <vault public key>`: imports as it is.
    let vault_pk = public_key(&api).await;
    let outside = data(150_000, 8);
    std::fs::write(me.path("outside.bin"), &outside).unwrap();
    let st = Command::new("age")
        .args(["-r", &vault_pk, "-o", "outside.bin.age", "outside.bin"])
        .current_dir(&me.home)
        .status()
        .unwrap();
    assert!(st.success());
    me.ok(&["import", "outside.bin.age"]);
    me.ok(&["get", "outside.bin", "-o", "outside.back"]);
    assert!(std::fs::read(me.path("outside.back")).unwrap() == outside);

    // Made for the age-keygen key: imported with --identity (the header is rewrapped).
    let st = Command::new("age")
        .args(["-r", &other_pk, "-o", "theirs.age", "outside.bin"])
        .current_dir(&me.home)
        .status()
        .unwrap();
    assert!(st.success());
    let err = me.fails(&["import", "theirs.age"]);
    assert!(err.contains("not encrypted to your vault key"), "{err}");
    me.ok(&[
        "import",
        "theirs.age",
        "--identity",
        "other.txt",
        "--name",
        "theirs",
    ]);
    me.ok(&["get", "theirs", "-o", "theirs.back"]);
    assert!(std::fs::read(me.path("theirs.back")).unwrap() == outside);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_blob_fails_get_and_writes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let (server, _api, me) = founder_setup(root.path()).await;
    me.init_and_unlock();
    std::fs::write(me.path("secret.bin"), data(3 << 20, 3)).unwrap();
    me.ok(&["put", "secret.bin"]);
    let blobs = files_under(&server.data.join("vault").join("blobs"));
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    let mut bytes = std::fs::read(&blobs[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&blobs[0], &bytes).unwrap();

    let out_dir = me.path("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let err = me.fails(&["get", "secret.bin", "-o", "out/secret.bin"]);
    assert!(
        err.contains("tampered") || err.contains("damaged"),
        "the error must say the file is damaged: {err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    let left: Vec<_> = std::fs::read_dir(&out_dir).unwrap().collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_passphrase_and_a_missing_runtime_dir_are_clear_errors() {
    let root = tempfile::tempdir().unwrap();
    let (_server, _api, me) = founder_setup(root.path()).await;
    let err = me.fails(&["ls"]);
    assert!(err.contains("selah vault init"), "{err}");
    me.init_and_unlock();
    me.ok(&["lock"]);
    let (st, _, err) = run(me
        .cmd(&["ls"])
        .env("SELAH_VAULT_PASSPHRASE", "not the passphrase"));
    assert!(!st.success());
    assert!(err.contains("wrong vault passphrase"), "{err}");
    // Without the cache and without a terminal, no prompt: a clear error.
    let err = me.fails(&["ls"]);
    assert!(err.contains("SELAH_VAULT_PASSPHRASE"), "{err}");
    // The right one works.
    let (st, _, err) = run(me.cmd(&["ls"]).env("SELAH_VAULT_PASSPHRASE", PASSPHRASE));
    assert!(st.success(), "{err}");
    // No XDG_RUNTIME_DIR: unlock refuses and says why.
    let (st, _, err) = run(me
        .cmd(&["unlock"])
        .env_remove("XDG_RUNTIME_DIR")
        .env("SELAH_VAULT_PASSPHRASE", PASSPHRASE));
    assert!(!st.success());
    assert!(err.contains("XDG_RUNTIME_DIR"), "{err}");
    // The cache file is private, and an expired one is ignored.
    let (st, _, err) = run(me
        .cmd(&["unlock", "--for", "1s"])
        .env("SELAH_VAULT_PASSPHRASE", PASSPHRASE));
    assert!(st.success(), "{err}");
    let cached = files_under(&me.home.join("run").join("selah"));
    assert_eq!(cached.len(), 1, "{cached:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cached[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let err = me.fails(&["ls"]);
    assert!(err.contains("SELAH_VAULT_PASSPHRASE"), "{err}");

    // passwd re-wraps the same key: the old passphrase stops working, the new one opens it.
    std::fs::write(me.path("kept"), b"kept across passwd").unwrap();
    run(me
        .cmd(&["put", "kept"])
        .env("SELAH_VAULT_PASSPHRASE", PASSPHRASE));
    let new = "a different passphrase";
    let (st, _, err) = run(me
        .cmd(&["passwd"])
        .env("SELAH_VAULT_PASSPHRASE", PASSPHRASE)
        .env("SELAH_VAULT_NEW_PASSPHRASE", new));
    assert!(st.success(), "{err}");
    let (st, _, err) = run(me.cmd(&["ls"]).env("SELAH_VAULT_PASSPHRASE", PASSPHRASE));
    assert!(
        !st.success() && err.contains("wrong vault passphrase"),
        "{err}"
    );
    let (st, _, err) = run(me
        .cmd(&["get", "kept", "-o", "kept.back"])
        .env("SELAH_VAULT_PASSPHRASE", new));
    assert!(st.success(), "{err}");
    assert_eq!(
        std::fs::read(me.path("kept.back")).unwrap(),
        b"kept across passwd"
    );
}

/// Makes a member `bob` in a team with the founder; returns his client and user id.
async fn second_user(server: &Server, founder: &Api) -> (Api, String) {
    let (st, b) = founder
        .post(
            "/api/v1/admin/users",
            json!({"username": "bob", "password": "bob-password-long-enough", "role": "member"}),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    let bob = server
        .client()
        .login("bob", "bob-password-long-enough")
        .await;
    let (st, team) = founder.post("/api/v1/teams", json!({"name": "Crew"})).await;
    assert_eq!(st, 201, "{team}");
    let team = team["id"].as_str().unwrap().to_string();
    let (st, inv) = founder
        .post(
            &format!("/api/v1/teams/{team}/invitations"),
            json!({"role": "member"}),
        )
        .await;
    assert_eq!(st, 201, "{inv}");
    let (st, j) = bob
        .post("/api/v1/teams/join", json!({"code": inv["code"]}))
        .await;
    assert!(st == 200 || st == 201, "{j}");
    let (_, me) = bob.get("/api/v1/auth/me").await;
    let id = me["user"]["id"].as_str().unwrap().to_string();
    (bob, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_item_opens_for_the_second_user_until_unshared() {
    let root = tempfile::tempdir().unwrap();
    let (server, api, me) = founder_setup(root.path()).await;
    me.init_and_unlock();
    let (bob_api, bob_id) = second_user(&server, &api).await;
    let bob = Who::new(
        root.path(),
        "bob",
        &server.base,
        bob_api.token.as_deref().unwrap(),
    );
    bob.init_and_unlock();

    let plain = data(200_000, 5);
    std::fs::write(me.path("plan.bin"), &plain).unwrap();
    me.ok(&["put", "plan.bin", "--tag", "q3"]);
    bob.fails(&["get", "plan.bin"]);

    me.ok(&["share", "plan.bin", "--user", "bob"]);
    let mine = me.ok(&["ls"]);
    assert!(mine.contains("shared (2 people)"), "{mine}");
    let theirs = bob.ok(&["ls"]);
    assert!(
        theirs.contains("plan.bin [q3]") && theirs.contains("shared with you"),
        "{theirs}"
    );
    bob.ok(&["get", "plan.bin", "-o", "got.bin"]);
    assert!(std::fs::read(bob.path("got.bin")).unwrap() == plain);

    me.ok(&["unshare", "plan.bin", "--user", &bob_id]);
    let err = bob.fails(&["get", "plan.bin", "-o", "again.bin"]);
    assert!(err.contains("no file or note named"), "{err}");
    assert!(!bob.path("again.bin").exists());
    // The owner still has it, now re-encrypted as a new version.
    me.ok(&["get", "plan.bin", "-o", "still.bin"]);
    assert!(std::fs::read(me.path("still.bin")).unwrap() == plain);
    let (_, items) = api.get("/api/v1/vault/items").await;
    let id = items[0]["id"].as_str().unwrap();
    let (_, item) = api.get(&format!("/api/v1/vault/items/{id}")).await;
    assert_eq!(item["versions"].as_array().unwrap().len(), 2, "{item}");
    assert_eq!(item["recipients"].as_array().unwrap().len(), 1, "{item}");

    // In the team's vault (--in-team takes the team's name), shared with the whole team.
    std::fs::write(me.path("team.bin"), b"for the crew").unwrap();
    me.ok(&["--in-team", "Crew", "put", "team.bin"]);
    assert!(
        !me.ok(&["ls"]).contains("team.bin"),
        "a team item in the personal vault"
    );
    bob.fails(&["--in-team", "Crew", "get", "team.bin"]);
    me.ok(&["--in-team", "Crew", "share", "team.bin", "--team", "Crew"]);
    bob.ok(&["--in-team", "Crew", "get", "team.bin", "-o", "team.back"]);
    assert_eq!(
        std::fs::read(bob.path("team.back")).unwrap(),
        b"for the crew"
    );
}

/// `selah serve` on a given port (to restart on the same address).
async fn serve_on(data: &Path, port: u16) -> Server {
    let mut cmd = common::selah(data);
    cmd.args(["serve", "--port", &port.to_string()])
        .env("SELAH_RATE_LIMIT__ENABLED", "false");
    no_ollama(&mut cmd);
    Server::spawn(cmd, data, port).await
}

fn dir_bytes(dir: &Path) -> u64 {
    files_under(dir)
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_resumes_after_the_server_is_killed_and_restarted() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let mut server = serve(&data_dir).await;
    let port = server.port;
    let api = server.founder().await;
    let me = Who::new(
        root.path(),
        "founder",
        &server.base,
        api.token.as_deref().unwrap(),
    );
    me.init_and_unlock();

    let size: u64 = 768 << 20;
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(me.path("big.bin")).unwrap());
        for i in 0..(size >> 20) {
            f.write_all(&data(1 << 20, i + 1)).unwrap();
        }
    }
    let want = sha256_file(&me.path("big.bin"));
    let stderr_path = me.path("put.stderr");
    let mut child = me
        .cmd(&["put", "big.bin"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    // Kill the server once a good part, but not all, has arrived.
    let uploads = data_dir.join("vault").join("uploads");
    let start = Instant::now();
    loop {
        let got = dir_bytes(&uploads);
        if got >= 96 << 20 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the upload finished before it could be interrupted: {}",
            std::fs::read_to_string(&stderr_path).unwrap_or_default()
        );
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no upload progress"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill9().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held = dir_bytes(&uploads);
    let server = serve_on(&data_dir, port).await;

    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "the upload never finished");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let err = std::fs::read_to_string(&stderr_path).unwrap();
    assert!(status.success(), "{err}\n{}", server.stderr());
    assert!(err.contains("upload interrupted"), "{err}");
    let resumed_at = resumed_at(&err);
    assert!(
        resumed_at > 0 && resumed_at <= held,
        "resumed at {resumed_at}, server held {held}"
    );

    me.ok(&["get", "big.bin", "-o", "big.back"]);
    assert_eq!(sha256_file(&me.path("big.back")), want);
}

/// A TCP proxy to `port` on loopback that cuts the first connection that has carried more than
/// `cut_after` bytes towards the server; every other connection goes through untouched.
async fn cutting_proxy(port: u16, cut_after: u64) -> u16 {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap().port();
    let cut = Arc::new(AtomicBool::new(false));
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let cut = cut.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
                    return;
                };
                let (mut from_client, mut to_client) = client.into_split();
                let (mut from_server, mut to_server) = server.into_split();
                let up = async {
                    let mut buf = vec![0u8; 64 << 10];
                    let mut total = 0u64;
                    loop {
                        let n = match from_client.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        total += n as u64;
                        if total > cut_after && !cut.swap(true, Ordering::SeqCst) {
                            return; // dropping the halves cuts both directions
                        }
                        if to_server.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                };
                let down = tokio::io::copy(&mut from_server, &mut to_client);
                tokio::select! {
                    _ = up => {}
                    _ = down => {}
                }
            });
        }
    });
    local
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_resumes_mid_chunk_after_the_connection_is_cut() {
    let root = tempfile::tempdir().unwrap();
    let (server, api, direct) = founder_setup(root.path()).await;
    direct.init_and_unlock();
    // 40 MB is not a multiple of the 65,552-byte sealed chunk: the resume starts inside one.
    let port = cutting_proxy(server.port, 40_000_000).await;
    let me = Who::new(
        root.path(),
        "founder",
        &format!("http://127.0.0.1:{port}"),
        api.token.as_deref().unwrap(),
    );
    me.unlock();
    let size = 200 << 20;
    std::fs::write(me.path("cut.bin"), data(size, 11)).unwrap();
    let want = sha256_file(&me.path("cut.bin"));
    let (st, _, err) = run(&mut me.cmd(&["put", "cut.bin"]));
    assert!(st.success(), "{err}\n{}", server.stderr());
    assert!(err.contains("upload interrupted"), "{err}");
    let resumed_at = resumed_at(&err);
    assert!(
        resumed_at > 0 && resumed_at < size as u64,
        "resumed at {resumed_at}: {err}"
    );
    eprintln!("resumed at byte {resumed_at} (sealed chunks start at 184 and are 65,552 bytes)");
    direct.ok(&["get", "cut.bin", "-o", "cut.back"]);
    assert_eq!(sha256_file(&direct.path("cut.back")), want);
}

/// Peak resident memory (VmHWM) of a running process, in KiB.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5_gib_file_round_trips_with_client_and_server_under_64_mib() {
    let root = tempfile::tempdir().unwrap();
    let (server, _api, me) = founder_setup(root.path()).await;
    me.init_and_unlock();
    // Signing in hashed passwords with Argon2 (19 MiB each, which glibc keeps resident once
    // freed): measure the server from here, over the transfers.
    reset_peak_rss(server.pid());
    let server_before = rss_kib(server.pid()).unwrap();
    // A sparse file: 5 GiB of zeros that take no disk (the server's copy does).
    let size: u64 = 5 << 30;
    std::fs::File::create(me.path("huge.bin"))
        .unwrap()
        .set_len(size)
        .unwrap();
    let mut child = me
        .cmd(&["put", "huge.bin"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut peak = 0u64;
    let deadline = Instant::now() + Duration::from_secs(1800);
    let status = loop {
        if let Some(kib) = peak_rss_kib(pid) {
            peak = peak.max(kib);
        }
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "the 5 GiB upload took too long");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{err}\n{}", server.stderr());
    eprintln!("peak RSS of `vault put` of 5 GiB: {} MiB", peak / 1024);
    assert!(peak > 0, "the peak RSS was never read");
    assert!(peak < 64 * 1024, "peak RSS {} MiB", peak / 1024);
    let listing = me.ok(&["ls", "--long"]);
    assert!(
        listing.contains("huge.bin") && listing.contains("5.0 GiB"),
        "{listing}"
    );

    // And back: decrypted to stdout, read and checked here as it streams (nothing stored).
    let mut child = me
        .cmd(&["get", "huge.bin", "-o", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let (mut total, mut nonzero) = (0u64, 0u64);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = std::io::Read::read(&mut stdout, &mut buf).unwrap();
            if n == 0 {
                return (total, nonzero);
            }
            total += n as u64;
            nonzero += buf[..n].iter().filter(|b| **b != 0).count() as u64;
        }
    });
    let mut get_peak = 0u64;
    let deadline = Instant::now() + Duration::from_secs(1800);
    let status = loop {
        if let Some(kib) = peak_rss_kib(pid) {
            get_peak = get_peak.max(kib);
        }
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "the 5 GiB download took too long"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{err}\n{}", server.stderr());
    assert_eq!(
        reader.join().unwrap(),
        (size, 0),
        "5 GiB of zeros came back"
    );
    let server_peak = peak_rss_kib(server.pid()).unwrap();
    eprintln!(
        "peak RSS: `vault get` {} MiB; the server {} MiB before the transfers, {} MiB at most during both",
        get_peak / 1024,
        server_before / 1024,
        server_peak / 1024
    );
    assert!(
        get_peak > 0 && get_peak < 64 * 1024,
        "get: {} MiB",
        get_peak / 1024
    );
    // What streaming 5 GiB each way costs the server: a few buffers, not the file. (Its
    // absolute peak in a release build is in docs/BENCHMARKS.md: 58 MiB.)
    assert!(
        server_peak - server_before < 32 * 1024,
        "the server grew by {} MiB",
        (server_peak - server_before) / 1024
    );
}

/// The byte at which the CLI said it resumed an upload (from its standard error).
fn resumed_at(err: &str) -> u64 {
    err.lines()
        .find_map(|l| l.strip_prefix("resuming the upload at byte "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no resume in: {err}"))
}
