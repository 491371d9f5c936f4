//! The test harness: the real server, in-process, on a free port, with a temporary data
//! directory, on SQLite or on a fresh PostgreSQL database; and a small HTTP client for it.

#![allow(dead_code)]

use std::net::SocketAddr;

use reqwest::{Client, Method, StatusCode};
use selah_core::Config;
use selah_server::Server;
use selah_server::state::AppState;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// Which database a test app uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Creates an empty PostgreSQL database and returns its URL.
pub async fn fresh_pg_database() -> String {
    selah_store::testing::fresh_postgres_database().await
}

/// A running server.
pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub state: AppState,
    pub config: Config,
    pub data_dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// The configuration tests start from: a free port, no rate limits (tests that check them turn
/// them on), logs not written to files, a short shutdown grace.
pub fn test_config() -> Config {
    let mut c = Config {
        bind: "127.0.0.1:0".into(),
        ..Config::default()
    };
    c.rate_limit.enabled = false;
    c.log.to_file = false;
    c.http.shutdown_grace_secs = 5;
    c
}

impl TestApp {
    /// SQLite, default test configuration.
    pub async fn spawn() -> Self {
        Self::spawn_with(Db::Sqlite, |_| {}).await
    }

    /// The given database, with a configuration tweak.
    pub async fn spawn_with(db: Db, tweak: impl FnOnce(&mut Config)) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let mut config = test_config();
        if db == Db::Postgres {
            config.database_url = selah_core::Secret::new(fresh_pg_database().await);
        }
        tweak(&mut config);
        Self::spawn_in(config, data_dir).await
    }

    /// A server on an existing data directory (for restart tests).
    pub async fn spawn_in(config: Config, data_dir: tempfile::TempDir) -> Self {
        let server = Server::build(config.clone(), data_dir.path().to_path_buf())
            .await
            .expect("server builds");
        let addr = server.local_addr();
        let state = server.state().clone();
        let (tx, rx) = oneshot::channel();
        let handle = tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        Self {
            addr,
            base: format!("http://{addr}"),
            state,
            config,
            data_dir,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    /// Stops the server gracefully and waits for it; returns the data directory for a restart.
    pub async fn stop(mut self) -> (Config, tempfile::TempDir) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap().unwrap();
        }
        let dir = std::mem::replace(&mut self.data_dir, tempfile::tempdir().unwrap());
        (self.config.clone(), dir)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client without cookies (API style).
    pub fn client(&self) -> Api {
        Api {
            base: self.base.clone(),
            http: Client::new(),
            token: None,
            csrf: None,
            team: None,
        }
    }

    /// A client that keeps cookies (browser style).
    pub fn browser(&self) -> Api {
        Api {
            base: self.base.clone(),
            http: Client::builder().cookie_store(true).build().unwrap(),
            token: None,
            csrf: None,
            team: None,
        }
    }

    /// Creates the founder through the API and returns a signed-in client.
    pub async fn founder(&self) -> Api {
        let r = self
            .client()
            .post(
                "/api/v1/setup/founder",
                json!({"username": "founder", "password": FOUNDER_PASSWORD}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        self.login("founder", FOUNDER_PASSWORD).await
    }

    /// Signs in and returns a bearer-token client.
    pub async fn login(&self, username: &str, password: &str) -> Api {
        let mut c = self.client();
        let r = c
            .post(
                "/api/v1/auth/login",
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "login {username}: {:?}", r.body);
        c.token = Some(r.body["token"].as_str().unwrap().to_string());
        c
    }

    /// Creates a user with a role (as the founder client `admin`) and signs them in.
    /// Creating an administrator needs the founder's step-up: when the server asks for it,
    /// the founder's password is re-entered on `admin`'s session and the creation retried.
    pub async fn user_with_role(&self, admin: &Api, username: &str, role: &str) -> Api {
        let body = json!({"username": username, "password": USER_PASSWORD, "role": role});
        let mut r = admin.post("/api/v1/admin/users", body.clone()).await;
        if r.status == StatusCode::FORBIDDEN && r.body["error"]["code"] == "step_up_required" {
            let s = admin
                .post(
                    "/api/v1/auth/step-up",
                    json!({"password": FOUNDER_PASSWORD}),
                )
                .await;
            assert_eq!(s.status, StatusCode::OK, "step-up: {:?}", s.body);
            r = admin.post("/api/v1/admin/users", body).await;
        }
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "create {username}: {:?}",
            r.body
        );
        self.login(username, USER_PASSWORD).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub const FOUNDER_PASSWORD: &str = "founder-password-long";
pub const USER_PASSWORD: &str = "user-password-long";

/// A response: status, headers, parsed JSON body (Null when empty or not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

/// A small API client.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: Client,
    pub token: Option<String>,
    pub csrf: Option<String>,
    /// Sent as `X-Selah-Team` (the team context) when set.
    pub team: Option<String>,
}

impl Api {
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(c) = &self.csrf {
            req = req.header("x-csrf-token", c);
        }
        if let Some(t) = &self.team {
            req = req.header("x-selah-team", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request reaches the server");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, None).await
    }
}

/// Denies `user` a permission by an override, as the founder client `founder` (stepping up
/// first). Returns the user's id.
pub async fn deny_permission(founder: &Api, user: &Api, key: &str) -> String {
    let uid = user.get("/api/v1/auth/me").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = founder
        .post(
            "/api/v1/auth/step-up",
            json!({"password": FOUNDER_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = founder
        .put(
            &format!("/api/v1/admin/users/{uid}/permissions"),
            json!({"grants": [], "denials": [key]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    uid
}

/// Asserts an error response has the API's shape and the given code.
pub fn assert_error(r: &Resp, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.body["error"]["code"], code, "{}", r.text);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        r.text
    );
}

/// [`assert_error`], and the message says `needle`.
pub fn assert_error_says(r: &Resp, status: StatusCode, code: &str, needle: &str) {
    assert_error(r, status, code);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(needle)),
        "expected a message saying {needle:?}: {}",
        r.text
    );
}
