//! Document retrieval for Selah, free of I/O beyond reading the file it is given: turning
//! uploaded files into text, cutting text into passages, and ranking passages for a query.
//!
//! - [`extract`]: a file → light Markdown text and a title ([`extract_file`]).
//! - [`chunk`]: text → passages sized for the embedding model ([`chunk_text`]).
//! - [`terms`]: a query → the words that matter ([`query_terms`], [`stem`]).
//! - [`highlight`]: a passage and those words → the spans to mark ([`highlight()`]).
//! - [`text_index`]: the in-memory BM25 index searched with a scope filter ([`TextIndex`]).
//! - [`vector`]: the in-memory vector index searched with a scope filter ([`VectorIndex`]),
//!   exact for small collections, an HNSW graph ([`hnsw`]) for large ones.
//! - [`parts`]: a passage → the paragraphs embedded on their own ([`parts::paragraphs`]).
//! - [`fusion`]: full-text and vector rankings combined ([`score_fusion`], [`reciprocal_rank_fusion`]).

pub mod chunk;
pub mod extract;
pub mod fusion;
pub mod highlight;
pub mod hnsw;
pub mod parts;
mod syntax;
pub mod terms;
pub mod text_index;
pub mod vector;

pub use chunk::{Chunk, ChunkOptions, TokenCount, chunk_text};
pub use extract::{DocFormat, ExtractError, Extracted, extract_file};
pub use fusion::{reciprocal_rank_fusion, score_fusion};
pub use highlight::{Span, highlight};
pub use terms::{query_terms, stem, words};
pub use text_index::{TextFields, TextIndex};
pub use vector::{SearchPath, VectorIndex};
