//! The in-memory vector index: unit-length vectors in one block, each with metadata a search
//! filter reads, so a search only ever ranks passages the caller may see.
//!
//! Small collections, and searches whose filter lets few vectors through, are answered exactly
//! (a scan of the allowed vectors). From [`ANN_FROM`] vectors on, an HNSW graph answers the rest
//! approximately. Removal leaves a tombstone (skipped by every search); once a quarter of the
//! block is dead it is compacted and the graph rebuilt.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::io::{Read, Write};

use crate::hnsw::{Hnsw, HnswParams};

/// Slots a search's filter is tried on to estimate how many vectors it lets through.
const FILTER_SAMPLE: usize = 1024;

/// Live vectors from which the approximate graph is built and used.
pub const ANN_FROM: usize = 20_000;
/// Candidates the graph search looks at per result (at least 128): measured at 100,000 vectors
/// (docs/BENCHMARKS.md), 4 per result gave recall@10 0.91, 16 gives the target 0.95.
const EF_PER_RESULT: usize = 16;
/// At most this many candidates (before widening for a narrow filter): hybrid search asks for 50
/// vector candidates, and 16 per result (800) cost three times the walk of a 10-result search
/// to refine candidates that rank 11th to 50th.
const MAX_EF: usize = 256;

/// Dot product in eight independent lanes, which the compiler turns into SIMD.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// One stored vector's bookkeeping; a tombstone has no metadata.
#[derive(Debug, Clone)]
struct Slot<M> {
    id: i64,
    meta: Option<M>,
}

/// A scored hit; ordered so the heap's top is the worst kept so far (lower score, then higher id).
#[derive(PartialEq)]
pub(crate) struct Scored(pub(crate) f32, pub(crate) i64);

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .0
            .total_cmp(&self.0)
            .then_with(|| self.1.cmp(&other.1))
    }
}

/// How a search was answered (for benchmarks and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchPath {
    /// A scan of every allowed vector.
    Exact,
    /// The HNSW graph.
    Approximate,
}

/// Vectors keyed by passage id, each with metadata `M` the search filter reads.
#[derive(Debug, Clone)]
pub struct VectorIndex<M> {
    dim: usize,
    slots: Vec<Slot<M>>,
    data: Vec<f32>,
    pos: HashMap<i64, u32>,
    dead: usize,
    graph: Option<Hnsw>,
    ann_from: usize,
    /// Part vectors (`dim` floats each, one after another) of entries made of several parts: a
    /// passage's paragraphs. Searches rank by the entry's own vector; [`Self::closest_part`]
    /// scores by its best part.
    parts: HashMap<i64, Box<[f32]>>,
}

impl<M> VectorIndex<M> {
    /// An empty index of `dim`-long vectors.
    pub fn new(dim: usize) -> Self {
        Self::with_threshold(dim, ANN_FROM)
    }

    /// An empty index that builds its graph from `ann_from` live vectors on (tests, benchmarks).
    pub fn with_threshold(dim: usize, ann_from: usize) -> Self {
        Self {
            dim,
            slots: Vec::new(),
            data: Vec::new(),
            pos: HashMap::new(),
            dead: 0,
            graph: None,
            ann_from,
            parts: HashMap::new(),
        }
    }

    /// Vector length.
    pub fn dimensions(&self) -> usize {
        self.dim
    }

    /// Live vectors.
    pub fn len(&self) -> usize {
        self.pos.len()
    }

    /// True when no vector is live.
    pub fn is_empty(&self) -> bool {
        self.pos.is_empty()
    }

    /// Whether `id` is held.
    pub fn contains(&self, id: i64) -> bool {
        self.pos.contains_key(&id)
    }

    /// The similarity (dot product) of `query` with the vector of `id`, if held.
    pub fn similarity(&self, query: &[f32], id: i64) -> Option<f32> {
        let slot = *self.pos.get(&id)? as usize;
        (query.len() == self.dim).then(|| dot(query, &self.data[slot * self.dim..][..self.dim]))
    }

    /// The best similarity of `query` with the parts of `id`, or with its own vector when it has
    /// no parts; None when `id` is not held.
    pub fn closest_part(&self, query: &[f32], id: i64) -> Option<f32> {
        match self.parts.get(&id) {
            Some(parts) if query.len() == self.dim => Some(
                parts
                    .chunks_exact(self.dim)
                    .map(|p| dot(query, p))
                    .fold(f32::NEG_INFINITY, f32::max),
            ),
            _ => self.similarity(query, id),
        }
    }

    /// Whether the approximate graph is in use.
    pub fn has_graph(&self) -> bool {
        self.graph.is_some()
    }

    /// Adds a vector, replacing any earlier one of the same id. Vectors of another length are
    /// refused (false).
    pub fn insert(&mut self, id: i64, vector: &[f32], meta: M) -> bool {
        if vector.len() != self.dim || self.dim == 0 {
            return false;
        }
        self.remove(id);
        let slot = self.slots.len() as u32;
        self.slots.push(Slot {
            id,
            meta: Some(meta),
        });
        self.data.extend_from_slice(vector);
        self.pos.insert(id, slot);
        match &mut self.graph {
            Some(g) => g.insert(&self.data, self.dim),
            None if self.pos.len() >= self.ann_from => self.build_graph(),
            None => {}
        }
        true
    }

    /// Adds a vector with its parts (`dim` floats each, one after another; none for an entry of
    /// one part). Refused (false) when either has the wrong length.
    pub fn insert_with_parts(&mut self, id: i64, vector: &[f32], parts: &[f32], meta: M) -> bool {
        if self.dim == 0 || !parts.len().is_multiple_of(self.dim) || !self.insert(id, vector, meta)
        {
            return false;
        }
        if !parts.is_empty() {
            self.parts.insert(id, parts.into());
        }
        true
    }

    /// Adds a vector as it is stored: the entry's own vector, then its parts, if any, all `dim`
    /// long. Refused (false) when the length is not a whole number of vectors.
    pub fn insert_stored(&mut self, id: i64, stored: &[f32], meta: M) -> bool {
        if stored.len() < self.dim || self.dim == 0 {
            return false;
        }
        let (own, parts) = stored.split_at(self.dim);
        self.insert_with_parts(id, own, parts, meta)
    }

    /// Removes a vector; false when absent.
    pub fn remove(&mut self, id: i64) -> bool {
        self.parts.remove(&id);
        let Some(slot) = self.pos.remove(&id) else {
            return false;
        };
        self.slots[slot as usize].meta = None;
        self.dead += 1;
        if self.dead > 1000 && self.dead * 4 > self.slots.len() {
            self.compact();
        }
        true
    }

    /// Drops tombstones and rebuilds the graph (if the index is large enough for one).
    pub fn compact(&mut self) {
        let dim = self.dim;
        let old_slots = std::mem::take(&mut self.slots);
        let old_data = std::mem::take(&mut self.data);
        self.pos.clear();
        self.dead = 0;
        self.graph = None;
        for (i, s) in old_slots.into_iter().enumerate() {
            if s.meta.is_some() {
                self.pos.insert(s.id, self.slots.len() as u32);
                self.slots.push(s);
                self.data
                    .extend_from_slice(&old_data[i * dim..(i + 1) * dim]);
            }
        }
        if self.pos.len() >= self.ann_from {
            self.build_graph();
        }
    }

    fn build_graph(&mut self) {
        let mut g = Hnsw::new(HnswParams::default());
        for i in 0..self.slots.len() {
            g.insert(&self.data[..(i + 1) * self.dim], self.dim);
        }
        self.graph = Some(g);
    }

    /// Writes the graph (if any) with the ids of its nodes, for [`VectorIndex::load_graph`].
    /// False when there is no graph to save.
    pub fn save_graph(&self, w: &mut impl Write) -> std::io::Result<bool> {
        let Some(g) = &self.graph else {
            return Ok(false);
        };
        let mut ids = Vec::with_capacity(self.slots.len() * 9 + 8);
        ids.extend_from_slice(&(self.slots.len() as u64).to_le_bytes());
        for s in &self.slots {
            ids.extend_from_slice(&s.id.to_le_bytes());
            ids.push(u8::from(s.meta.is_some()));
        }
        w.write_all(&ids)?;
        g.write_to(w)?;
        Ok(true)
    }

    /// Builds the index from `vectors` (as stored: see [`Self::insert_stored`]) and a graph
    /// saved by [`VectorIndex::save_graph`]. The
    /// saved graph is used only if its nodes are exactly these vectors' ids (any order; dead
    /// nodes become tombstones) and it reads back intact; otherwise it is rebuilt. Returns the
    /// index and whether the saved graph was used.
    pub fn load_graph(
        dim: usize,
        vectors: Vec<(i64, Vec<f32>, M)>,
        saved: Option<&mut dyn Read>,
    ) -> (Self, bool) {
        let mut idx = Self::new(dim);
        if let Some(r) = saved
            && let Some(order) = Self::read_ids(r)
        {
            let mut by_id: HashMap<i64, (Vec<f32>, M)> =
                vectors.into_iter().map(|(id, v, m)| (id, (v, m))).collect();
            let live = order.iter().filter(|(_, alive)| *alive).count();
            let usable = live == by_id.len()
                && order.iter().all(|(id, alive)| {
                    !*alive
                        || by_id.get(id).is_some_and(|(v, _)| {
                            dim > 0 && v.len() >= dim && v.len().is_multiple_of(dim)
                        })
                });
            if usable && let Ok(g) = Hnsw::read_from(r, order.len()) {
                for (id, alive) in order {
                    let (v, meta) = match (alive, by_id.remove(&id)) {
                        (true, Some((v, m))) => (v, Some(m)),
                        _ => (vec![0.0; dim], None),
                    };
                    let slot = idx.slots.len() as u32;
                    let (own, parts) = v.split_at(dim);
                    idx.data.extend_from_slice(own);
                    if meta.is_some() {
                        idx.pos.insert(id, slot);
                        if !parts.is_empty() {
                            idx.parts.insert(id, parts.into());
                        }
                    } else {
                        idx.dead += 1;
                    }
                    idx.slots.push(Slot { id, meta });
                }
                idx.graph = Some(g);
                return (idx, true);
            }
            // Fall through: rebuild from the vectors.
            let vectors: Vec<(i64, Vec<f32>, M)> =
                by_id.into_iter().map(|(id, (v, m))| (id, v, m)).collect();
            return (Self::from_vectors(dim, vectors), false);
        }
        (Self::from_vectors(dim, vectors), false)
    }

    fn from_vectors(dim: usize, vectors: Vec<(i64, Vec<f32>, M)>) -> Self {
        let mut idx = Self::with_threshold(dim, usize::MAX);
        for (id, v, m) in vectors {
            idx.insert_stored(id, &v, m);
        }
        idx.ann_from = ANN_FROM;
        if idx.len() >= idx.ann_from {
            idx.build_graph();
        }
        idx
    }

    fn read_ids(r: &mut dyn Read) -> Option<Vec<(i64, bool)>> {
        let mut n = [0u8; 8];
        r.read_exact(&mut n).ok()?;
        let n = usize::try_from(u64::from_le_bytes(n)).ok()?;
        if n > 1 << 28 {
            return None;
        }
        let mut buf = vec![0u8; n * 9];
        r.read_exact(&mut buf).ok()?;
        Some(
            buf.chunks_exact(9)
                .map(|c| {
                    let mut id = [0u8; 8];
                    id.copy_from_slice(&c[..8]);
                    (i64::from_le_bytes(id), c[8] == 1)
                })
                .collect(),
        )
    }

    /// The `k` most similar live vectors whose metadata passes `filter`, best first, with
    /// their similarity, and how the search was answered.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        filter: impl Fn(&M) -> bool,
    ) -> (Vec<(i64, f32)>, SearchPath) {
        if k == 0 || query.len() != self.dim || self.dim == 0 {
            return (Vec::new(), SearchPath::Exact);
        }
        let allowed = |i: usize| self.slots[i].meta.as_ref().is_some_and(&filter);
        if let Some(g) = &self.graph {
            let n_allowed = self.estimate_allowed(allowed);
            // A filter that lets few vectors through is answered exactly: scanning them is cheap,
            // and a graph walk would have to look far to find k of them.
            if n_allowed >= self.ann_from / 4 {
                // Fewer allowed vectors need a wider look to find k of them.
                let widen = (self.pos.len() / n_allowed.max(1)).clamp(1, 8);
                let ef = (k * EF_PER_RESULT).clamp(128, MAX_EF) * widen;
                let hits = g.search(query, &self.data, self.dim, k, ef, |n| allowed(n as usize));
                let out = hits
                    .into_iter()
                    .map(|(n, s)| (self.slots[n as usize].id, s))
                    .collect();
                return (out, SearchPath::Approximate);
            }
        }
        (self.exact(query, k, allowed), SearchPath::Exact)
    }

    /// How many slots `allowed` accepts: counted when there are at most [`FILTER_SAMPLE`],
    /// estimated from that many picked at random (a fixed sequence, so a search is repeatable)
    /// otherwise. Counting them all ran the filter on every vector, which at 100,000 vectors cost
    /// more than the graph walk itself; evenly spaced picks alias with periodic layouts. The
    /// estimate only picks the path (and how wide the walk looks), never which results come back.
    fn estimate_allowed(&self, allowed: impl Fn(usize) -> bool) -> usize {
        let n = self.slots.len();
        if n <= FILTER_SAMPLE {
            return (0..n).filter(|&i| allowed(i)).count();
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let hits = (0..FILTER_SAMPLE)
            .filter(|_| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                allowed(((x >> 33) % n as u64) as usize)
            })
            .count();
        hits * n / FILTER_SAMPLE
    }

    /// Exact search over the slots `allowed` accepts.
    pub fn exact(
        &self,
        query: &[f32],
        k: usize,
        allowed: impl Fn(usize) -> bool,
    ) -> Vec<(i64, f32)> {
        let mut heap: BinaryHeap<Scored> = BinaryHeap::with_capacity(k + 1);
        for (i, v) in self.data.chunks_exact(self.dim).enumerate() {
            if !allowed(i) {
                continue;
            }
            let s = dot(query, v);
            if heap.len() < k {
                heap.push(Scored(s, self.slots[i].id));
            } else if heap.peek().is_some_and(|w| s > w.0) {
                heap.pop();
                heap.push(Scored(s, self.slots[i].id));
            }
        }
        let mut out: Vec<(i64, f32)> = heap.into_iter().map(|Scored(s, id)| (id, s)).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// Exact search with a filter on metadata (what the graph is measured against).
    pub fn search_exact(
        &self,
        query: &[f32],
        k: usize,
        filter: impl Fn(&M) -> bool,
    ) -> Vec<(i64, f32)> {
        self.exact(query, k, |i| {
            self.slots[i].meta.as_ref().is_some_and(&filter)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = dot(v, v).sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn closest_part_scores_by_the_best_paragraph() {
        let mut idx = VectorIndex::new(2);
        let parts = [1.0, 0.0, 0.0, 1.0];
        let h = std::f32::consts::FRAC_1_SQRT_2;
        assert!(idx.insert_with_parts(1, &[h, h], &parts, ()));
        assert!(idx.insert(2, &[0.6, 0.8], ()));
        // Its own vector for ranking; its best paragraph for the closest part.
        assert!((idx.similarity(&[1.0, 0.0], 1).unwrap() - h).abs() < 1e-6);
        assert_eq!(idx.closest_part(&[1.0, 0.0], 1), Some(1.0));
        assert_eq!(idx.closest_part(&[0.0, 1.0], 1), Some(1.0));
        // An entry without parts is its own only part.
        assert_eq!(idx.closest_part(&[1.0, 0.0], 2), Some(0.6));
        assert_eq!(idx.closest_part(&[1.0, 0.0], 3), None);
        // Parts of the wrong length are refused with the vector.
        assert!(!idx.insert_with_parts(3, &[1.0, 0.0], &[1.0], ()));
        assert!(!idx.contains(3));
        // Replacing or removing an entry drops its parts.
        assert!(idx.insert(1, &[0.0, 1.0], ()));
        assert_eq!(idx.closest_part(&[1.0, 0.0], 1), Some(0.0));
        assert!(idx.insert_with_parts(1, &[h, h], &parts, ()));
        assert!(idx.remove(1));
        assert!(idx.insert(1, &[0.0, 1.0], ()));
        assert_eq!(idx.closest_part(&[1.0, 0.0], 1), Some(0.0));
    }

    /// Deterministic pseudo-random unit vectors.
    fn random(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                let v: Vec<f32> = (0..dim)
                    .map(|_| {
                        s = s
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        ((s >> 33) as f32 / (1u64 << 31) as f32) - 0.5
                    })
                    .collect();
                unit(&v)
            })
            .collect()
    }

    fn ids(hits: &[(i64, f32)]) -> Vec<i64> {
        hits.iter().map(|h| h.0).collect()
    }

    #[test]
    fn finds_the_nearest_and_respects_the_filter() {
        let mut idx = VectorIndex::new(3);
        idx.insert(1, &unit(&[1.0, 0.0, 0.0]), "alice");
        idx.insert(2, &unit(&[0.9, 0.1, 0.0]), "bob");
        idx.insert(3, &unit(&[0.0, 1.0, 0.0]), "alice");
        let q = unit(&[1.0, 0.05, 0.0]);
        assert_eq!(ids(&idx.search(&q, 3, |_| true).0), vec![1, 2, 3]);
        assert_eq!(ids(&idx.search(&q, 3, |m| *m == "alice").0), vec![1, 3]);
        assert!(idx.search(&q, 0, |_| true).0.is_empty());
        assert!(idx.search(&[1.0], 3, |_| true).0.is_empty());
        assert!(!idx.insert(9, &[1.0], "x"));
    }

    #[test]
    fn removed_and_replaced_vectors_are_never_returned() {
        let mut idx = VectorIndex::new(2);
        for i in 0..10 {
            let a = i as f32 / 10.0;
            idx.insert(i, &[a.cos(), a.sin()], ());
        }
        assert!(idx.remove(0));
        assert!(idx.remove(5));
        assert!(!idx.remove(5));
        assert_eq!(idx.len(), 8);
        for i in (1..10).filter(|i| *i != 5) {
            let a = i as f32 / 10.0;
            assert_eq!(idx.search(&[a.cos(), a.sin()], 1, |_| true).0[0].0, i);
        }
        assert!(!ids(&idx.search(&[1.0, 0.0], 10, |_| true).0).contains(&0));
        idx.insert(3, &[1.0, 0.0], ());
        assert_eq!(idx.len(), 8);
        assert_eq!(
            ids(&idx.search(&[1.0, 0.0], 10, |_| true).0)
                .iter()
                .filter(|i| **i == 3)
                .count(),
            1
        );
        idx.compact();
        assert_eq!(idx.len(), 8);
        assert_eq!(idx.search(&[1.0, 0.0], 1, |_| true).0[0].0, 3);
    }

    #[test]
    fn the_graph_answers_large_searches_with_high_recall_and_small_ones_exactly() {
        let dim = 24;
        let vs = random(6000, dim, 11);
        let mut idx = VectorIndex::with_threshold(dim, 2000);
        for (i, v) in vs.iter().enumerate() {
            // Two owners: 0 has 95% of the vectors, 1 has 5% (few enough to scan).
            idx.insert(i as i64, v, u8::from(i % 20 == 0));
        }
        assert!(idx.has_graph());
        let queries = random(40, dim, 5);
        let mut found = 0;
        for q in &queries {
            let (got, path) = idx.search(q, 10, |m| *m == 0);
            assert_eq!(path, SearchPath::Approximate);
            let want = idx.search_exact(q, 10, |m| *m == 0);
            found += ids(&got)
                .iter()
                .filter(|id| ids(&want).contains(id))
                .count();
            assert!(got.iter().all(|(id, _)| id % 20 != 0), "filter ignored");
            // Owner 1's 300 vectors are few enough to scan.
            let (mine, path) = idx.search(q, 10, |m| *m == 1);
            assert_eq!(path, SearchPath::Exact);
            assert_eq!(mine, idx.search_exact(q, 10, |m| *m == 1));
        }
        let recall = found as f64 / (queries.len() * 10) as f64;
        assert!(recall >= 0.95, "recall@10 {recall}");
    }

    #[test]
    fn a_saved_graph_is_reused_only_when_it_matches() {
        let dim = 8;
        let vs = random(300, dim, 2);
        let mut idx = VectorIndex::with_threshold(dim, 100);
        for (i, v) in vs.iter().enumerate() {
            idx.insert(i as i64, v, ());
        }
        idx.remove(7);
        let mut file = Vec::new();
        assert!(idx.save_graph(&mut file).unwrap());
        let live: Vec<(i64, Vec<f32>, ())> = vs
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 7)
            .map(|(i, v)| (i as i64, v.clone(), ()))
            .collect();
        let (back, used) = VectorIndex::load_graph(dim, live.clone(), Some(&mut file.as_slice()));
        assert!(used);
        assert_eq!(back.len(), 299);
        let q = &vs[42];
        assert_eq!(
            ids(&back.search(q, 5, |_| true).0),
            ids(&idx.search(q, 5, |_| true).0)
        );
        // One vector more in the store than in the file: rebuilt, and nothing is lost.
        let mut more = live.clone();
        more.push((1000, vs[0].clone(), ()));
        let (re, used) = VectorIndex::load_graph(dim, more, Some(&mut file.as_slice()));
        assert!(!used);
        assert_eq!(re.len(), 300);
        // Damaged: rebuilt.
        let mut bad = file.clone();
        let n = bad.len();
        bad[n - 3] ^= 0xff;
        let (re, used) = VectorIndex::load_graph(dim, live, Some(&mut bad.as_slice()));
        assert!(!used);
        assert_eq!(re.len(), 299);
    }
}
