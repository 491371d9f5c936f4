//! A hierarchical navigable small world graph (Malkov & Yashunin, 2016) over unit vectors kept
//! elsewhere: nodes are indices into the caller's vector block, similarity is the dot product.
//!
//! Written here rather than taken from a crate because Selah needs three things together that
//! the crates on offer did not give: a search-time filter (each user sees only their scope), a
//! caller-owned vector block (the vectors already live in the index and the store; no second
//! copy), and a small file format of its own that can be checked and discarded when it does not
//! match the store. Deleted nodes stay in the graph as tombstones, skipped by the filter, until
//! the owner rebuilds.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};
use std::io::{self, Read, Write};

use crate::vector::dot;

/// Graph parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HnswParams {
    /// Links per node above level 0.
    pub m: usize,
    /// Links per node at level 0.
    pub m0: usize,
    /// Candidates kept while linking a new node.
    pub ef_construction: usize,
}

impl Default for HnswParams {
    fn default() -> Self {
        Self {
            m: 16,
            m0: 32,
            ef_construction: 100,
        }
    }
}

/// A candidate: similarity and node.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cand(f32, u32);

impl Eq for Cand {}

impl PartialOrd for Cand {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Cand {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .total_cmp(&other.0)
            .then_with(|| other.1.cmp(&self.1))
    }
}

/// The graph.
#[derive(Debug, Clone)]
pub struct Hnsw {
    params: HnswParams,
    /// `links[node][level]`: neighbours of `node` at `level`.
    links: Vec<Vec<Vec<u32>>>,
    entry: Option<u32>,
    max_level: usize,
    rng: u64,
}

const MAGIC: &[u8; 8] = b"SELAHNSW";
const VERSION: u32 = 1;

fn vector(data: &[f32], dim: usize, node: u32) -> &[f32] {
    let i = node as usize * dim;
    &data[i..i + dim]
}

impl Hnsw {
    /// An empty graph.
    pub fn new(params: HnswParams) -> Self {
        Self {
            params,
            links: Vec::new(),
            entry: None,
            max_level: 0,
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// Nodes in the graph (live or not).
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// True when no node was added.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// A level drawn from the geometric distribution with ratio 1/m (xorshift: deterministic
    /// for a given insertion order, which makes builds reproducible).
    fn random_level(&mut self) -> usize {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let u = ((self.rng >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let ml = 1.0 / (self.params.m as f64).ln();
        ((-u.ln() * ml) as usize).min(16)
    }

    /// Adds the next node (its index must be [`Hnsw::len`]); its vector is in `data`.
    pub fn insert(&mut self, data: &[f32], dim: usize) {
        let node = self.links.len() as u32;
        let level = self.random_level();
        self.links.push(vec![Vec::new(); level + 1]);
        let Some(mut ep) = self.entry else {
            self.entry = Some(node);
            self.max_level = level;
            return;
        };
        let q = vector(data, dim, node);
        for l in (level + 1..=self.max_level).rev() {
            ep = self.greedy(q, ep, l, data, dim);
        }
        let mut eps = vec![ep];
        for l in (0..=level.min(self.max_level)).rev() {
            let found =
                self.search_layer(q, &eps, self.params.ef_construction, l, data, dim, |_| true);
            let cap = if l == 0 {
                self.params.m0
            } else {
                self.params.m
            };
            let chosen = select_neighbours(&found, self.params.m, data, dim);
            for &n in &chosen {
                self.links[n as usize][l].push(node);
                if self.links[n as usize][l].len() > cap {
                    self.shrink(n, l, cap, data, dim);
                }
            }
            self.links[node as usize][l] = chosen;
            eps = found.iter().map(|c| c.1).collect();
        }
        if level > self.max_level {
            self.max_level = level;
            self.entry = Some(node);
        }
    }

    /// Cuts a node's neighbours at a level back to `cap`, chosen by [`select_neighbours`].
    fn shrink(&mut self, n: u32, l: usize, cap: usize, data: &[f32], dim: usize) {
        let base = vector(data, dim, n);
        let mut scored: Vec<Cand> = self.links[n as usize][l]
            .iter()
            .map(|&m| Cand(dot(base, vector(data, dim, m)), m))
            .collect();
        scored.sort_by(|a, b| b.cmp(a));
        self.links[n as usize][l] = select_neighbours(&scored, cap, data, dim);
    }

    fn greedy(&self, q: &[f32], mut ep: u32, l: usize, data: &[f32], dim: usize) -> u32 {
        let mut best = dot(q, vector(data, dim, ep));
        loop {
            let mut moved = false;
            for &n in &self.links[ep as usize][l] {
                let s = dot(q, vector(data, dim, n));
                if s > best {
                    best = s;
                    ep = n;
                    moved = true;
                }
            }
            if !moved {
                return ep;
            }
        }
    }

    /// The `ef` best nodes reachable at level `l` from `eps`, best first. All nodes guide the
    /// walk; only those `accept` allows are returned.
    #[allow(clippy::too_many_arguments)]
    fn search_layer(
        &self,
        q: &[f32],
        eps: &[u32],
        ef: usize,
        l: usize,
        data: &[f32],
        dim: usize,
        accept: impl Fn(u32) -> bool,
    ) -> Vec<Cand> {
        let mut visited: HashSet<u32> = HashSet::with_capacity(ef * 8);
        // Frontier: best first. Results: worst on top (reversed).
        let mut frontier: BinaryHeap<Cand> = BinaryHeap::new();
        let mut results: BinaryHeap<std::cmp::Reverse<Cand>> = BinaryHeap::new();
        for &e in eps {
            if visited.insert(e) {
                let c = Cand(dot(q, vector(data, dim, e)), e);
                frontier.push(c);
                if accept(e) {
                    results.push(std::cmp::Reverse(c));
                }
            }
        }
        while let Some(c) = frontier.pop() {
            let worst = results.peek().map(|r| r.0.0);
            if results.len() >= ef && worst.is_some_and(|w| c.0 < w) {
                break;
            }
            for &n in &self.links[c.1 as usize][l] {
                if !visited.insert(n) {
                    continue;
                }
                let s = dot(q, vector(data, dim, n));
                let worst = results.peek().map(|r| r.0.0);
                if results.len() < ef || worst.is_some_and(|w| s > w) {
                    frontier.push(Cand(s, n));
                    if accept(n) {
                        results.push(std::cmp::Reverse(Cand(s, n)));
                        if results.len() > ef {
                            results.pop();
                        }
                    }
                }
            }
        }
        let mut out: Vec<Cand> = results.into_iter().map(|r| r.0).collect();
        out.sort_by(|a, b| b.cmp(a));
        out
    }

    /// The `k` most similar accepted nodes, best first, looking at `ef` candidates (at least `k`).
    pub fn search(
        &self,
        q: &[f32],
        data: &[f32],
        dim: usize,
        k: usize,
        ef: usize,
        accept: impl Fn(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        let Some(mut ep) = self.entry else {
            return Vec::new();
        };
        for l in (1..=self.max_level).rev() {
            ep = self.greedy(q, ep, l, data, dim);
        }
        self.search_layer(q, &[ep], ef.max(k), 0, data, dim, accept)
            .into_iter()
            .take(k)
            .map(|c| (c.1, c.0))
            .collect()
    }

    /// Writes the graph: magic, version, parameters, entry, then each node's levels and links,
    /// then an FNV-1a checksum of everything before it.
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        let mut buf = Vec::with_capacity(self.links.len() * 160);
        buf.extend_from_slice(MAGIC);
        for v in [
            VERSION,
            self.params.m as u32,
            self.params.m0 as u32,
            self.params.ef_construction as u32,
            self.entry.unwrap_or(u32::MAX),
            self.max_level as u32,
            self.links.len() as u32,
        ] {
            buf.extend_from_slice(&v.to_le_bytes());
        }
        for levels in &self.links {
            buf.push(levels.len() as u8);
            for l in levels {
                buf.extend_from_slice(&(l.len() as u16).to_le_bytes());
                for n in l {
                    buf.extend_from_slice(&n.to_le_bytes());
                }
            }
        }
        buf.extend_from_slice(&fnv1a(&buf).to_le_bytes());
        w.write_all(&buf)
    }

    /// Reads a graph written by [`Hnsw::write_to`], checking its checksum, version and that
    /// every link names one of its `nodes` nodes. Errors describe what was wrong.
    pub fn read_from(r: &mut (impl Read + ?Sized), nodes: usize) -> io::Result<Self> {
        let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_string());
        let mut buf = Vec::new();
        r.read_to_end(&mut buf)?;
        if buf.len() < MAGIC.len() + 28 + 8 || &buf[..8] != MAGIC {
            return Err(bad("not a Selah graph file"));
        }
        let (body, sum) = buf.split_at(buf.len() - 8);
        if fnv1a(body).to_le_bytes() != sum {
            return Err(bad("checksum mismatch"));
        }
        let mut at = 8;
        let u32_at = |at: &mut usize| -> io::Result<u32> {
            let b = body.get(*at..*at + 4).ok_or_else(|| bad("truncated"))?;
            *at += 4;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let version = u32_at(&mut at)?;
        if version != VERSION {
            return Err(bad("unknown version"));
        }
        let params = HnswParams {
            m: u32_at(&mut at)? as usize,
            m0: u32_at(&mut at)? as usize,
            ef_construction: u32_at(&mut at)? as usize,
        };
        let entry = u32_at(&mut at)?;
        let max_level = u32_at(&mut at)? as usize;
        let count = u32_at(&mut at)? as usize;
        if count != nodes {
            return Err(bad("node count differs"));
        }
        let mut links = Vec::with_capacity(count);
        for _ in 0..count {
            let levels = *body.get(at).ok_or_else(|| bad("truncated"))? as usize;
            at += 1;
            let mut node = Vec::with_capacity(levels);
            for _ in 0..levels {
                let b = body.get(at..at + 2).ok_or_else(|| bad("truncated"))?;
                let n = u16::from_le_bytes([b[0], b[1]]) as usize;
                at += 2;
                let mut l = Vec::with_capacity(n);
                for _ in 0..n {
                    let v = u32_at(&mut at)?;
                    if v as usize >= count {
                        return Err(bad("link out of range"));
                    }
                    l.push(v);
                }
                node.push(l);
            }
            links.push(node);
        }
        if at != body.len() {
            return Err(bad("trailing bytes"));
        }
        let entry = (entry != u32::MAX).then_some(entry);
        if entry.is_some_and(|e| e as usize >= count || links[e as usize].len() <= max_level) {
            return Err(bad("bad entry point"));
        }
        Ok(Self {
            params,
            links,
            entry,
            max_level,
            rng: 0x9E37_79B9_7F4A_7C15 ^ count as u64,
        })
    }
}

/// Up to `m` neighbours for a node from `candidates` (its similarity to each, best first), by the
/// paper's heuristic (algorithm 4, keeping pruned connections): a candidate is taken only when it
/// is more similar to the node than to every neighbour already taken, then the rest fill what is
/// left. Taking simply the `m` most similar would, among near-duplicates (one passage indexed
/// twice, boilerplate repeated across documents), link each cluster only to itself and cut it off
/// from the rest of the graph; the heuristic keeps links pointing in different directions.
fn select_neighbours(candidates: &[Cand], m: usize, data: &[f32], dim: usize) -> Vec<u32> {
    let mut chosen: Vec<u32> = Vec::with_capacity(m);
    let mut pruned: Vec<u32> = Vec::new();
    for c in candidates {
        if chosen.len() >= m {
            break;
        }
        let v = vector(data, dim, c.1);
        if chosen.iter().all(|&s| dot(v, vector(data, dim, s)) < c.0) {
            chosen.push(c.1);
        } else {
            pruned.push(c.1);
        }
    }
    let room = m - chosen.len();
    chosen.extend(pruned.into_iter().take(room));
    chosen
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random unit vectors.
    fn vectors(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        let mut out = Vec::with_capacity(n * dim);
        for _ in 0..n {
            let v: Vec<f32> = (0..dim)
                .map(|_| {
                    s = s
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((s >> 33) as f32 / (1u64 << 31) as f32) - 0.5
                })
                .collect();
            let norm = dot(&v, &v).sqrt();
            out.extend(v.iter().map(|x| x / norm));
        }
        out
    }

    fn exact(
        data: &[f32],
        dim: usize,
        q: &[f32],
        k: usize,
        accept: impl Fn(u32) -> bool,
    ) -> Vec<u32> {
        let mut all: Vec<(f32, u32)> = data
            .chunks_exact(dim)
            .enumerate()
            .filter(|(i, _)| accept(*i as u32))
            .map(|(i, v)| (dot(q, v), i as u32))
            .collect();
        all.sort_by(|a, b| b.0.total_cmp(&a.0));
        all.into_iter().take(k).map(|x| x.1).collect()
    }

    /// A graph of every vector in `data`, inserted in order.
    fn build(data: &[f32], dim: usize) -> Hnsw {
        let mut g = Hnsw::new(HnswParams::default());
        for _ in 0..data.len() / dim {
            g.insert(&data[..(g.len() + 1) * dim], dim);
        }
        g
    }

    /// Mean recall@10 of the graph (ef 64) against exact search over `queries`.
    fn recall_at_10<'a>(
        g: &Hnsw,
        data: &[f32],
        dim: usize,
        queries: impl Iterator<Item = &'a [f32]>,
    ) -> f64 {
        let (mut hit, mut asked) = (0, 0);
        for q in queries {
            let want = exact(data, dim, q, 10, |_| true);
            hit += g
                .search(q, data, dim, 10, 64, |_| true)
                .iter()
                .filter(|x| want.contains(&x.0))
                .count();
            asked += 10;
        }
        hit as f64 / asked as f64
    }

    #[test]
    fn recall_against_exact_search_is_high() {
        let (n, dim) = (3000, 32);
        let data = vectors(n, dim, 7);
        let g = build(&data, dim);
        let queries = vectors(50, dim, 99);
        let recall = recall_at_10(&g, &data, dim, queries.chunks_exact(dim));
        assert!(recall >= 0.95, "recall@10 {recall}");
        // A filter is honoured.
        let q = &queries[..dim];
        for (node, _) in g.search(q, &data, dim, 10, 64, |n| n % 2 == 0) {
            assert_eq!(node % 2, 0);
        }
    }

    /// Clusters of near-identical vectors (the same passage embedded many times over) must not
    /// cut the graph into islands: the heuristic neighbour choice keeps recall high on them.
    #[test]
    fn recall_stays_high_among_near_duplicates() {
        let (centres, copies, dim) = (150, 20, 32);
        let base = vectors(centres, dim, 11);
        let noise = vectors(centres * copies, dim, 12);
        let mut data = Vec::with_capacity(centres * copies * dim);
        for i in 0..centres * copies {
            let c = &base[(i % centres) * dim..][..dim];
            let e = &noise[i * dim..][..dim];
            let v: Vec<f32> = c.iter().zip(e).map(|(a, b)| a + 0.05 * b).collect();
            let norm = dot(&v, &v).sqrt();
            data.extend(v.iter().map(|x| x / norm));
        }
        let n = centres * copies;
        let g = build(&data, dim);
        let queries = (0..60).map(|i| &data[(i * 37 % n) * dim..][..dim]);
        let recall = recall_at_10(&g, &data, dim, queries);
        assert!(recall >= 0.95, "recall@10 among near-duplicates {recall}");
    }

    #[test]
    fn files_round_trip_and_damage_is_refused() {
        let (n, dim) = (200, 8);
        let data = vectors(n, dim, 3);
        let g = build(&data, dim);
        let mut bytes = Vec::new();
        g.write_to(&mut bytes).unwrap();
        let back = Hnsw::read_from(&mut bytes.as_slice(), n).unwrap();
        let q = &data[..dim];
        assert_eq!(
            back.search(q, &data, dim, 5, 32, |_| true),
            g.search(q, &data, dim, 5, 32, |_| true)
        );
        assert!(Hnsw::read_from(&mut bytes.as_slice(), n + 1).is_err());
        let mut flipped = bytes.clone();
        flipped[40] ^= 1;
        assert!(Hnsw::read_from(&mut flipped.as_slice(), n).is_err());
        assert!(Hnsw::read_from(&mut &bytes[..bytes.len() / 2], n).is_err());
        assert!(Hnsw::read_from(&mut &b"garbage"[..], n).is_err());
    }
}
