//! Documents and search (issue 4): uploads and notes ([`routes`], [`upload`]), the background
//! ingestion worker ([`ingest`]), the library holding the embedding model and vector index
//! ([`library`]) and the full-text index ([`fulltext`]), hybrid search ([`search`], served by [`search_route`]), the retriever that
//! gives chat its passages ([`retriever`]), chat messages made searchable ([`chat_index`]) and
//! the orphan cleanup job ([`orphans`]).

pub mod chat_index;
pub mod fulltext;
pub mod ingest;
pub mod library;
pub mod orphans;
pub mod retriever;
pub mod routes;
pub mod search;
pub mod search_route;
pub mod upload;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub use library::Library;

/// The upload route, which has its own body limit (see `observe::middleware`).
pub const UPLOAD_PATH: &str = "/api/v1/docs/documents";

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(routes::router())
        .merge(search_route::router())
}
