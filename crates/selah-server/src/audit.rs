//! The audit log's write path and the small API every capability uses to record its events.
//!
//! `Audit::record` puts an event on a bounded queue and returns; one writer task drains the
//! queue in batches into the hash-chained table. When the queue is full, `record` waits
//! (back-pressure): an event is never dropped. On shutdown the queue is drained before the
//! store closes. There is deliberately no endpoint that records an arbitrary event.
//!
//! # Recording an event (the API for every capability)
//!
//! ```ignore
//! state.audit.record(
//!     AuditEvent::new("team.member_added", "create")   // dotted type, then the action
//!         .user(actor_id)                              // who acted (omit for the system)
//!         .resource("team", &team_id)                  // what was acted on
//!         .details(json!({"member": user_id, "role": "admin"}))  // facts, never secrets
//!         .client(&client_info),                       // ip and user agent
//! ).await;
//! ```
//!
//! Types are `<area>.<what_happened>`, lower case; the action is a verb (`create`, `update`,
//! `delete`, `login`, `read`, `export`, `run`). Details hold ids, names and counts, never
//! passwords, tokens or user content. Record after the change has succeeded.
//!
//! # Event types
//!
//! Add a line here when a capability records a new type.
//!
//! | type | action | recorded when |
//! |---|---|---|
//! | `setup.founder_created` | create | the founder account is created at first run |
//! | `auth.login` | login | a sign-in succeeds |
//! | `auth.login_failed` | login | a sign-in fails (details: the attempted username) |
//! | `auth.logout` | logout | a session is ended by its owner |
//! | `auth.session_revoked` | delete | a session is revoked |
//! | `auth.step_up` | login | the founder re-enters the password |
//! | `user.created`, `user.updated`, `user.disabled`, `user.password_changed` | create/update | account changes |
//! | `user.role_changed` | update | a user's role changes |
//! | `user.permission_changed` | update | a per-user grant or denial changes |
//! | `team.created`, `team.deleted`, `team.member_added`, `team.member_removed`, `team.role_changed`, `team.invitation_created`, `team.invitation_used` | create/update/delete | team changes |
//! | `admin.cleanup` | run | the cleanup jobs are run on demand (details: per-job statistics) |
//! | `audit.viewed` | read | someone lists the audit log (details: the filters) |
//! | `audit.exported` | export | someone exports the audit log (details: the filters, format) |
//! | `audit.verified` | verify | someone checks the chain over the API (details: the verdict) |
//! | `model.hot_slot_assigned`, `model.hot_slot_ejected` | update | a hot slot changes (details: slot, model, the model replaced) |
//! | `model.imported` | create | a GGUF is imported into the models directory (details: model id, file size) |
//! | `vault.identity_created`, `vault.identity_rewrapped` | create/update | a vault identity is made or re-wrapped under a new passphrase (details: version; never keys) |
//! | `vault.item_created` | create | a vault item is made (details: team, kind, recipient count; never names) |
//! | `vault.item_updated` | update | an item's metadata is replaced or it is moved (details: which) |
//! | `vault.version_uploaded` | create | an upload completes as a new version (details: version id, size) |
//! | `vault.item_downloaded` | read | a version's content is served (details: version id, size) |
//! | `vault.item_shared` | update | an item's recipients change (details: user ids added and removed, versions rewrapped) |
//! | `vault.item_trashed`, `vault.item_restored` | delete/update | an item (with its subtree) goes to the trash or comes back |
//! | `vault.item_purged` | delete | an item is deleted for good (details: items, versions, files removed) |
//! | `live.room_created` | create | a live room is made (details: team, kind; never its name) |
//! | `model.removed` | delete | a model is deleted with `selah models remove` (details: model id) |

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use selah_core::Config;
use selah_store::Store;
use selah_store::audit::AuditInput;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::observe::client::ClientInfo;

/// An event under construction: `AuditEvent::new("team.member_added", "create").user(id)…`.
#[derive(Debug, Clone)]
pub struct AuditEvent(AuditInput);

impl AuditEvent {
    /// A new event of a dotted type (`auth.login`) and an action (`create`, `delete`, `login`).
    pub fn new(event_type: &str, action: &str) -> Self {
        AuditEvent(AuditInput {
            ts: selah_store::now_ms(),
            event_type: event_type.to_string(),
            action: action.to_string(),
            ..Default::default()
        })
    }

    /// Who acted.
    pub fn user(mut self, user_id: &str) -> Self {
        self.0.user_id = Some(user_id.to_string());
        self
    }

    /// What was acted on.
    pub fn resource(mut self, kind: &str, id: &str) -> Self {
        self.0.resource_type = Some(kind.to_string());
        self.0.resource_id = Some(id.to_string());
        self
    }

    /// Extra facts as a JSON object. Never put secrets or user content here.
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.0.details = Some(details.to_string());
        self
    }

    /// The client's address and user agent.
    pub fn client(mut self, client: &ClientInfo) -> Self {
        self.0.ip = Some(client.ip.to_string());
        self.0.user_agent = client.user_agent.clone();
        self
    }
}

enum Msg {
    Event(AuditInput),
    Flush(oneshot::Sender<()>),
}

/// Handle for recording audit events. Cheap to clone.
#[derive(Clone)]
pub struct Audit {
    tx: mpsc::Sender<Msg>,
    depth: Arc<AtomicUsize>,
    writer: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Audit {
    /// Starts the writer task.
    pub fn start(store: Store, config: &Config) -> Self {
        let (tx, rx) = mpsc::channel(config.audit.queue_capacity.max(1));
        let depth = Arc::new(AtomicUsize::new(0));
        let handle = tokio::spawn(writer(store, rx, depth.clone()));
        Self {
            tx,
            depth,
            writer: Arc::new(Mutex::new(Some(handle))),
        }
    }

    /// Queues an event, waiting while the queue is full.
    pub async fn record(&self, event: AuditEvent) {
        self.depth.fetch_add(1, Ordering::Relaxed);
        if self.tx.send(Msg::Event(event.0)).await.is_err() {
            self.depth.fetch_sub(1, Ordering::Relaxed);
            tracing::error!("audit writer has stopped; event not recorded");
        }
    }

    /// Events queued but not yet written.
    pub fn queue_depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }

    /// Waits until every event queued before this call is written.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Drains the queue and stops the writer (at shutdown, before the store closes).
    pub async fn flush_and_stop(&self) {
        self.flush().await;
        if let Some(handle) = self.writer.lock().await.take() {
            handle.abort();
            let _ = handle.await;
        }
    }
}

async fn writer(store: Store, mut rx: mpsc::Receiver<Msg>, depth: Arc<AtomicUsize>) {
    let mut batch = Vec::new();
    let mut waiters = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Event(e) => batch.push(e),
                Msg::Flush(w) => waiters.push(w),
            }
            if batch.len() < 256 {
                next = rx.try_recv().ok();
            }
        }
        // A failed write is retried with a pause rather than dropped: the events stay in the
        // batch, and callers see back-pressure once the queue fills.
        let mut delay = Duration::from_millis(50);
        while let Err(e) = store.append_audit(&batch).await {
            tracing::error!(error = %e, pending = batch.len(), "audit write failed; retrying");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
        depth.fetch_sub(batch.len(), Ordering::Relaxed);
        batch.clear();
        for w in waiters.drain(..) {
            let _ = w.send(());
        }
    }
}
