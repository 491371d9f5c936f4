//! The vault's HTTP side. So far the vault identity (`identity.rs`): each user's public key
//! and their private key wrapped under the vault passphrase, which the server stores and
//! hands back but can never open. Encryption itself happens in the client (`selah-vault`).

mod identity;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The vault's routes.
pub fn router() -> OpenApiRouter<AppState> {
    identity::router()
}
