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
mod remote;
mod sharing;
mod uploads;

use std::path::Path;

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
    /// The vault of a data directory, with blobs where `vault.blob_store` says.
    pub fn new(data_dir: &Path, config: &selah_core::config::VaultConfig) -> anyhow::Result<Self> {
        Ok(Self {
            blobs: Blobs::from_config(data_dir, config)?,
            in_flight: Default::default(),
        })
    }

    /// At start: finishes the publishing a crash interrupted (a committed version whose file
    /// is still under `uploads/`).
    pub async fn recover(&self, store: &selah_store::Store) -> anyhow::Result<usize> {
        // Versions only: an upload in progress keeps its partial file where it is.
        let versions = store.vault_version_ids().await?;
        self.blobs.recover(&versions).await
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
