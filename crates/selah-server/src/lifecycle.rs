//! systemd integration through `sd_notify`: `READY=1` once the server is listening,
//! `WATCHDOG=1` at half the `WATCHDOG_USEC` interval while the store still answers a ping, and
//! `STOPPING=1` when shutdown begins.
//!
//! Everything is gated by `watchdog.enabled` (`WATCHDOG_ENABLED`) and is a no-op when systemd did
//! not pass `NOTIFY_SOCKET`. The watchdog pings only while the database answers: a server whose
//! store hangs stops pinging, and systemd restarts it (`WatchdogSec=` in the unit file).

use std::future::Future;
use std::time::Duration;

use sd_notify::NotifyState;
use selah_core::Config;
use selah_store::Store;
use tokio::task::JoinHandle;

/// Where notifications go: the systemd socket in production, a recorder in tests.
pub trait Notifier: Send + Sync + 'static {
    /// Sends one state change. Failures are logged, never fatal.
    fn notify(&self, state: &[NotifyState<'_>]);
}

/// The real notifier: `sd_notify::notify` on `$NOTIFY_SOCKET` (nothing when it is unset).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemdNotifier;

impl Notifier for SystemdNotifier {
    fn notify(&self, state: &[NotifyState<'_>]) {
        if let Err(e) = sd_notify::notify(false, state) {
            tracing::warn!(error = %e, "sd_notify failed");
        }
    }
}

/// The server's systemd link for one run. Built from the configuration; inert when disabled.
pub struct Lifecycle {
    enabled: bool,
    stopping_sent: bool,
    watchdog: Option<JoinHandle<()>>,
}

impl Lifecycle {
    /// A lifecycle that notifies only when `watchdog.enabled` is on.
    pub fn new(config: &Config) -> Self {
        Self {
            enabled: config.watchdog.enabled,
            stopping_sent: false,
            watchdog: None,
        }
    }

    /// Call once the listener accepts connections: sends `READY=1` and, when systemd asked for
    /// a watchdog (`WATCHDOG_USEC` for this process), starts pinging it.
    pub fn ready(&mut self, store: Store) {
        if !self.enabled {
            return;
        }
        SystemdNotifier.notify(&[NotifyState::Ready, NotifyState::Status("serving")]);
        let mut usec = 0;
        if sd_notify::watchdog_enabled(false, &mut usec) && usec > 0 {
            let every = Duration::from_micros(usec) / 2;
            tracing::info!(
                interval_ms = every.as_millis() as u64,
                "systemd watchdog enabled"
            );
            self.watchdog = Some(tokio::spawn(watchdog_loop(
                SystemdNotifier,
                every,
                move || {
                    let store = store.clone();
                    async move { store.ping().await.is_ok() }
                },
            )));
        }
    }

    /// Call when shutdown begins: stops the watchdog pings and sends `STOPPING=1` (once, however
    /// often it is called).
    pub fn stopping(&mut self) {
        if let Some(task) = self.watchdog.take() {
            task.abort();
        }
        if self.enabled && !std::mem::replace(&mut self.stopping_sent, true) {
            SystemdNotifier.notify(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
        }
    }
}

impl Drop for Lifecycle {
    fn drop(&mut self) {
        if let Some(task) = self.watchdog.take() {
            task.abort();
        }
    }
}

/// Every `every`, asks `probe` whether the server is healthy (the probe may take at most `every`)
/// and sends `WATCHDOG=1` only if it answered `true` in time. Runs until aborted.
pub async fn watchdog_loop<N, P, F>(notifier: N, every: Duration, probe: P)
where
    N: Notifier,
    P: Fn() -> F + Send + 'static,
    F: Future<Output = bool> + Send,
{
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match tokio::time::timeout(every, probe()).await {
            Ok(true) => notifier.notify(&[NotifyState::Watchdog]),
            Ok(false) => tracing::warn!("store ping failed: withholding the watchdog ping"),
            Err(_) => tracing::warn!("store ping timed out: withholding the watchdog ping"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Records what would have been sent.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<String>>>);

    impl Notifier for Recorder {
        fn notify(&self, state: &[NotifyState<'_>]) {
            let mut sent = self.0.lock().unwrap();
            sent.extend(state.iter().map(|s| s.to_string()));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn pings_only_while_the_probe_answers_in_time() {
        let rec = Recorder::default();
        let healthy = Arc::new(AtomicBool::new(true));
        let hang = Arc::new(AtomicBool::new(false));
        let probes = Arc::new(AtomicUsize::new(0));
        let (h, g, p) = (healthy.clone(), hang.clone(), probes.clone());
        let task = tokio::spawn(watchdog_loop(
            rec.clone(),
            Duration::from_millis(100),
            move || {
                let (h, g, p) = (h.clone(), g.clone(), p.clone());
                async move {
                    p.fetch_add(1, Ordering::SeqCst);
                    if g.load(Ordering::SeqCst) {
                        std::future::pending::<()>().await;
                    }
                    h.load(Ordering::SeqCst)
                }
            },
        ));
        let count = |rec: &Recorder| {
            let sent = rec.0.lock().unwrap();
            assert!(sent.iter().all(|s| s == "WATCHDOG=1"), "{sent:?}");
            sent.len()
        };

        tokio::time::sleep(Duration::from_millis(450)).await;
        let while_healthy = count(&rec);
        assert!(while_healthy >= 4, "{while_healthy} pings in 450 ms");

        // A failing store: probes go on, pings stop.
        healthy.store(false, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let before = (count(&rec), probes.load(Ordering::SeqCst));
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(count(&rec), before.0);
        assert!(probes.load(Ordering::SeqCst) >= before.1 + 4);

        // A hung store: the probe never answers, so no ping either.
        healthy.store(true, Ordering::SeqCst);
        hang.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let before = count(&rec);
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(count(&rec), before);

        // Recovery resumes the pings.
        hang.store(false, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert!(count(&rec) >= before + 3);
        task.abort();
    }

    #[test]
    fn disabled_lifecycle_does_nothing() {
        let mut l = Lifecycle::new(&Config::default());
        assert!(!l.enabled);
        l.stopping();
        assert!(l.watchdog.is_none());
    }
}
