//! The in-memory vector index: unit-length vectors in one contiguous block, searched exactly by
//! dot product (cosine similarity for unit vectors) with a caller's filter, so a search only ever
//! ranks passages the caller may see. Removal swaps the last vector into the hole, keeping the
//! block dense.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

/// Vectors keyed by passage id, each with metadata `M` the search filter reads.
#[derive(Debug, Clone)]
pub struct VectorIndex<M> {
    dim: usize,
    ids: Vec<i64>,
    meta: Vec<M>,
    data: Vec<f32>,
    pos: HashMap<i64, usize>,
}

/// A scored candidate; ordered so the heap's top is the worst kept so far.
#[derive(PartialEq)]
struct Scored(f32, i64);

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: the smallest score is the greatest, so `peek` is the one to evict.
        other
            .0
            .total_cmp(&self.0)
            .then_with(|| self.1.cmp(&other.1))
    }
}

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

impl<M> VectorIndex<M> {
    /// An empty index of `dim`-long vectors.
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            ids: Vec::new(),
            meta: Vec::new(),
            data: Vec::new(),
            pos: HashMap::new(),
        }
    }

    /// Vector length.
    pub fn dimensions(&self) -> usize {
        self.dim
    }

    /// Vectors held.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether `id` is held.
    pub fn contains(&self, id: i64) -> bool {
        self.pos.contains_key(&id)
    }

    /// Adds or replaces a vector. Vectors of another length are refused (false).
    pub fn insert(&mut self, id: i64, vector: &[f32], meta: M) -> bool {
        if vector.len() != self.dim {
            return false;
        }
        if let Some(&i) = self.pos.get(&id) {
            self.data[i * self.dim..(i + 1) * self.dim].copy_from_slice(vector);
            self.meta[i] = meta;
            return true;
        }
        self.pos.insert(id, self.ids.len());
        self.ids.push(id);
        self.meta.push(meta);
        self.data.extend_from_slice(vector);
        true
    }

    /// Metadata of `id`, mutable (e.g. to make a passage searchable).
    pub fn meta_mut(&mut self, id: i64) -> Option<&mut M> {
        self.pos.get(&id).map(|&i| &mut self.meta[i])
    }

    /// Removes a vector; false when absent.
    pub fn remove(&mut self, id: i64) -> bool {
        let Some(i) = self.pos.remove(&id) else {
            return false;
        };
        let last = self.ids.len() - 1;
        if i != last {
            let moved = self.ids[last];
            self.ids.swap(i, last);
            self.meta.swap(i, last);
            let (head, tail) = self.data.split_at_mut(last * self.dim);
            head[i * self.dim..(i + 1) * self.dim].copy_from_slice(&tail[..self.dim]);
            self.pos.insert(moved, i);
        }
        self.ids.pop();
        self.meta.pop();
        self.data.truncate(last * self.dim);
        true
    }

    /// The `k` most similar vectors whose metadata passes `filter`, best first, with their
    /// similarity. Exact.
    pub fn search(&self, query: &[f32], k: usize, filter: impl Fn(&M) -> bool) -> Vec<(i64, f32)> {
        if k == 0 || query.len() != self.dim {
            return Vec::new();
        }
        let mut heap: BinaryHeap<Scored> = BinaryHeap::with_capacity(k + 1);
        for (i, v) in self.data.chunks_exact(self.dim).enumerate() {
            if !filter(&self.meta[i]) {
                continue;
            }
            let s = dot(query, v);
            if heap.len() < k {
                heap.push(Scored(s, self.ids[i]));
            } else if heap.peek().is_some_and(|w| s > w.0) {
                heap.pop();
                heap.push(Scored(s, self.ids[i]));
            }
        }
        let mut out: Vec<(i64, f32)> = heap.into_iter().map(|Scored(s, id)| (id, s)).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
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
    fn finds_the_nearest_and_respects_the_filter() {
        let mut idx = VectorIndex::new(3);
        idx.insert(1, &unit(&[1.0, 0.0, 0.0]), "alice");
        idx.insert(2, &unit(&[0.9, 0.1, 0.0]), "bob");
        idx.insert(3, &unit(&[0.0, 1.0, 0.0]), "alice");
        let q = unit(&[1.0, 0.05, 0.0]);
        let all: Vec<i64> = idx.search(&q, 3, |_| true).iter().map(|h| h.0).collect();
        assert_eq!(all, vec![1, 2, 3]);
        let mine: Vec<i64> = idx.search(&q, 3, |m| *m == "alice").iter().map(|h| h.0).collect();
        assert_eq!(mine, vec![1, 3]);
        assert!(idx.search(&q, 0, |_| true).is_empty());
        assert!(idx.search(&[1.0], 3, |_| true).is_empty());
        assert!(!idx.insert(9, &[1.0], "x"));
    }

    #[test]
    fn removal_keeps_every_other_vector_findable() {
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
            assert_eq!(idx.search(&[a.cos(), a.sin()], 1, |_| true)[0].0, i);
        }
        // Replacing keeps one entry.
        idx.insert(3, &[1.0, 0.0], ());
        assert_eq!(idx.len(), 8);
        assert_eq!(idx.search(&[1.0, 0.0], 1, |_| true)[0].0, 3);
    }

    #[test]
    fn dot_matches_the_plain_sum_for_any_length() {
        for n in [0usize, 1, 7, 8, 9, 384] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain).abs() < 1e-3, "n={n}");
        }
    }
}
