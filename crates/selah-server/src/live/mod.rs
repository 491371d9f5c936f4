//! Live sessions over WebSockets (docs/LIVE.md): the upgrade and its checks (`upgrade.rs`), one
//! task pair per connection with heartbeat and limits (`connection.rs`), the JSON requests
//! (`requests.rs`), collaborative documents for y-websocket clients (`yjs.rs`), attendance
//! records kept true across crashes (`attendance.rs`), and the REST side: rooms, chat history,
//! breathing presets and one's own wellbeing history (`rest.rs`). Rooms, timers and fan-out are
//! `selah_live`'s.

mod attendance;
mod connection;
mod requests;
mod rest;
mod upgrade;
mod yjs;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use selah_core::config::LiveConfig;
use selah_live::bus::{Bus, RedisBus};
use selah_live::hub::Hub;
use selah_store::Store;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The live hub and what it shares between connections.
pub struct Live {
    /// Rooms of this instance.
    pub hub: Arc<Hub>,
    /// Open collaborative documents.
    docs: Arc<yjs::Docs>,
    /// Connections per user.
    users: Mutex<HashMap<String, usize>>,
}

impl Live {
    /// The hub, connected to Redis when `live.redis_url` is set, keeping attendance records in
    /// `store`.
    pub async fn start(config: &LiveConfig, store: Store) -> anyhow::Result<Arc<Self>> {
        let heartbeat = Duration::from_secs(config.heartbeat_secs);
        let url = config.redis_url.expose().trim();
        let bus = if url.is_empty() {
            Bus::Local
        } else {
            // A presence entry outlives three missed refreshes.
            Bus::Redis(Box::new(
                RedisBus::connect(url, heartbeat * 3).await.map_err(|e| {
                    anyhow::anyhow!("cannot connect to Redis at live.redis_url: {e}")
                })?,
            ))
        };
        let hub = Hub::new(bus, config.replay_messages);
        RedisBus::start(&hub, heartbeat);
        let docs = Arc::new(yjs::Docs::default());
        if matches!(hub.bus(), Bus::Redis(_))
            && let Some(frames) = hub.document_frames()
        {
            tokio::spawn(yjs::apply_remote(
                docs.clone(),
                Arc::downgrade(&hub),
                frames,
            ));
        }
        let live = Arc::new(Self {
            hub,
            docs,
            users: Mutex::default(),
        });
        attendance::keep(Arc::downgrade(&live), store, heartbeat);
        Ok(live)
    }

    /// Takes one of the user's connection slots, or `None` when they hold `limit` already.
    fn claim(self: &Arc<Self>, user: &str, limit: usize) -> Option<Slot> {
        let mut users = self.users.lock().expect("live users lock");
        let n = users.entry(user.to_string()).or_default();
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(Slot {
            live: self.clone(),
            user: user.to_string(),
        })
    }
}

/// A held connection slot; dropping it gives it back.
pub(crate) struct Slot {
    live: Arc<Live>,
    user: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut users = self.live.users.lock().expect("live users lock");
        if let Some(n) = users.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                users.remove(&self.user);
            }
        }
    }
}

/// The REST routes (in the OpenAPI document).
pub fn router() -> OpenApiRouter<AppState> {
    rest::router()
}

/// The WebSocket endpoints (outside the OpenAPI document, which cannot describe them).
pub fn sockets() -> Router<AppState> {
    Router::new()
        .route("/ws", get(upgrade::json))
        .route("/healing-ws", get(upgrade::json))
        .route("/ws/yjs/{room}", get(yjs::upgrade))
}

/// Server time in ms, with the fraction (for clock-offset probes).
pub(crate) fn now_precise() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}
