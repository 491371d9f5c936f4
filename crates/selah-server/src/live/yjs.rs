//! `GET /ws/yjs/{room}`: a room's collaborative document for y-websocket clients (binary
//! frames, one y-protocols message each). Updates are stored before they are relayed, so an
//! edit another client has received survives a crash; every `live.compact_every` updates the
//! log is folded into a snapshot.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use selah_core::Permission;
use selah_live::bus::{Bus, DocFrame};
use selah_live::doc::{REMOTE_PEER, SharedDoc};
use selah_live::hub::Hub;
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
    /// Ids of the logged updates this document holds: the next compaction folds exactly these
    /// into the snapshot (with Redis, other instances log updates too).
    applied: Vec<String>,
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
        applied: stored.updates.into_iter().map(|(id, _)| id).collect(),
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
    let unanswered = Arc::new(AtomicU32::new(0));
    let heartbeat = Duration::from_secs(state.config.live.heartbeat_secs);
    let missed = unanswered.clone();
    let writer = tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        'frames: loop {
            let f = tokio::select! {
                f = rx.recv() => f,
                _ = tick.tick() => Some(if missed.fetch_add(1, Ordering::AcqRel) >= 2 {
                    close(1001, "no answer to two pings")
                } else {
                    Message::Ping(bytes::Bytes::new())
                }),
            };
            let Some(f) = f else { break };
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
            Ok(Message::Pong(_)) => {
                unanswered.store(0, Ordering::Release);
                continue;
            }
            Ok(Message::Close(_)) => break,
            Err(e) => {
                if super::connection::is_capacity(&e) {
                    ending = Some((1009, "frame too large"));
                }
                break;
            }
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
            share(&state, &room.id, None, &gone).await;
        }
        d.peers.is_empty()
    };
    if empty {
        let mut rooms = state.live.docs.rooms.lock().expect("docs lock");
        // Only this document: it may have been replaced by a fresh load (`reload_behind`).
        if let Some(d) = rooms.get(&room.id)
            && Arc::ptr_eq(d, &doc)
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
    let mut ids = Vec::with_capacity(handled.store.len());
    for update in &handled.store {
        let id = state
            .store
            .append_live_doc_update(room, update)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "live: cannot store a document update");
                (1011, "the update could not be stored")
            })?;
        d.applied.push(id.clone());
        ids.push(id);
    }
    if d.applied.len() >= state.config.live.compact_every {
        compact(state, room, &mut d).await;
    }
    for f in handled.reply {
        if tx.try_send(Message::Binary(f)).is_err() {
            return Err((1013, "too slow"));
        }
    }
    let relay = handled
        .updates
        .iter()
        .zip(ids.iter().map(Some))
        .chain(handled.awareness.iter().map(|f| (f, None)));
    for (f, id) in relay {
        for (p, ptx) in &d.peers {
            if *p != peer {
                let _ = ptx.try_send(Message::Binary(f.clone()));
            }
        }
        share(state, room, id.map(String::as_str), f).await;
    }
    Ok(())
}

/// Passes a frame to the other instances (with Redis); the update it carries is stored.
async fn share(state: &AppState, room: &str, id: Option<&str>, frame: &[u8]) {
    let hub = &state.live.hub;
    if let Bus::Redis(r) = hub.bus()
        && let Err(e) = r.publish_doc(room, hub.instance(), id, frame).await
    {
        tracing::warn!(error = %e, "live: cannot pass a document frame to the other instances");
    }
}

/// Folds the logged updates this document holds into the snapshot. The snapshot is merged with
/// the stored one (another instance may have written it) and replaced only if nobody changed it
/// in between; a lost race is retried at the next update.
async fn compact(state: &AppState, room: &str, d: &mut DocRoom) {
    let result = async {
        let current = state
            .store
            .live_doc_snapshot(room)
            .await
            .map_err(|e| e.to_string())?;
        let mine = d.doc.state();
        let body = match &current {
            Some((_, old)) => SharedDoc::merge(old, &mine).map_err(|e| e.to_string())?,
            None => mine,
        };
        let version = current.as_ref().map(|(v, _)| v.as_str());
        state
            .store
            .compact_live_doc(room, version, &body, &d.applied)
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    match result {
        Ok(true) => d.applied.clear(),
        Ok(false) => tracing::debug!(
            room,
            "live: another instance compacted first; retrying later"
        ),
        Err(e) => tracing::warn!(error = %e, "live: document compaction failed; will retry"),
    }
}

/// Applies frames from other instances to the documents open here, in the order they came,
/// and passes them to the local peers. A document that missed frames because this instance
/// fell behind is reloaded instead (`reload_behind`).
pub(super) async fn apply_remote(
    docs: Arc<Docs>,
    hub: Weak<Hub>,
    mut frames: mpsc::Receiver<DocFrame>,
) {
    while let Some(f) = frames.recv().await {
        let Some(lost) = hub.upgrade().map(|h| h.lost_documents()) else {
            return;
        };
        for room in lost {
            reload_behind(&docs, &room).await;
        }
        let Some(doc) = docs.rooms.lock().expect("docs lock").get(&f.room).cloned() else {
            continue;
        };
        let mut d = doc.lock().await;
        match d.doc.handle(REMOTE_PEER, &f.frame) {
            Ok(handled) => {
                for frame in handled.updates.iter().chain(handled.awareness.iter()) {
                    for p in d.peers.values() {
                        let _ = p.try_send(Message::Binary(frame.clone()));
                    }
                }
                if let Some(id) = f.id {
                    d.applied.push(id);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "live: a document frame from another instance was refused")
            }
        }
    }
}

/// A document that missed frames from other instances: it is dropped and its peers are closed
/// with "try again later"; they reconnect and the document loads afresh from the store, which
/// holds every update (each is stored before it is published).
async fn reload_behind(docs: &Docs, room: &str) {
    let Some(doc) = docs.rooms.lock().expect("docs lock").remove(room) else {
        return;
    };
    let d = doc.lock().await;
    tracing::warn!(
        room,
        peers = d.peers.len(),
        "live: a document fell behind the other instances; its clients reconnect to reload it"
    );
    for p in d.peers.values() {
        let _ = p.try_send(close(1013, "this server fell behind; reconnect"));
    }
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}
