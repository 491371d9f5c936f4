//! This instance's rooms and the connections in them.
//!
//! Each room is a [`Replica`] and its members behind one lock, so that a join (snapshot or
//! replay, then membership) and the fan-out of an event never interleave: a joining client sees
//! every event exactly once, after its snapshot. Fan-out renders a message once and queues the
//! same bytes on every member's bounded channel; a member whose queue is full is kicked (it
//! reconnects and resumes) rather than slowing the room down.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::{Notify, mpsc, watch};

use crate::bus::{Bus, BusError, DocFrame};
use crate::protocol::{ProtocolError, error_message, render};
use crate::room::{Event, Loaded, ReplayRefused, Replica, RoomInfo};

/// Messages a connection may have queued before it counts as too slow.
pub const QUEUE_CAPACITY: usize = 1024;
/// Document frames from other instances that may wait to be applied here. Beyond it frames are
/// dropped and their rooms reported by [`Hub::lost_documents`], to be reloaded from the store.
pub const DOC_QUEUE: usize = 4096;

/// A client connection, as the rooms see it.
pub struct Conn {
    /// Unique id (instance and counter).
    pub id: String,
    /// User id.
    pub user: String,
    /// Display name.
    pub username: String,
    tx: mpsc::Sender<Bytes>,
    kicked: AtomicBool,
    kick: Notify,
}

impl Conn {
    /// A connection and the receiving end of its outgoing queue.
    pub fn new(id: String, user: String, username: String) -> (Arc<Conn>, mpsc::Receiver<Bytes>) {
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let conn = Conn {
            id,
            user,
            username,
            tx,
            kicked: AtomicBool::new(false),
            kick: Notify::new(),
        };
        (Arc::new(conn), rx)
    }

    /// Queues a frame; a full queue kicks the connection.
    pub fn send(&self, frame: Bytes) {
        if self.tx.try_send(frame).is_err() {
            self.kick();
        }
    }

    /// Marks the connection for closing (too slow).
    pub fn kick(&self) {
        self.kicked.store(true, Ordering::Release);
        self.kick.notify_one();
    }

    /// Completes when the connection was kicked.
    pub async fn kicked(&self) {
        while !self.kicked.load(Ordering::Acquire) {
            self.kick.notified().await;
        }
    }
}

struct Members {
    replica: Replica,
    conns: Vec<Arc<Conn>>,
}

/// A room here: its replica and members, and the last sequence number applied (so that a
/// publisher through Redis can wait until its own event is in the local replica).
struct Slot {
    members: Mutex<Members>,
    applied: watch::Sender<u64>,
}

impl Slot {
    fn lock(&self) -> std::sync::MutexGuard<'_, Members> {
        self.members.lock().expect("room lock")
    }

    fn fan_out(&self, seq: u64, at: i64, event: &Event) {
        let mut m = self.lock();
        m.fan_out(seq, at, event);
        let now = m.replica.seq();
        drop(m);
        self.applied.send_if_modified(|v| {
            let changed = *v != now;
            *v = now;
            changed
        });
    }
}

impl Members {
    fn fan_out(&mut self, seq: u64, at: i64, event: &Event) {
        for d in self.replica.apply(seq, at, event) {
            for c in &self.conns {
                if self.replica.reaches(&d.audience, &c.user) {
                    c.send(d.text.clone());
                }
            }
        }
    }
}

/// The queue of document frames from other instances, and the rooms that overflowed it.
struct DocSink {
    tx: mpsc::Sender<DocFrame>,
    lost: Mutex<std::collections::HashSet<String>>,
}

/// This instance's rooms.
pub struct Hub {
    rooms: Mutex<HashMap<String, Arc<Slot>>>,
    doc_sink: std::sync::OnceLock<DocSink>,
    bus: Bus,
    buffer_cap: usize,
    instance: String,
    next_conn: AtomicU64,
}

impl Hub {
    /// A hub publishing through `bus`, keeping `buffer_cap` messages per room for resumes.
    pub fn new(bus: Bus, buffer_cap: usize) -> Arc<Self> {
        let instance = format!("{:08x}", rand_u32());
        Arc::new(Self {
            rooms: Mutex::default(),
            doc_sink: std::sync::OnceLock::new(),
            bus,
            buffer_cap,
            instance,
            next_conn: AtomicU64::new(1),
        })
    }

    /// The bus.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// This instance's id (random at start).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Where document frames from other instances go, in the order they arrive (once: `None`
    /// for a second caller).
    pub fn document_frames(&self) -> Option<mpsc::Receiver<DocFrame>> {
        let (tx, rx) = mpsc::channel(DOC_QUEUE);
        let sink = DocSink {
            tx,
            lost: Mutex::default(),
        };
        self.doc_sink.set(sink).ok()?;
        Some(rx)
    }

    /// A document frame from the bus; this instance's own are dropped. When the receiver is
    /// [`DOC_QUEUE`] frames behind, the frame is dropped and its room marked lost.
    pub fn deliver_doc(&self, frame: DocFrame) {
        if frame.instance == self.instance {
            return;
        }
        if let Some(sink) = self.doc_sink.get()
            && let Err(mpsc::error::TrySendError::Full(f)) = sink.tx.try_send(frame)
        {
            sink.lost
                .lock()
                .expect("lost documents lock")
                .insert(f.room);
        }
    }

    /// Rooms whose document missed frames from other instances since the last call: the copy
    /// here is behind and must be reloaded from the store (where every update was written
    /// before it was published).
    pub fn lost_documents(&self) -> Vec<String> {
        self.doc_sink
            .get()
            .map(|s| {
                let mut lost = s.lost.lock().expect("lost documents lock");
                std::mem::take(&mut *lost).into_iter().collect()
            })
            .unwrap_or_default()
    }

    /// A fresh connection id.
    pub fn conn_id(&self) -> String {
        format!(
            "{}-{}",
            self.instance,
            self.next_conn.fetch_add(1, Ordering::Relaxed)
        )
    }

    fn slot(&self, room: &str) -> Option<Arc<Slot>> {
        self.rooms.lock().expect("rooms lock").get(room).cloned()
    }

    /// Whether this instance holds a replica of `room`.
    pub fn is_open(&self, room: &str) -> bool {
        self.slot(room).is_some()
    }

    /// Rooms with a replica here.
    pub fn open_rooms(&self) -> Vec<String> {
        self.rooms
            .lock()
            .expect("rooms lock")
            .keys()
            .cloned()
            .collect()
    }

    /// Makes the replica of `room` from what the store holds, unless there is one already.
    /// The bus adds the room's current sequence number and presence.
    pub async fn open(&self, info: RoomInfo, mut loaded: Loaded) -> Result<(), BusError> {
        if self.is_open(&info.id) {
            return Ok(());
        }
        self.bus.prepare(&info.id, &mut loaded).await?;
        let id = info.id.clone();
        let seq = loaded.seq;
        let replica = Replica::new(info, loaded, self.buffer_cap);
        self.rooms
            .lock()
            .expect("rooms lock")
            .entry(id)
            .or_insert_with(|| {
                Arc::new(Slot {
                    members: Mutex::new(Members {
                        replica,
                        conns: Vec::new(),
                    }),
                    applied: watch::channel(seq).0,
                })
            });
        Ok(())
    }

    /// Runs `f` on the room's replica (to check a command against its state).
    pub fn with_replica<T>(&self, room: &str, f: impl FnOnce(&Replica) -> T) -> Option<T> {
        let slot = self.slot(room)?;
        let members = slot.lock();
        Some(f(&members.replica))
    }

    /// Adds `conn` to an open room: queues on the connection a snapshot, or the messages after
    /// `since` and `room.resumed` (or, for a `since` ahead of the room, a `bad_sequence` error
    /// and a snapshot), then announces it. `now` is the server time for the snapshot.
    pub async fn join(
        &self,
        room: &str,
        conn: &Arc<Conn>,
        since: Option<u64>,
        now: i64,
    ) -> Result<(), BusError> {
        let slot = self.slot(room).ok_or(BusError::NoRoom)?;
        {
            let mut m = slot.lock();
            match since.map(|s| (s, m.replica.replay(&conn.user, s))) {
                Some((s, Ok(missed))) => {
                    for frame in missed {
                        conn.send(frame);
                    }
                    let to = m.replica.seq();
                    let body = serde_json::json!({"from": s, "to": to});
                    conn.send(Bytes::from(render(
                        "room.resumed",
                        Some(room),
                        to,
                        now,
                        body,
                    )));
                }
                Some((_, Err(ReplayRefused::Ahead))) => {
                    let e = ProtocolError::new(
                        "bad_sequence",
                        "that sequence number is ahead of the room; the snapshot that follows replaces your state",
                    );
                    conn.send(Bytes::from(error_message(&e, None, Some(room), now)));
                    conn.send(m.replica.snapshot(&conn.user, now));
                }
                _ => {
                    conn.send(m.replica.snapshot(&conn.user, now));
                }
            }
            if !m.conns.iter().any(|c| c.id == conn.id) {
                m.conns.push(conn.clone());
            }
        }
        self.bus
            .presence_add(room, &conn.user, &conn.username, &conn.id)
            .await?;
        let joined = Event::Joined {
            user: conn.user.clone(),
            username: conn.username.clone(),
            conn: conn.id.clone(),
        };
        self.publish(room, now, joined).await?;
        Ok(())
    }

    /// Removes `conn` from `room` and announces it; the replica is dropped with its last member.
    pub async fn leave(&self, room: &str, conn: &Conn, now: i64) -> Result<(), BusError> {
        let Some(slot) = self.slot(room) else {
            return Ok(());
        };
        let empty = {
            let mut m = slot.lock();
            let before = m.conns.len();
            m.conns.retain(|c| c.id != conn.id);
            if m.conns.len() == before {
                return Ok(());
            }
            m.conns.is_empty()
        };
        if self
            .bus
            .presence_remove(room, &conn.user, &conn.username, &conn.id)
            .await?
        {
            self.publish(
                room,
                now,
                Event::Left {
                    user: conn.user.clone(),
                    conn: conn.id.clone(),
                },
            )
            .await?;
        }
        if empty {
            let mut rooms = self.rooms.lock().expect("rooms lock");
            // Someone may have joined while the leave was announced.
            if rooms.get(room).is_some_and(|s| s.lock().conns.is_empty()) {
                rooms.remove(room);
            }
        }
        Ok(())
    }

    /// Gives `event` the room's next sequence number and delivers it everywhere; returns the
    /// number.
    pub async fn publish(&self, room: &str, at: i64, event: Event) -> Result<u64, BusError> {
        match &self.bus {
            Bus::Local => {
                let slot = self.slot(room).ok_or(BusError::NoRoom)?;
                let mut m = slot.lock();
                let seq = m.replica.seq() + 1;
                m.fan_out(seq, at, &event);
                Ok(seq)
            }
            Bus::Redis(r) => {
                let seq = r.publish(room, at, &event).await?;
                // Back from Redis to this instance too: the caller's next check of the room's
                // state must see its own event.
                if let Some(slot) = self.slot(room) {
                    let mut applied = slot.applied.subscribe();
                    let _ = tokio::time::timeout(
                        std::time::Duration::from_secs(2),
                        applied.wait_for(|s| *s >= seq),
                    )
                    .await;
                }
                Ok(seq)
            }
        }
    }

    /// Applies an event that arrived from the bus (a no-op for a room with no replica here).
    pub fn deliver(&self, room: &str, seq: u64, at: i64, event: &Event) {
        if let Some(slot) = self.slot(room) {
            slot.fan_out(seq, at, event);
        }
    }

    /// The connections of this instance in `room` (for presence refreshes).
    pub fn members(&self, room: &str) -> Vec<Arc<Conn>> {
        self.slot(room)
            .map(|s| s.lock().conns.clone())
            .unwrap_or_default()
    }
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(room: &str, instance: &str) -> DocFrame {
        DocFrame {
            room: room.into(),
            instance: instance.into(),
            id: None,
            frame: Bytes::from_static(b"\x01"),
        }
    }

    #[test]
    fn document_frames_are_bounded_and_an_overflow_names_its_room() {
        let hub = Hub::new(Bus::Local, 8);
        let mut rx = hub.document_frames().expect("first receiver");
        assert!(hub.document_frames().is_none(), "one receiver only");
        // This instance's own frames never queue.
        hub.deliver_doc(frame("a", hub.instance()));
        assert!(rx.try_recv().is_err());
        for _ in 0..DOC_QUEUE {
            hub.deliver_doc(frame("a", "other"));
        }
        assert!(
            hub.lost_documents().is_empty(),
            "a full queue loses nothing"
        );
        hub.deliver_doc(frame("b", "other"));
        hub.deliver_doc(frame("b", "other"));
        assert_eq!(hub.lost_documents(), vec!["b".to_string()]);
        assert!(hub.lost_documents().is_empty(), "reported once");
        // Everything that fitted is still delivered, in order.
        let mut n = 0;
        while let Ok(f) = rx.try_recv() {
            assert_eq!(f.room, "a");
            n += 1;
        }
        assert_eq!(n, DOC_QUEUE);
    }
}
