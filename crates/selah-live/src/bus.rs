//! How a room's events get their sequence numbers and reach every instance.
//!
//! [`Bus::Local`]: one instance; the hub numbers events under the room's lock.
//! [`Bus::Redis`]: several instances share rooms. A Lua script increments the room's counter and
//! publishes the event in one atomic step, so the order of publication is the order of the
//! numbers and every subscriber sees the same sequence. Presence lives in a sorted set per room
//! scored by expiry: each instance refreshes its own connections' entries, and whichever
//! instance removes an expired entry (ZREM is atomic, so exactly one does) announces the leave.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;

use crate::hub::Hub;
use crate::room::{Event, Loaded};

/// The channel every instance subscribes to.
pub const CHANNEL: &str = "selah:live:events";
/// The channel of collaborative-document frames (binary: room, instance, update id, frame).
pub const DOC_CHANNEL: &str = "selah:live:docs";

/// A failure to publish.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The room has no replica on this instance.
    #[error("the room is not open here")]
    NoRoom,
    /// Redis failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// The fan-out between instances.
pub enum Bus {
    /// This instance alone.
    Local,
    /// Through Redis.
    Redis(Box<RedisBus>),
}

impl Bus {
    /// Fills in what the bus knows of a room being opened: its current sequence number (never
    /// below what the store has) and who is present on other instances.
    pub async fn prepare(&self, room: &str, loaded: &mut Loaded) -> Result<(), BusError> {
        match self {
            Bus::Local => Ok(()),
            Bus::Redis(r) => r.prepare(room, loaded).await,
        }
    }

    /// Records a connection's presence.
    pub async fn presence_add(
        &self,
        room: &str,
        user: &str,
        username: &str,
        conn: &str,
    ) -> Result<(), BusError> {
        match self {
            Bus::Local => Ok(()),
            Bus::Redis(r) => r.presence_add(room, &member(user, username, conn)).await,
        }
    }

    /// Removes a connection's presence; true when this call removed it (and so announces it).
    pub async fn presence_remove(
        &self,
        room: &str,
        user: &str,
        username: &str,
        conn: &str,
    ) -> Result<bool, BusError> {
        match self {
            Bus::Local => Ok(true),
            Bus::Redis(r) => r.presence_remove(room, &member(user, username, conn)).await,
        }
    }
}

fn member(user: &str, username: &str, conn: &str) -> String {
    // User and connection ids never contain '|'; the username sits between them.
    format!("{user}|{conn}|{username}")
}

fn parse_member(m: &str) -> Option<(String, String, String)> {
    let mut parts = m.splitn(3, '|');
    let user = parts.next()?.to_string();
    let conn = parts.next()?.to_string();
    let username = parts.next()?.to_string();
    Some((user, username, conn))
}

fn seq_key(room: &str) -> String {
    format!("selah:live:{room}:seq")
}

fn presence_key(room: &str) -> String {
    format!("selah:live:{room}:presence")
}

const PUBLISH: &str = r"
local seq = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2] .. '\n' .. seq .. '\n' .. ARGV[3])
return seq
";

/// Rooms through Redis.
pub struct RedisBus {
    client: redis::Client,
    conn: MultiplexedConnection,
    publish: redis::Script,
    /// How long a presence entry lives without a refresh.
    presence_ttl: Duration,
}

impl RedisBus {
    /// Connects; presence entries expire after `presence_ttl` without a refresh.
    pub async fn connect(url: &str, presence_ttl: Duration) -> Result<Self, BusError> {
        let client = redis::Client::open(url)?;
        let conn = client.get_multiplexed_async_connection().await?;
        Ok(Self {
            client,
            conn,
            publish: redis::Script::new(PUBLISH),
            presence_ttl,
        })
    }

    fn expiry(&self) -> i64 {
        now_ms() + self.presence_ttl.as_millis() as i64
    }

    pub(crate) async fn prepare(&self, room: &str, loaded: &mut Loaded) -> Result<(), BusError> {
        let mut c = self.conn.clone();
        // A Redis that lost its data must not number events below what is stored.
        let _: bool = c.set_nx(seq_key(room), loaded.seq).await?;
        let seq: Option<u64> = c.get(seq_key(room)).await?;
        loaded.seq = seq.unwrap_or(loaded.seq).max(loaded.seq);
        let members: Vec<String> = c
            .zrangebyscore(presence_key(room), now_ms(), "+inf")
            .await?;
        loaded.presence = members.iter().filter_map(|m| parse_member(m)).collect();
        Ok(())
    }

    pub(crate) async fn publish(
        &self,
        room: &str,
        at: i64,
        event: &Event,
    ) -> Result<u64, BusError> {
        let payload = serde_json::to_string(&(at, event)).expect("events serialize");
        let seq: u64 = self
            .publish
            .key(seq_key(room))
            .arg(CHANNEL)
            .arg(room)
            .arg(payload)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(seq)
    }

    /// Passes a document frame (with the id its update was stored under, if it is one) to the
    /// other instances.
    pub async fn publish_doc(
        &self,
        room: &str,
        instance: &str,
        id: Option<&str>,
        frame: &[u8],
    ) -> Result<(), BusError> {
        let mut payload = format!("{room}\n{instance}\n{}\n", id.unwrap_or("")).into_bytes();
        payload.extend_from_slice(frame);
        let _: i64 = self.conn.clone().publish(DOC_CHANNEL, payload).await?;
        Ok(())
    }

    pub(crate) async fn presence_add(&self, room: &str, member: &str) -> Result<(), BusError> {
        let _: i64 = self
            .conn
            .clone()
            .zadd(presence_key(room), member, self.expiry())
            .await?;
        Ok(())
    }

    pub(crate) async fn presence_remove(&self, room: &str, member: &str) -> Result<bool, BusError> {
        let removed: i64 = self.conn.clone().zrem(presence_key(room), member).await?;
        Ok(removed == 1)
    }

    /// Runs until the hub is dropped: applies the events every instance publishes, refreshes
    /// this instance's presence entries and announces the leave of expired ones, every
    /// `heartbeat`.
    pub fn start(hub: &Arc<Hub>, heartbeat: Duration) {
        let Bus::Redis(bus) = hub.bus() else { return };
        let client = bus.client.clone();
        let weak = Arc::downgrade(hub);
        tokio::spawn(subscribe(client, weak.clone()));
        tokio::spawn(keep_presence(weak, heartbeat));
    }
}

async fn subscribe(client: redis::Client, hub: Weak<Hub>) {
    loop {
        let mut pubsub = match client.get_async_pubsub().await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "live: cannot subscribe to Redis; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = pubsub.subscribe(&[CHANNEL, DOC_CHANNEL]).await {
            tracing::warn!(error = %e, "live: cannot subscribe to Redis; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        let mut stream = pubsub.on_message();
        while let Some(msg) = stream.next().await {
            let Some(hub) = hub.upgrade() else { return };
            if msg.get_channel_name() == DOC_CHANNEL {
                match decode_doc(msg.get_payload_bytes()) {
                    Some(frame) => hub.deliver_doc(frame),
                    None => tracing::warn!("live: a document frame on the bus could not be read"),
                }
                continue;
            }
            let Ok(payload) = msg.get_payload::<String>() else {
                continue;
            };
            match decode(&payload) {
                Some((room, seq, at, event)) => hub.deliver(room, seq, at, &event),
                None => tracing::warn!("live: an event on the bus could not be read"),
            }
        }
        if hub.strong_count() == 0 {
            return;
        }
        tracing::warn!("live: the Redis subscription ended; resubscribing");
    }
}

fn decode(payload: &str) -> Option<(&str, u64, i64, Event)> {
    let (room, rest) = payload.split_once('\n')?;
    let (seq, body) = rest.split_once('\n')?;
    let (at, event): (i64, Event) = serde_json::from_str(body).ok()?;
    Some((room, seq.parse().ok()?, at, event))
}

/// A document frame from another instance.
#[derive(Debug, Clone)]
pub struct DocFrame {
    /// The room.
    pub room: String,
    /// The instance that took it from its client.
    pub instance: String,
    /// The id its update was stored under (none for awareness).
    pub id: Option<String>,
    /// The y-protocols message.
    pub frame: bytes::Bytes,
}

fn decode_doc(payload: &[u8]) -> Option<DocFrame> {
    let mut parts = payload.splitn(4, |b| *b == b'\n');
    let text = |b: &[u8]| std::str::from_utf8(b).ok().map(str::to_string);
    let room = text(parts.next()?)?;
    let instance = text(parts.next()?)?;
    let id = text(parts.next()?)?;
    let frame = bytes::Bytes::copy_from_slice(parts.next()?);
    Some(DocFrame {
        room,
        instance,
        id: (!id.is_empty()).then_some(id),
        frame,
    })
}

async fn keep_presence(hub: Weak<Hub>, heartbeat: Duration) {
    let mut tick = tokio::time::interval(heartbeat);
    loop {
        tick.tick().await;
        let Some(hub) = hub.upgrade() else { return };
        if let Err(e) = refresh_once(&hub).await {
            tracing::warn!(error = %e, "live: presence refresh failed");
        }
    }
}

async fn refresh_once(hub: &Arc<Hub>) -> Result<(), BusError> {
    let Bus::Redis(bus) = hub.bus() else {
        return Ok(());
    };
    let mut c = bus.conn.clone();
    for room in hub.open_rooms() {
        let key = presence_key(&room);
        let expiry = bus.expiry();
        for conn in hub.members(&room) {
            let m = member(&conn.user, &conn.username, &conn.id);
            let _: i64 = c.zadd(&key, m, expiry).await?;
        }
        let expired: Vec<String> = c.zrangebyscore(&key, "-inf", now_ms()).await?;
        for m in expired {
            let removed: i64 = c.zrem(&key, &m).await?;
            if removed == 1
                && let Some((user, _, conn)) = parse_member(&m)
            {
                hub.publish(&room, now_ms(), Event::Left { user, conn })
                    .await?;
            }
        }
    }
    Ok(())
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
