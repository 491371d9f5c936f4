//! Document retrieval for Selah, free of I/O beyond reading the file it is given: turning
//! uploaded files into text, cutting text into passages, and ranking passages for a query.

pub mod fusion;
pub mod vector;

pub use fusion::reciprocal_rank_fusion;
pub use vector::VectorIndex;
