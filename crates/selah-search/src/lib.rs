//! Document retrieval for Selah, free of I/O beyond reading the file it is given: turning
//! uploaded files into text, cutting text into passages, and ranking passages for a query.
//!
//! - [`extract`]: a file → light Markdown text and a title ([`extract_file`]).
//! - [`chunk`]: text → passages sized for the embedding model ([`chunk_text`]).
//! - [`terms`]: a query → the words that matter ([`query_terms`], [`stem`]).
//! - [`highlight`]: a passage and those words → the spans to mark ([`highlight()`]).

pub mod chunk;
pub mod extract;
pub mod highlight;
mod syntax;
pub mod terms;

pub use chunk::{Chunk, ChunkOptions, TokenCount, chunk_text};
pub use extract::{DocFormat, ExtractError, Extracted, extract_file};
pub use highlight::{Span, highlight};
pub use terms::{query_terms, stem};
