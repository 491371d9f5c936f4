//! One JSON-protocol connection: authentication (cookie at the upgrade, or the first message),
//! then a reader that enforces the size and rate limits and hands each request to
//! [`Session`], and a writer that drains the connection's queue in batches (one flush for
//! whatever has piled up), pings on the heartbeat and closes the socket when told to.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use selah_live::hub::Conn;
use selah_live::protocol::{self, ProtocolError, Request};
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use super::Slot;
use super::requests::Session;
use crate::auth::CurrentUser;
use crate::auth::current::AuthVia;
use crate::state::AppState;

/// How long a connection without credentials has to send its `auth` message.
const AUTH_WITHIN: Duration = Duration::from_secs(10);

/// Close codes (RFC 6455 and the protocol's own).
pub(super) mod close {
    /// Going away (heartbeat lost).
    pub const GOING_AWAY: u16 = 1001;
    /// Policy violation (flooding, authentication).
    pub const POLICY: u16 = 1008;
    /// Message too big.
    pub const TOO_BIG: u16 = 1009;
    /// Try again later (the client could not keep up).
    pub const TRY_AGAIN: u16 = 1013;
}

/// A request to close, from the reader to the writer.
type CloseTx = watch::Sender<Option<(u16, &'static str)>>;

/// Token bucket: `rate` per second, bursts of `burst`.
pub(super) struct Bucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    last: Instant,
}

impl Bucket {
    pub(super) fn new(rate: f64, burst: f64) -> Self {
        Self {
            tokens: burst,
            rate,
            burst,
            last: Instant::now(),
        }
    }

    pub(super) fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

fn error_frame(e: &ProtocolError, reference: Option<&str>) -> Bytes {
    Bytes::from(protocol::error_message(
        e,
        reference,
        None,
        selah_live::bus::now_ms(),
    ))
}

/// Serves one upgraded connection until it closes.
pub(super) async fn run(
    socket: WebSocket,
    state: AppState,
    user: Option<CurrentUser>,
    slot: Option<Slot>,
) {
    let (sink, mut stream) = socket.split();
    let (close_tx, close_rx) = watch::channel(None);
    let unanswered = Arc::new(AtomicU32::new(0));
    // Until authenticated, frames go straight out through a small queue of their own.
    let (early_tx, early_rx) = mpsc::channel::<Bytes>(8);
    let heartbeat = Duration::from_secs(state.config.live.heartbeat_secs);
    let (user, _slot) = match user {
        Some(u) => (u, slot),
        None => match authenticate(&state, &mut stream, &early_tx).await {
            Some(pair) => pair,
            None => {
                let _ = close_tx.send(Some((close::POLICY, "authentication failed")));
                drop(early_tx);
                write_loop(sink, early_rx, None, close_rx, heartbeat, unanswered).await;
                return;
            }
        },
    };
    let (conn, rx) = Conn::new(
        state.live.hub.conn_id(),
        user.id().to_string(),
        user.user.username.clone(),
    );
    drop(early_tx);
    let writer = tokio::spawn(write_loop_after(
        sink,
        early_rx,
        rx,
        conn.clone(),
        close_rx,
        heartbeat,
        unanswered.clone(),
    ));
    let mut session = Session::new(state.clone(), user, conn.clone());
    session.hello();
    read_loop(&state, &mut stream, &mut session, &close_tx, &unanswered).await;
    session.leave_all().await;
    // Unless the reader already said why it stopped.
    close_tx.send_if_modified(|c| {
        let unset = c.is_none();
        if unset {
            *c = Some((close::GOING_AWAY, "bye"));
        }
        unset
    });
    drop(session);
    drop(conn);
    let _ = writer.await;
}

/// Waits for the `auth` message; answers an error and returns `None` on anything else.
async fn authenticate(
    state: &AppState,
    stream: &mut SplitStream<WebSocket>,
    out: &mpsc::Sender<Bytes>,
) -> Option<(CurrentUser, Option<Slot>)> {
    let refuse = |code: &'static str, msg: &str| {
        let _ = out.try_send(error_frame(&ProtocolError::new(code, msg), None));
    };
    let first = tokio::time::timeout(AUTH_WITHIN, async {
        loop {
            match stream.next().await {
                Some(Ok(Message::Text(t))) => return Some(t),
                Some(Ok(Message::Binary(_))) => return None,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    let Ok(Some(text)) = first else {
        refuse(
            "unauthenticated",
            "send {\"v\":1,\"type\":\"auth\",\"token\":…} first, within 10 seconds",
        );
        return None;
    };
    let token = match protocol::parse(&text) {
        Ok(incoming) => match incoming.request {
            Request::Auth { token } => token,
            _ => {
                refuse(
                    "unauthenticated",
                    "authenticate first: {\"v\":1,\"type\":\"auth\",\"token\":…}",
                );
                return None;
            }
        },
        Err((_, e)) => {
            let _ = out.try_send(error_frame(&e, None));
            return None;
        }
    };
    let user = match CurrentUser::from_token(state, &token, AuthVia::Bearer).await {
        Ok(u) => u,
        Err(_) => {
            refuse(
                "unauthenticated",
                "that token is not a live session; sign in again",
            );
            return None;
        }
    };
    let limit = state.config.live.max_connections_per_user;
    match state.live.claim(user.id(), limit) {
        Some(slot) => Some((user, Some(slot))),
        None => {
            refuse(
                "too_many_connections",
                &format!("you already have {limit} live connections open; close one first"),
            );
            None
        }
    }
}

async fn read_loop(
    state: &AppState,
    stream: &mut SplitStream<WebSocket>,
    session: &mut Session,
    close_tx: &CloseTx,
    unanswered: &AtomicU32,
) {
    let cfg = &state.config.live;
    let rate = cfg.messages_per_sec as f64;
    let mut bucket = Bucket::new(rate, rate * 2.0);
    let flood_after = cfg.messages_per_sec * 2;
    let mut refused_in_a_row = 0u32;
    while let Some(frame) = stream.next().await {
        let text = match frame {
            Ok(Message::Text(t)) => t,
            Ok(Message::Pong(_)) => {
                unanswered.store(0, Ordering::Release);
                continue;
            }
            Ok(Message::Ping(_)) => continue,
            Ok(Message::Binary(_)) => {
                session.send(error_frame(
                    &ProtocolError::new("malformed", "this protocol uses text frames"),
                    None,
                ));
                continue;
            }
            Ok(Message::Close(_)) => return,
            Err(e) => {
                if is_capacity(&e) {
                    session.send(error_frame(&too_large(cfg.max_message_bytes), None));
                    let _ = close_tx.send(Some((close::TOO_BIG, "message too large")));
                }
                return;
            }
        };
        let received = super::now_precise();
        if text.len() > cfg.max_message_bytes {
            session.send(error_frame(&too_large(cfg.max_message_bytes), None));
            let _ = close_tx.send(Some((close::TOO_BIG, "message too large")));
            return;
        }
        if !bucket.take() {
            refused_in_a_row += 1;
            if refused_in_a_row > flood_after {
                let _ = close_tx.send(Some((close::POLICY, "too many messages")));
                return;
            }
            session.send(error_frame(
                &ProtocolError::new(
                    "rate_limited",
                    format!(
                        "at most {} messages a second; slow down",
                        cfg.messages_per_sec
                    ),
                ),
                None,
            ));
            continue;
        }
        refused_in_a_row = 0;
        match protocol::parse(&text) {
            Ok(incoming) => session.handle(incoming, received).await,
            Err((id, e)) => session.send(error_frame(&e, id.as_deref())),
        }
    }
}

fn too_large(max: usize) -> ProtocolError {
    ProtocolError::new("too_large", format!("a message is at most {max} bytes"))
}

pub(super) fn is_capacity(e: &axum::Error) -> bool {
    let text = e.to_string();
    text.contains("Space limit exceeded")
        || text.contains("too long")
        || text.contains("Message too big")
}

/// Sends what was queued before authentication ended, then closes as told.
async fn write_loop(
    sink: SplitSink<WebSocket, Message>,
    early: mpsc::Receiver<Bytes>,
    conn: Option<Arc<Conn>>,
    close_rx: watch::Receiver<Option<(u16, &'static str)>>,
    heartbeat: Duration,
    unanswered: Arc<AtomicU32>,
) {
    let (_tx, rx) = mpsc::channel(1);
    let conn = conn.unwrap_or_else(|| Conn::new(String::new(), String::new(), String::new()).0);
    write_loop_after(sink, early, rx, conn, close_rx, heartbeat, unanswered).await;
}

async fn write_loop_after(
    mut sink: SplitSink<WebSocket, Message>,
    mut early: mpsc::Receiver<Bytes>,
    mut rx: mpsc::Receiver<Bytes>,
    conn: Arc<Conn>,
    mut close_rx: watch::Receiver<Option<(u16, &'static str)>>,
    heartbeat: Duration,
    unanswered: Arc<AtomicU32>,
) {
    while let Ok(frame) = early.try_recv() {
        if sink.feed(text(frame)).await.is_err() {
            return;
        }
    }
    if sink.flush().await.is_err() {
        return;
    }
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    let closing = loop {
        if let Some(c) = *close_rx.borrow() {
            break Some(c);
        }
        tokio::select! {
            biased;
            changed = close_rx.changed() => {
                if changed.is_err() { break None; }
            }
            _ = conn.kicked() => break Some((close::TRY_AGAIN, "too slow: reconnect and resume")),
            _ = tick.tick() => {
                if unanswered.fetch_add(1, Ordering::AcqRel) >= 2 {
                    break Some((close::GOING_AWAY, "no answer to two pings"));
                }
                if sink.send(Message::Ping(Bytes::new())).await.is_err() { return; }
            }
            frame = rx.recv() => {
                let Some(frame) = frame else { break None };
                if sink.feed(text(frame)).await.is_err() { return; }
                // Whatever else piled up goes in the same flush.
                let mut n = 0;
                while n < 256 && let Ok(frame) = rx.try_recv() {
                    if sink.feed(text(frame)).await.is_err() { return; }
                    n += 1;
                }
                if sink.flush().await.is_err() { return; }
            }
        }
    };
    // Replies queued just before the close (an error saying why) go first.
    while let Ok(frame) = rx.try_recv() {
        if sink.feed(text(frame)).await.is_err() {
            return;
        }
    }
    if let Some((code, reason)) = closing {
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            })))
            .await;
    }
    let _ = sink.close().await;
}

fn text(frame: Bytes) -> Message {
    // Frames are rendered from Rust strings, so they are UTF-8.
    Message::Text(Utf8Bytes::try_from(frame).unwrap_or_else(|_| Utf8Bytes::from_static("")))
}

/// A reply to a request: `ack` with fields of the request's own.
#[derive(Serialize)]
pub(super) struct Ack<'a, T: Serialize> {
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<&'a str>,
    #[serde(flatten)]
    pub body: T,
}
