//! A WebSocket client for the live tests (shared with the process-level tests in
//! `crates/selah/tests/cli`, which include this file by path).

#![allow(dead_code)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for a message before failing.
pub const WAIT: Duration = Duration::from_secs(10);

/// One live connection.
pub struct Ws {
    pub inner: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Every server message received, in order (for sequence checks).
    pub seen: Vec<Value>,
}

/// What a refused upgrade answered.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub body: String,
}

/// Opens `url` with extra headers; `Err` with the HTTP status when the upgrade is refused.
pub async fn open(url: &str, headers: &[(&str, &str)]) -> Result<Ws, Refused> {
    let mut req = url.into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((inner, _)) => Ok(Ws {
            inner,
            seen: Vec::new(),
        }),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(Refused {
            status: resp.status().as_u16(),
            body: resp
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default(),
        }),
        Err(e) => panic!("connect {url}: {e}"),
    }
}

/// Connects to `base` (`http://…`) and authenticates with `token` in the first message.
pub async fn connect(base: &str, token: &str) -> Ws {
    let url = format!("{}/ws", base.replacen("http", "ws", 1));
    let mut ws = open(&url, &[]).await.expect("upgrade");
    ws.send(json!({"v": 1, "type": "auth", "token": token}))
        .await;
    let hello = ws.recv_type("hello").await;
    assert!(hello["user"]["id"].is_string(), "{hello}");
    ws
}

impl Ws {
    pub async fn send(&mut self, v: Value) {
        self.inner
            .send(Message::Text(v.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn send_text(&mut self, t: &str) {
        self.inner
            .send(Message::Text(t.to_string().into()))
            .await
            .unwrap();
    }

    /// The next JSON message; `None` when the connection closed (with the close code).
    pub async fn next(&mut self) -> Result<Value, Option<u16>> {
        loop {
            let msg = tokio::time::timeout(WAIT, self.inner.next())
                .await
                .expect("a message within the wait");
            match msg {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).expect("server sends JSON");
                    self.seen.push(v.clone());
                    return Ok(v);
                }
                Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| u16::from(f.code))),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(None),
            }
        }
    }

    pub async fn recv(&mut self) -> Value {
        self.next().await.expect("connection open")
    }

    /// Skips messages until one of type `ty`.
    pub async fn recv_type(&mut self, ty: &str) -> Value {
        loop {
            let v = self.recv().await;
            if v["type"] == ty {
                return v;
            }
        }
    }

    /// Skips messages until one `pred` accepts.
    pub async fn recv_where(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let v = self.recv().await;
            if pred(&v) {
                return v;
            }
        }
    }

    /// Skips messages until an error; returns it.
    pub async fn recv_error(&mut self) -> Value {
        self.recv_type("error").await
    }

    /// Sends a request with an id and waits for its `ack` (panics on an error answer).
    pub async fn request(&mut self, mut v: Value) -> Value {
        let id = format!("r{}", rand_id());
        v["id"] = json!(id);
        self.send(v).await;
        loop {
            let m = self.recv().await;
            if m["ref"] == json!(id) {
                assert_ne!(m["type"], "error", "request refused: {m}");
                return m;
            }
        }
    }

    /// Sends a request and returns the error answering it.
    pub async fn refused(&mut self, mut v: Value) -> Value {
        let id = format!("r{}", rand_id());
        v["id"] = json!(id);
        self.send(v).await;
        loop {
            let m = self.recv().await;
            if m["ref"] == json!(id) {
                assert_eq!(m["type"], "error", "expected a refusal: {m}");
                return m;
            }
        }
    }

    /// Creates a room and returns its id (the snapshot that follows is consumed).
    pub async fn create_room(&mut self, kind: &str, team: Option<&str>) -> String {
        let mut v =
            json!({"v": 1, "type": "room.create", "kind": kind, "name": format!("{kind} room")});
        if let Some(t) = team {
            v["team"] = json!(t);
        }
        self.send(v).await;
        let created = self.recv_type("room.created").await;
        self.recv_type("room.snapshot").await;
        created["info"]["id"].as_str().unwrap().to_string()
    }

    /// Joins a room; returns the snapshot.
    pub async fn join(&mut self, room: &str) -> Value {
        self.send(json!({"v": 1, "type": "room.join", "room": room}))
            .await;
        self.recv_type("room.snapshot").await
    }

    /// Waits until the connection is closed by the server; returns the close code.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            match self.next().await {
                Ok(_) => continue,
                Err(code) => return code,
            }
        }
    }
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed)
}
