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
