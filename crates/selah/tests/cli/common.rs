//! Helpers for driving the `selah` binary: a clean environment, free ports, a running server
//! with its stderr captured to a file, signals and a small JSON client.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_selah")
}

pub const FOUNDER_PASSWORD: &str = "founder-password-not-in-logs-7c1e";

/// A port nobody listens on right now (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `selah --data-dir <data> …` with an environment cleared of anything that configures Selah,
/// run from `data`'s parent so no stray `./selah.toml` is read.
pub fn selah(data: &Path) -> Command {
    let mut cmd = Command::new(bin());
    clean_env(&mut cmd);
    cmd.current_dir(data.parent().unwrap())
        .arg("--data-dir")
        .arg(data);
    cmd
}

/// Removes every variable that would configure Selah from the child's environment.
pub fn clean_env(cmd: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("SELAH_")
            || k.starts_with("WATCHDOG_")
            || matches!(
                k.as_str(),
                "CUSTOM_PORT" | "NOTIFY_SOCKET" | "HEALTH_CHECK_ENABLED" | "XDG_DATA_HOME"
            )
        {
            cmd.env_remove(k);
        }
    }
}

/// Runs a command to completion, returning (exit status, stdout, stderr).
pub fn run(cmd: &mut Command) -> (ExitStatus, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("selah runs");
    (
        status,
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// A `selah serve` child process.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub base: String,
    pub data: PathBuf,
    pub stderr_path: PathBuf,
}

impl Server {
    /// Starts `selah serve` on a free port with rate limiting off and waits until it accepts
    /// connections. `setup` adds environment variables or wraps the command.
    pub async fn start(data: &Path, setup: impl FnOnce(&mut Command)) -> Server {
        let port = free_port();
        let mut cmd = selah(data);
        cmd.args(["serve", "--port", &port.to_string()])
            .env("SELAH_RATE_LIMIT__ENABLED", "false");
        setup(&mut cmd);
        Self::spawn(cmd, data, port).await
    }

    /// Spawns a prepared command (which must serve on `port`) and waits until it listens.
    pub async fn spawn(mut cmd: Command, data: &Path, port: u16) -> Server {
        std::fs::create_dir_all(data).unwrap();
        let n = std::fs::read_dir(data.parent().unwrap()).unwrap().count();
        let stderr_path = data.parent().unwrap().join(format!("stderr.{n}.log"));
        let file = std::fs::File::create(&stderr_path).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("selah serve starts");
        let mut s = Server {
            child,
            port,
            base: format!("http://127.0.0.1:{port}"),
            data: data.to_path_buf(),
            stderr_path,
        };
        s.wait_listening().await;
        s
    }

    async fn wait_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                panic!("selah exited early ({st}): {}", self.stderr());
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "selah did not start: {}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Sends SIGTERM.
    pub fn term(&self) {
        signal(self.pid(), "TERM");
    }

    /// Waits for the process to exit, at most `secs` seconds.
    pub async fn wait(&mut self, secs: u64) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "selah did not exit within {secs} s: {}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub async fn stop(mut self) -> String {
        self.term();
        let st = self.wait(15).await;
        assert!(st.success(), "exit {st}: {}", self.stderr());
        self.stderr()
    }

    /// SIGKILL, no goodbyes.
    pub async fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.wait(5).await;
    }

    pub fn client(&self) -> Api {
        Api {
            base: self.base.clone(),
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            token: None,
        }
    }

    /// Creates the founder (201) and returns a bearer-token client signed in as them.
    pub async fn founder(&self) -> Api {
        let c = self.client();
        let (st, body) = c
            .post(
                "/api/v1/setup/founder",
                json!({"username": "founder", "password": FOUNDER_PASSWORD}),
            )
            .await;
        assert_eq!(st, 201, "{body}");
        c.login("founder", FOUNDER_PASSWORD).await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a signal with kill(1) (the crates deny unsafe code, so no libc here).
pub fn signal(pid: u32, sig: &str) {
    let st = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(st.success());
}

/// A JSON client with an optional bearer token.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub token: Option<String>,
}

impl Api {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Result<(u16, Value)> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await.unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body))
            .await
            .unwrap()
    }

    /// Signs in and returns a copy carrying the token.
    pub async fn login(&self, username: &str, password: &str) -> Api {
        let (st, body) = self
            .post(
                "/api/v1/auth/login",
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(st, 200, "login: {body}");
        Api {
            token: Some(body["token"].as_str().expect("token").to_string()),
            ..self.clone()
        }
    }
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A process's peak resident set since start or the last [`reset_peak_rss`], in KiB (Linux).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    proc_status_kib(pid, "VmHWM:")
}

/// A process's resident set now, in KiB (Linux).
pub fn rss_kib(pid: u32) -> Option<u64> {
    proc_status_kib(pid, "VmRSS:")
}

/// Resets a process's peak resident set to its current one (`/proc/PID/clear_refs`), so
/// that a later [`peak_rss_kib`] measures only what happened in between.
pub fn reset_peak_rss(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("clear_refs is writable");
}

fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}
