//! The vault's HTTP side (docs/VAULT.md). The server stores what clients encrypted and can open
//! none of it: the vault identity (`identity.rs`), items with encrypted metadata
//! (`items.rs`), resumable uploads of versions (`uploads.rs`, tus 1.0), downloads
//! (`content.rs`), sharing by rewrapped headers (`sharing.rs`), and the files on disk
//! (`blobs.rs`) with their cleanup job (`cleanup.rs`). Encryption happens in the client
//! (`selah-vault`).

mod blobs;
mod cleanup;
mod content;
mod identity;
mod items;
mod sharing;
mod uploads;

use std::path::Path;

use selah_store::vault_items::Purged;
use utoipa_axum::router::OpenApiRouter;

pub use blobs::Blobs;
pub use cleanup::VaultCleanup;

use crate::state::AppState;

/// The collection of uploads; an upload's URL is this followed by its id.
pub const UPLOADS_PATH: &str = "/api/v1/vault/uploads/";

/// The vault's shared state.
pub struct Vault {
    /// Where the bytes live.
    pub blobs: Blobs,
    /// Uploads being written.
    in_flight: uploads::InFlight,
}

impl Vault {
    /// The vault of a data directory.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            blobs: Blobs::new(data_dir),
            in_flight: Default::default(),
        }
    }

    /// At start: finishes the renames a crash interrupted (a committed version whose file is
    /// still under `uploads/`).
    pub async fn recover(&self, store: &selah_store::Store) -> anyhow::Result<usize> {
        let names = store.vault_file_names().await?;
        let blobs = self.blobs.clone();
        Ok(tokio::task::spawn_blocking(move || blobs.recover(&names)).await??)
    }
}

/// The vault's routes.
pub fn router() -> OpenApiRouter<AppState> {
    identity::router()
        .merge(items::router())
        .merge(sharing::router())
        .merge(content::router())
        .merge(uploads::router())
}

/// Removes the files of what a purge deleted from the database; returns how many went. A
/// failure is logged and left to the cleanup job's sweep.
async fn remove_files(state: &AppState, purged: &Purged) -> usize {
    let blobs = state.vault.blobs.clone();
    let ids: Vec<String> = purged
        .versions
        .iter()
        .chain(&purged.uploads)
        .filter(|id| blobs::valid_id(id))
        .cloned()
        .collect();
    let done = tokio::task::spawn_blocking(move || {
        ids.iter()
            .filter(|id| match blobs.remove(id) {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(id = %id, error = %e, "could not remove a vault file; the cleanup job will");
                    false
                }
            })
            .count()
    })
    .await;
    done.unwrap_or(0)
}
