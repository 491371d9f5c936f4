//! The in-memory full-text index: BM25 over passages' title, heading and text, searched with a
//! scope filter and dynamic pruning, so a question's common words cost almost nothing.
//!
//! Scoring is BM25 with field weights the way SQLite's FTS5 computes it (each field's term
//! frequency weighted and summed before saturation; one length per passage), with Lucene's
//! always-positive idf. Search is MaxScore: query terms are ordered by the most they can add to a
//! passage's score; once the k-th best score kept exceeds what the weakest terms together could
//! add, their posting lists stop driving the search and are only probed for passages the strong
//! terms found. At 100,000 passages a question's common words match half of them, which is what
//! made scoring every match (FTS5) cost hundreds of milliseconds.
//!
//! Removal leaves a tombstone that searches skip; once tombstones outnumber live passages the
//! postings are rewritten without them. Document frequencies count tombstones until then, as
//! Lucene's do until a merge.

use std::collections::{BinaryHeap, HashMap};

use crate::terms::{stem, words};
use crate::vector::Scored;

/// BM25's term-frequency saturation.
const K1: f32 = 1.2;
/// BM25's length normalisation.
const B: f32 = 0.75;
/// Term-frequency weights of the fields, in halves (title ×2, heading ×0.5, text ×1): stored as
/// integers so a posting is six bytes.
const TITLE_HALVES: u32 = 4;
const HEADING_HALVES: u32 = 1;
const TEXT_HALVES: u32 = 2;

/// What is indexed of one passage.
#[derive(Debug, Clone, Copy)]
pub struct TextFields<'a> {
    /// Its document's (or chat session's) title.
    pub title: &'a str,
    /// Its heading path, if any.
    pub heading: Option<&'a str>,
    /// The passage.
    pub text: &'a str,
}

/// One term's passages, in increasing internal order, with the weighted frequency in each.
#[derive(Debug, Clone, Default)]
struct Postings {
    docs: Vec<u32>,
    /// Weighted term frequency in halves.
    halves: Vec<u16>,
    /// The largest `halves` and the shortest passage in the list: bounds for MaxScore (they
    /// only loosen when passages are removed).
    max_halves: u16,
    min_len: u32,
}

/// One indexed passage; a tombstone has no metadata.
#[derive(Debug, Clone)]
struct Doc<M> {
    id: i64,
    len: u32,
    meta: Option<M>,
}

/// Passages keyed by id, each with metadata `M` the search filter reads.
#[derive(Debug, Clone)]
pub struct TextIndex<M> {
    docs: Vec<Doc<M>>,
    by_id: HashMap<i64, u32>,
    terms: HashMap<Box<str>, Postings>,
    live: usize,
    live_len: u64,
}

impl<M> Default for TextIndex<M> {
    fn default() -> Self {
        Self {
            docs: Vec::new(),
            by_id: HashMap::new(),
            terms: HashMap::new(),
            live: 0,
            live_len: 0,
        }
    }
}

/// A posting list being walked by one query term.
struct Cursor<'a> {
    list: &'a Postings,
    pos: usize,
    idf: f32,
    bound: f32,
}

impl Cursor<'_> {
    fn doc(&self) -> Option<u32> {
        self.list.docs.get(self.pos).copied()
    }

    /// Moves to the first posting at or after `target` (galloping, then binary search).
    fn seek(&mut self, target: u32) {
        let docs = &self.list.docs;
        if docs.get(self.pos).is_none_or(|&d| d >= target) {
            return;
        }
        let mut step = 1;
        let mut hi = self.pos + 1;
        while hi < docs.len() && docs[hi] < target {
            self.pos = hi;
            hi += step;
            step *= 2;
        }
        let hi = hi.min(docs.len());
        self.pos += docs[self.pos..hi].partition_point(|&d| d < target);
    }
}

impl<M> TextIndex<M> {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Live passages.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no passage is indexed.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Whether the passage is indexed.
    pub fn contains(&self, id: i64) -> bool {
        self.by_id.contains_key(&id)
    }

    /// Indexes a passage, replacing what was indexed under its id.
    pub fn insert(&mut self, id: i64, fields: TextFields<'_>, meta: M) {
        self.remove(id);
        let mut counts: HashMap<String, u32> = HashMap::new();
        let mut len = 0u32;
        let sources = [
            (fields.title, TITLE_HALVES),
            (fields.heading.unwrap_or(""), HEADING_HALVES),
            (fields.text, TEXT_HALVES),
        ];
        for (source, halves) in sources {
            for word in words(source) {
                len = len.saturating_add(1);
                *counts.entry(stem(&word)).or_default() += halves;
            }
        }
        let doc = u32::try_from(self.docs.len()).expect("fewer than 4 billion passages");
        for (term, halves) in counts {
            let halves = u16::try_from(halves).unwrap_or(u16::MAX);
            let list = self.terms.entry(term.into_boxed_str()).or_insert(Postings {
                min_len: u32::MAX,
                ..Postings::default()
            });
            list.docs.push(doc);
            list.halves.push(halves);
            list.max_halves = list.max_halves.max(halves);
            list.min_len = list.min_len.min(len);
        }
        self.docs.push(Doc {
            id,
            len,
            meta: Some(meta),
        });
        self.by_id.insert(id, doc);
        self.live += 1;
        self.live_len += u64::from(len);
    }

    /// Removes a passage. False when it was not indexed.
    pub fn remove(&mut self, id: i64) -> bool {
        let Some(doc) = self.by_id.remove(&id) else {
            return false;
        };
        let d = &mut self.docs[doc as usize];
        d.meta = None;
        self.live -= 1;
        self.live_len -= u64::from(d.len);
        let dead = self.docs.len() - self.live;
        if dead >= 64 && dead > self.live {
            self.compact();
        }
        true
    }

    /// Rewrites the postings without tombstones.
    pub fn compact(&mut self) {
        let mut renumber = vec![u32::MAX; self.docs.len()];
        let mut kept = Vec::with_capacity(self.live);
        for (old, d) in std::mem::take(&mut self.docs).into_iter().enumerate() {
            if d.meta.is_some() {
                renumber[old] = kept.len() as u32;
                kept.push(d);
            }
        }
        self.docs = kept;
        self.by_id = self
            .docs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id, i as u32))
            .collect();
        let docs = &self.docs;
        self.terms.retain(|_, list| {
            let mut fresh = Postings {
                min_len: u32::MAX,
                ..Postings::default()
            };
            for (&d, &h) in list.docs.iter().zip(&list.halves) {
                let new = renumber[d as usize];
                if new != u32::MAX {
                    fresh.docs.push(new);
                    fresh.halves.push(h);
                    fresh.max_halves = fresh.max_halves.max(h);
                    fresh.min_len = fresh.min_len.min(docs[new as usize].len);
                }
            }
            *list = fresh;
            !list.docs.is_empty()
        });
    }

    /// The best `limit` passages for the query's words that `allow` accepts: ids with BM25
    /// scores, best first (ties by id). Words are stemmed as the passages were; a word no
    /// passage holds adds nothing.
    pub fn search(
        &self,
        query_words: &[String],
        limit: usize,
        allow: impl Fn(&M) -> bool,
    ) -> Vec<(i64, f32)> {
        if limit == 0 || self.live == 0 {
            return Vec::new();
        }
        let bm25 = self.bm25();
        let stems = stems_of(query_words);
        let mut cursors: Vec<Cursor<'_>> = stems
            .iter()
            .filter_map(|s| self.terms.get(s.as_str()))
            .map(|list| {
                let idf = bm25.idf(list);
                Cursor {
                    list,
                    pos: 0,
                    idf,
                    bound: bm25.score(list.max_halves, list.min_len, idf),
                }
            })
            .collect();
        // Weakest first: the prefix sums say what the first i terms can add together at most.
        cursors.sort_by(|a, b| a.bound.total_cmp(&b.bound));
        let prefix: Vec<f32> = cursors
            .iter()
            .scan(0.0, |sum, c| {
                *sum += c.bound;
                Some(*sum)
            })
            .collect();
        let mut top: BinaryHeap<Scored> = BinaryHeap::with_capacity(limit + 1);
        let threshold = |top: &BinaryHeap<Scored>| {
            if top.len() < limit {
                f32::NEG_INFINITY
            } else {
                top.peek().map_or(f32::NEG_INFINITY, |s| s.0)
            }
        };
        loop {
            let theta = threshold(&top);
            // Terms before `essential` cannot lift a passage into the top on their own.
            let essential = prefix.partition_point(|&p| p <= theta);
            let Some(doc) = cursors[essential..].iter().filter_map(Cursor::doc).min() else {
                break;
            };
            let d = &self.docs[doc as usize];
            let mut total = 0.0;
            for c in &mut cursors[essential..] {
                if c.doc() == Some(doc) {
                    total += bm25.score(c.list.halves[c.pos], d.len, c.idf);
                    c.pos += 1;
                }
            }
            if d.meta.is_none() {
                continue;
            }
            for i in (0..essential).rev() {
                if total + prefix[i] <= theta {
                    break;
                }
                let c = &mut cursors[i];
                c.seek(doc);
                if c.doc() == Some(doc) {
                    total += bm25.score(c.list.halves[c.pos], d.len, c.idf);
                }
            }
            // The filter runs last, on passages that would enter the top only: scoring is a few
            // multiplications, the filter compares ids, and most candidates never get that far.
            if (top.len() < limit || total > theta) && d.meta.as_ref().is_some_and(&allow) {
                top.push(Scored(total, d.id));
                if top.len() > limit {
                    top.pop();
                }
            }
        }
        let mut hits: Vec<(i64, f32)> = top.into_iter().map(|s| (s.1, s.0)).collect();
        hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        hits
    }

    /// The BM25 score of one passage for the query's words (0 when it holds none of them), as
    /// [`TextIndex::search`] would give it; None when the passage is not indexed. Hybrid search
    /// uses it for the vector candidates full text did not rank.
    pub fn score(&self, query_words: &[String], id: i64) -> Option<f32> {
        let doc = *self.by_id.get(&id)?;
        let len = self.docs[doc as usize].len;
        let bm25 = self.bm25();
        Some(
            stems_of(query_words)
                .iter()
                .filter_map(|s| self.terms.get(s.as_str()))
                .filter_map(|list| {
                    let at = list.docs.binary_search(&doc).ok()?;
                    Some(bm25.score(list.halves[at], len, bm25.idf(list)))
                })
                .sum(),
        )
    }

    fn bm25(&self) -> Bm25 {
        let n = self.live.max(1) as f32;
        Bm25 {
            n,
            avg_len: (self.live_len as f32 / n).max(1.0),
        }
    }
}

/// The query's distinct stems, sorted.
fn stems_of(query_words: &[String]) -> Vec<String> {
    let mut stems: Vec<String> = query_words.iter().map(|w| stem(w)).collect();
    stems.sort();
    stems.dedup();
    stems
}

/// BM25 over the index's current statistics.
struct Bm25 {
    n: f32,
    avg_len: f32,
}

impl Bm25 {
    /// Lucene's idf, always positive.
    fn idf(&self, list: &Postings) -> f32 {
        let df = list.docs.len() as f32;
        (1.0 + (self.n - df + 0.5).max(0.0) / (df + 0.5)).ln()
    }

    /// One term's share of a passage's score.
    fn score(&self, halves: u16, len: u32, idf: f32) -> f32 {
        let tf = f32::from(halves) / 2.0;
        idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len as f32 / self.avg_len))
    }
}

#[cfg(test)]
mod tests;
