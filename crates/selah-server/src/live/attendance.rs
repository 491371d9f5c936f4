//! Meditation and breathing attendance that survives a crash. Every heartbeat this instance
//! marks the attendance records it holds open as seen; then it closes anyone's open records that
//! nobody has seen for three heartbeats (the instance holding them died, here or elsewhere), at
//! the time they were last seen, so a person's history never shows a session that never ends.

use std::sync::Weak;
use std::time::Duration;

use selah_store::{Store, now_ms};
use tokio::time::MissedTickBehavior;

use super::Live;

/// Heartbeats without a refresh after which an open record counts as abandoned.
const STALE_AFTER: u32 = 3;

/// Starts the refresh; it stops with the live hub.
pub(super) fn keep(live: Weak<Live>, store: Store, heartbeat: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(heartbeat);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            // The first tick is at once: records a crashed process left are closed at start.
            tick.tick().await;
            let Some(instance) = live.upgrade().map(|l| l.hub.instance().to_string()) else {
                return;
            };
            refresh(&store, &instance, heartbeat * STALE_AFTER).await;
        }
    });
}

async fn refresh(store: &Store, instance: &str, stale: Duration) {
    let now = now_ms();
    if let Err(e) = store.touch_live_sessions(instance, now).await {
        tracing::warn!(error = %e, "live: cannot refresh attendance records");
        return;
    }
    match store
        .close_stale_live_sessions(now - stale.as_millis() as i64)
        .await
    {
        Ok(0) => {}
        Ok(closed) => tracing::info!(
            closed,
            "live: closed attendance records a stopped server left open"
        ),
        Err(e) => tracing::warn!(error = %e, "live: cannot close abandoned attendance records"),
    }
}
