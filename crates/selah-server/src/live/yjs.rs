//! `GET /ws/yjs/{room}`: a room's collaborative document for y-websocket clients (binary
//! frames, one y-protocols message each). Updates are stored before they are relayed, so an
//! edit another client has received survives a crash; every `live.compact_every` updates the
//! log is folded into a snapshot.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use selah_core::Permission;
use selah_live::doc::SharedDoc;
use selah_store::live::LiveRoom;
use tokio::sync::mpsc;

use super::Slot;
use super::connection::Bucket;
use crate::authz::allows_in;
use crate::error::ApiError;
use crate::extract::Path;
use crate::state::AppState;

/// Frames a peer may have queued before it counts as too slow.
const PEER_QUEUE: usize = 1024;
/// Frames per second a peer may send (typing sends one per keystroke), in bursts of twice.
const FRAMES_PER_SEC: f64 = 500.0;

struct DocRoom {
    doc: SharedDoc,
    peers: HashMap<u64, mpsc::Sender<Message>>,
    /// The last stored update's id, and how many were stored since the last snapshot.
    last_update: Option<String>,
    since_snapshot: usize,
}

/// The documents open on this instance.
#[derive(Default)]
pub(super) struct Docs {
    rooms: Mutex<HashMap<String, Arc<tokio::sync::Mutex<DocRoom>>>>,
    next_peer: AtomicU64,
}

/// The upgrade: credentials with the request (cookie or bearer), the room visible to the
/// caller, live.join in its team.
pub(super) async fn upgrade(
    State(state): State<AppState>,
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Path(room_id): Path<String>,
) -> Response {
    match admit(&state, &headers, &uri, &room_id).await {
        Ok((room, slot)) => {
            let max = state.config.live.max_document_bytes;
            ws.max_message_size(max)
                .max_frame_size(max)
                .read_buffer_size(4096)
                .write_buffer_size(8 * 1024)
                .on_upgrade(move |socket| serve(socket, state, room, slot))
        }
        Err(e) => e.into_response(),
    }
}

async fn admit(
    state: &AppState,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    room_id: &str,
) -> Result<(LiveRoom, Slot), ApiError> {
    let user = super::upgrade::check(state, headers, uri)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    let room = state
        .store
        .live_room_for(room_id, user.id())
        .await?
        .ok_or_else(|| ApiError::not_found("room"))?;
    if !allows_in(state, &user, room.team_id.as_deref(), Permission::LiveJoin).await? {
        return Err(ApiError::forbidden("this needs the live.join permission"));
    }
    let limit = state.config.live.max_connections_per_user;
    let slot = state
        .live
        .claim(user.id(), limit)
        .ok_or_else(|| super::upgrade::too_many(limit))?;
    Ok((room, slot))
}

async fn open(state: &AppState, room: &str) -> Result<Arc<tokio::sync::Mutex<DocRoom>>, String> {
    let docs = &state.live.docs;
    if let Some(d) = docs.rooms.lock().expect("docs lock").get(room) {
        return Ok(d.clone());
    }
    let stored = state
        .store
        .live_doc(room)
        .await
        .map_err(|e| e.to_string())?;
    let updates: Vec<Vec<u8>> = stored.updates.iter().map(|(_, u)| u.clone()).collect();
    let doc = SharedDoc::load(
        stored.snapshot.as_ref().map(|(_, b)| b.as_slice()),
        &updates,
    )
    .map_err(|e| e.to_string())?;
    let fresh = Arc::new(tokio::sync::Mutex::new(DocRoom {
        doc,
        peers: HashMap::new(),
        last_update: stored.updates.last().map(|(id, _)| id.clone()),
        since_snapshot: stored.updates.len(),
    }));
    Ok(docs
        .rooms
        .lock()
        .expect("docs lock")
        .entry(room.to_string())
        .or_insert(fresh)
        .clone())
}

async fn serve(socket: WebSocket, state: AppState, room: LiveRoom, _slot: Slot) {
    let (mut sink, mut stream) = socket.split();
    let doc = match open(&state, &room.id).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, room = %room.id, "live: cannot open a document");
            let _ = sink
                .send(close(1011, "the document cannot be opened"))
                .await;
            return;
        }
    };
    let peer = state.live.docs.next_peer.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::channel::<Message>(PEER_QUEUE);
    {
        let mut d = doc.lock().await;
        for f in d.doc.greeting() {
            let _ = tx.try_send(Message::Binary(f));
        }
        d.peers.insert(peer, tx.clone());
    }
    let writer = tokio::spawn(async move {
        'frames: while let Some(f) = rx.recv().await {
            let mut next = Some(f);
            while let Some(f) = next {
                let last = matches!(f, Message::Close(_));
                if sink.feed(f).await.is_err() || last {
                    break 'frames;
                }
                next = rx.try_recv().ok();
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
        let _ = sink.close().await;
    });
    let mut bucket = Bucket::new(FRAMES_PER_SEC, FRAMES_PER_SEC * 2.0);
    let mut ending: Option<(u16, &'static str)> = None;
    while let Some(frame) = stream.next().await {
        let data = match frame {
            Ok(Message::Binary(b)) => b,
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(Message::Text(_)) => {
                ending = Some((4400, "Yjs messages are binary"));
                break;
            }
            Ok(_) => continue,
        };
        if !bucket.take() {
            ending = Some((1008, "too many messages"));
            break;
        }
        if let Err(reason) = take_frame(&state, &room.id, &doc, peer, &tx, &data).await {
            ending = Some(reason);
            break;
        }
    }
    let empty = {
        let mut d = doc.lock().await;
        d.peers.remove(&peer);
        if let Some(gone) = d.doc.leave(peer) {
            for p in d.peers.values() {
                let _ = p.try_send(Message::Binary(gone.clone()));
            }
        }
        d.peers.is_empty()
    };
    if empty {
        let mut rooms = state.live.docs.rooms.lock().expect("docs lock");
        if let Some(d) = rooms.get(&room.id)
            && d.try_lock().is_ok_and(|d| d.peers.is_empty())
        {
            rooms.remove(&room.id);
        }
    }
    if let Some((code, reason)) = ending {
        // The writer owns the sink: the close goes through its queue.
        let _ = tx.try_send(close(code, reason));
    }
    drop(tx);
    let _ = writer.await;
}

/// One frame: answer, store, relay. Errors close the connection with a y-websocket code that
/// stops its reconnecting (4400–4499) or 1011 for the server's own trouble.
async fn take_frame(
    state: &AppState,
    room: &str,
    doc: &tokio::sync::Mutex<DocRoom>,
    peer: u64,
    tx: &mpsc::Sender<Message>,
    data: &[u8],
) -> Result<(), (u16, &'static str)> {
    let mut d = doc.lock().await;
    let handled = d.doc.handle(peer, data).map_err(|e| {
        tracing::debug!(error = %e, "live: a document frame was refused");
        (4400, "not a Yjs message")
    })?;
    for update in &handled.store {
        let id = state
            .store
            .append_live_doc_update(room, update)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "live: cannot store a document update");
                (1011, "the update could not be stored")
            })?;
        d.last_update = Some(id);
        d.since_snapshot += 1;
    }
    if d.since_snapshot >= state.config.live.compact_every
        && let Some(upto) = d.last_update.clone()
    {
        let snapshot = d.doc.state();
        match state.store.compact_live_doc(room, &upto, &snapshot).await {
            Ok(()) => d.since_snapshot = 0,
            Err(e) => tracing::warn!(error = %e, "live: document compaction failed; will retry"),
        }
    }
    for f in handled.reply {
        if tx.try_send(Message::Binary(f)).is_err() {
            return Err((1013, "too slow"));
        }
    }
    for f in &handled.relay {
        for (p, ptx) in &d.peers {
            if *p != peer {
                let _ = ptx.try_send(Message::Binary(f.clone()));
            }
        }
    }
    Ok(())
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}
