//! `GET /api/v1/search`: passages from the caller's documents and chat messages, best first, with
//! highlighted spans. `scope=current` (default) searches the request's context (personal, or the
//! team in `X-Selah-Team`); `scope=all` everything the caller may read. Needs `docs.read`; chat
//! messages are included only for a caller who also holds `chat.use` there.

use axum::extract::State;
use selah_core::Permission;
use selah_store::passages::{SearchScope, SourceFilter};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::search::{Fusion, SearchHit, SearchMode, SearchRequest, search};
use crate::authz::{Require, perm};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Query;
use crate::state::AppState;

/// Most results one search returns.
pub const MAX_K: usize = 50;
/// Longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 1000;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search_passages))
}

/// Search parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    /// The question or words to look for (1–1000 characters).
    pub q: String,
    /// Results wanted (1–50, default 10).
    pub k: Option<usize>,
    /// `current` (default): the request's context; `all`: personal and every team.
    pub scope: Option<String>,
    /// Only this document.
    pub doc: Option<String>,
    /// `all` (default): documents and chat messages; `documents`; `messages`.
    pub source: Option<String>,
    /// `hybrid` (default), `fulltext` or `vector`.
    #[param(value_type = Option<String>)]
    pub mode: Option<SearchMode>,
    /// How hybrid search combines its rankings: `scores` (default) or `rrf`.
    #[param(value_type = Option<String>)]
    pub fusion: Option<Fusion>,
}

/// Search the caller's documents and chat messages.
#[utoipa::path(
    get, path = "/api/v1/search", tag = "docs",
    params(SearchParams, ("X-Selah-Team" = Option<String>, Header, description = "Act in this team")),
    responses(
        (status = 200, description = "Passages, best first", body = [SearchHit]),
        (status = 400, description = "Malformed parameters", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs docs.read (and chat.use for source=messages)", body = ErrorBody),
        (status = 404, description = "Not a member of the team", body = ErrorBody),
        (status = 422, description = "Empty or overlong query, or k out of range", body = ErrorBody),
    )
)]
async fn search_passages(
    state: State<AppState>,
    auth: Require<perm::DocsRead>,
    Query(p): Query<SearchParams>,
) -> ApiResult<axum::Json<Vec<SearchHit>>> {
    let q = p.q.trim();
    if q.is_empty() || q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::validation(format!(
            "q must be 1 to {MAX_QUERY_CHARS} characters"
        )));
    }
    let k = p.k.unwrap_or(10);
    if !(1..=MAX_K).contains(&k) {
        return Err(ApiError::validation(format!("k must be 1 to {MAX_K}")));
    }
    let scope = match p.scope.as_deref().unwrap_or("current") {
        "current" => SearchScope::One(auth.scope.clone()),
        "all" => SearchScope::Visible {
            user_id: auth.user.id().to_string(),
        },
        _ => return Err(ApiError::validation("scope must be current or all")),
    };
    let source = match p.source.as_deref().unwrap_or("all") {
        "all" => SourceFilter::All,
        "documents" => SourceFilter::Documents,
        "messages" => SourceFilter::Messages,
        _ => {
            return Err(ApiError::validation(
                "source must be all, documents or messages",
            ));
        }
    };
    let source = match (source, auth.also_allows(&state, Permission::ChatUse).await?) {
        (_, true) | (SourceFilter::Documents, false) => source,
        (SourceFilter::All, false) => SourceFilter::Documents,
        (SourceFilter::Messages, false) => {
            return Err(ApiError::forbidden(
                "searching chat messages needs the chat.use permission",
            ));
        }
    };
    let req = SearchRequest {
        scope,
        query: q,
        k,
        document_id: p.doc.as_deref(),
        source,
        mode: p.mode.unwrap_or_default(),
        fusion: p.fusion.unwrap_or_default(),
    };
    let hits = search(&state.docs, &req)
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(hits))
}
