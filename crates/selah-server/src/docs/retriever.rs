//! The chat's retriever: each turn's question searched (hybrid) over the session's own scope,
//! the passages handed to the context builder with what a citation needs.

use std::sync::Arc;

use selah_ai::AiError;
use selah_ai::context::{Citation, Passage, RetrievalScope, RetrieveFuture, Retriever};
use selah_store::Scope;
use selah_store::passages::{SearchScope, SourceFilter};

use super::library::Library;
use super::search::{SearchMode, SearchRequest, search};

/// Searches the library for the context builder.
pub struct LibraryRetriever(pub Arc<Library>);

impl Retriever for LibraryRetriever {
    fn retrieve<'a>(
        &'a self,
        scope: &'a RetrievalScope,
        query: &'a str,
        limit: usize,
    ) -> RetrieveFuture<'a> {
        Box::pin(async move {
            if query.trim().is_empty() || limit == 0 {
                return Ok(Vec::new());
            }
            let scope = match &scope.team_id {
                None => Scope::Personal {
                    user_id: scope.user_id.clone(),
                },
                Some(t) => Scope::Team {
                    user_id: scope.user_id.clone(),
                    team_id: t.clone(),
                },
            };
            // A question longer than a search query is cut to its start: it still says what
            // the user asks about.
            let query: String = query
                .chars()
                .take(super::search_route::MAX_QUERY_CHARS)
                .collect();
            let req = SearchRequest {
                scope: SearchScope::One(scope),
                query: &query,
                k: limit,
                document_id: None,
                // The conversation is already in the context; other chats are not sources.
                source: SourceFilter::Documents,
                mode: SearchMode::Hybrid,
                fusion: Default::default(),
            };
            let hits = search(&self.0, &req)
                .await
                .map_err(|e| AiError::Engine(format!("document search failed: {e}")))?;
            Ok(hits
                .into_iter()
                .filter_map(|h| Some((h.document_id.clone()?, h)))
                .map(|(document_id, h)| Passage {
                    source: match &h.heading {
                        Some(head) => format!("{} › {head}", h.title),
                        None => h.title.clone(),
                    },
                    text: h.text,
                    citation: Some(Citation {
                        document_id,
                        title: h.title,
                        passage_id: h.passage_id,
                        char_start: h.char_start,
                        char_end: h.char_end,
                    }),
                })
                .collect())
        })
    }
}
