//! `selah user …` and `selah login`, run as the real binary against temporary data directories
//! (and, for login, a real server started with `selah serve`).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "cli-password-long";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn selah(data: &Path, config_home: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_selah"));
    cmd.arg("--data-dir")
        .arg(data)
        .args(args)
        .env("XDG_CONFIG_HOME", config_home)
        .env_remove("SELAH_URL")
        .env_remove("SELAH_TOKEN")
        .env_remove("SELAH_CONFIG")
        .env_remove("SELAH_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the selah binary runs");
    {
        let mut pipe = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            pipe.write_all(s.as_bytes()).unwrap();
        }
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into(),
        stderr: String::from_utf8_lossy(&stderr).into(),
    }
}

fn ok(r: Run) -> Run {
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    r
}

fn fails(r: Run, needle: &str) {
    assert_ne!(r.code, 0, "expected a failure: {}", r.stdout);
    assert!(r.stderr.contains(needle), "{needle:?} not in {}", r.stderr);
}

fn pw(p: &str) -> Option<String> {
    Some(format!("{p}\n"))
}

/// The audit rows the CLI wrote, read from the SQLite file directly.
fn audit_rows(data: &Path) -> Vec<(String, String)> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (store, _) = selah_store::Store::open("", data).await.unwrap();
        use sqlx::Row;
        let rows = sqlx::query("SELECT event_type, details FROM audit_log ORDER BY seq")
            .fetch_all(store.reader())
            .await
            .unwrap();
        let out = rows
            .iter()
            .map(|r| {
                (
                    r.get::<String, _>("event_type"),
                    r.get::<Option<String>, _>("details").unwrap_or_default(),
                )
            })
            .collect();
        store.close().await;
        out
    })
}

#[test]
fn user_commands_manage_accounts_and_audit_them() {
    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: Option<String>| {
        selah(data.path(), home.path(), args, stdin.as_deref())
    };

    // The founder only on an empty install.
    ok(run(
        &[
            "user",
            "add",
            "root",
            "--role",
            "founder",
            "--password-stdin",
        ],
        pw(PASSWORD),
    ));
    fails(
        run(
            &[
                "user",
                "add",
                "root2",
                "--role",
                "founder",
                "--password-stdin",
            ],
            pw(PASSWORD),
        ),
        "founder",
    );
    ok(run(
        &["user", "add", "alice", "--password-stdin"],
        pw(PASSWORD),
    ));
    ok(run(
        &["user", "add", "bob", "--role", "guest", "--password-stdin"],
        pw(PASSWORD),
    ));
    // Same rules as the API.
    fails(
        run(&["user", "add", "carol", "--password-stdin"], pw("short")),
        "at least 12",
    );
    fails(
        run(&["user", "add", "x", "--password-stdin"], pw(PASSWORD)),
        "username",
    );
    fails(
        run(
            &["user", "add", "carol", "--role", "boss", "--password-stdin"],
            pw(PASSWORD),
        ),
        "role",
    );
    fails(
        run(&["user", "add", "ALICE", "--password-stdin"], pw(PASSWORD)),
        "already exists",
    );
    fails(
        run(&["user", "add", "carol", "--password-stdin"], pw("")),
        "no password",
    );

    ok(run(&["user", "role", "bob", "member"], None));
    fails(run(&["user", "role", "root", "member"], None), "founder");
    fails(run(&["user", "role", "bob", "founder"], None), "founder");
    ok(run(&["user", "disable", "alice"], None));
    fails(run(&["user", "disable", "root"], None), "founder");
    fails(
        run(&["user", "disable", "nobody"], None),
        "no user named nobody",
    );
    ok(run(
        &["user", "passwd", "bob", "--password-stdin"],
        pw("another-password-x"),
    ));
    fails(
        run(&["user", "passwd", "bob", "--password-stdin"], pw("short")),
        "at least 12",
    );

    let list = ok(run(&["user", "list"], None)).stdout;
    let line = |name: &str| {
        list.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap()
            .to_string()
    };
    assert!(
        line("root").contains("founder") && line("root").contains("active"),
        "{list}"
    );
    assert!(
        line("alice").contains("member") && line("alice").contains("disabled"),
        "{list}"
    );
    assert!(
        line("bob").contains("member") && line("bob").contains("active"),
        "{list}"
    );
    assert!(!list.contains("carol"));
    ok(run(&["user", "disable", "alice", "--enable"], None));
    assert!(
        ok(run(&["user", "list"], None))
            .stdout
            .lines()
            .any(|l| l.starts_with("alice ") && l.contains("active"))
    );

    let events: Vec<String> = audit_rows(data.path())
        .into_iter()
        .map(|(t, d)| {
            assert!(d.contains("\"via\":\"cli\""), "{d}");
            assert!(!d.contains(PASSWORD));
            t
        })
        .collect();
    assert_eq!(
        events,
        [
            "setup.founder_created",
            "user.created",
            "user.created",
            "user.role_changed",
            "user.disabled",
            "user.password_reset",
            "user.enabled",
        ]
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(data: &Path, port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_selah"))
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env_remove("SELAH_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

#[test]
fn login_stores_a_private_session_that_works_as_a_bearer_token() {
    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = serve(data.path(), port);
    let url = format!("http://127.0.0.1:{port}");
    // The CLI writes to the database while the server runs.
    ok(selah(
        data.path(),
        home.path(),
        &[
            "user",
            "add",
            "root",
            "--role",
            "founder",
            "--password-stdin",
        ],
        pw(PASSWORD).as_deref(),
    ));

    let login = |password: &str| {
        selah(
            data.path(),
            home.path(),
            &[
                "login",
                "--url",
                &url,
                "--username",
                "root",
                "--password-stdin",
            ],
            pw(password).as_deref(),
        )
    };
    let file = home.path().join("selah/cli.json");
    fails(login("wrong-password-here"), "wrong");
    assert!(!file.exists());
    fails(
        selah(
            data.path(),
            home.path(),
            &["login", "--url", &url, "--password-stdin"],
            pw(PASSWORD).as_deref(),
        ),
        "--username",
    );

    ok(login(PASSWORD));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(stored["url"], url.as_str());
    assert_eq!(stored["username"], "root");
    let token = stored["token"].as_str().unwrap().to_string();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let me = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{url}/api/v1/auth/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    });
    assert_eq!(me["user"]["username"], "root");
    assert_eq!(me["session"]["id"], stored["session_id"]);
    drop(server);
}
