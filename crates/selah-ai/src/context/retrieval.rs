//! Retrieved passages: the interface the documents capability implements. Until it exists,
//! [`NoRetriever`] answers with nothing and prompts carry no passages.

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

use crate::AiError;

/// A piece of a user's documents relevant to the question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Passage {
    /// Where it comes from (a document title or path), shown to the model for citations.
    pub source: String,
    /// The text.
    pub text: String,
    /// What a reply that used it cites (none for passages from elsewhere).
    pub citation: Option<Citation>,
}

/// Where a passage is in the user's documents, for the UI to link to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Citation {
    /// Document id.
    pub document_id: String,
    /// The document's title.
    pub title: String,
    /// Passage id.
    pub passage_id: i64,
    /// Start of the passage in the document's text, in characters.
    pub char_start: i64,
    /// End of the passage (exclusive).
    pub char_end: i64,
}

/// Whose documents a retrieval may read: the acting user, in a personal or team context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrievalScope {
    /// The acting user.
    pub user_id: String,
    /// The team whose documents are searched; None for the user's own.
    pub team_id: Option<String>,
}

/// The future a retrieval returns.
pub type RetrieveFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Passage>, AiError>> + Send + 'a>>;

/// Finds passages relevant to a query, most relevant first, at most `limit`.
pub trait Retriever: Send + Sync {
    /// Searches the scope's documents.
    fn retrieve<'a>(
        &'a self,
        scope: &'a RetrievalScope,
        query: &'a str,
        limit: usize,
    ) -> RetrieveFuture<'a>;
}

/// The retriever used until documents exist: never finds anything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRetriever;

impl Retriever for NoRetriever {
    fn retrieve<'a>(
        &'a self,
        _scope: &'a RetrievalScope,
        _query: &'a str,
        _limit: usize,
    ) -> RetrieveFuture<'a> {
        Box::pin(async { Ok(Vec::new()) })
    }
}
