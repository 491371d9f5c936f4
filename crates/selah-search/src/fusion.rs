//! Fusion of ranked lists (full text, vectors) into one: by their scores, each list's scaled to
//! 0–1 and weighted ([`score_fusion`], what hybrid search uses), or by ranks alone
//! ([`reciprocal_rank_fusion`]).
//!
//! Rank fusion throws away how far apart two results are: a passage far ahead in full text but
//! absent from the vector list fell below passages both lists ranked middling. On the relevance
//! set, score fusion finds 3 more of 96 answers in the top five (docs/BENCHMARKS.md, "Search").

use std::collections::HashMap;

/// The usual constant: dampens the weight of the very first ranks.
pub const RRF_K: f64 = 60.0;

/// Fuses ranked lists of ids (best first): each id scores the sum of `1 / (RRF_K + rank)` over
/// the lists it appears in (rank from 1). Best first; ties broken by first appearance.
pub fn reciprocal_rank_fusion(lists: &[&[i64]]) -> Vec<(i64, f64)> {
    let mut score: HashMap<i64, (f64, usize)> = HashMap::new();
    let mut seen = 0usize;
    for list in lists {
        for (rank, id) in list.iter().enumerate() {
            let e = score.entry(*id).or_insert_with(|| {
                seen += 1;
                (0.0, seen)
            });
            e.0 += 1.0 / (RRF_K + rank as f64 + 1.0);
        }
    }
    let mut out: Vec<(i64, f64, usize)> =
        score.into_iter().map(|(id, (s, o))| (id, s, o)).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
    out.into_iter().map(|(id, s, _)| (id, s)).collect()
}

/// Fuses scored lists (best first, higher is better), each with a weight: an item scores the sum
/// over the lists of `weight × (score − min) / (max − min)`, min and max taken over that list;
/// an item a list lacks gets that list's minimum (0). A list whose scores are all equal gives
/// its items 1. Best first; ties broken by first appearance.
pub fn score_fusion(lists: &[(&[(i64, f64)], f64)]) -> Vec<(i64, f64)> {
    let mut score: HashMap<i64, (f64, usize)> = HashMap::new();
    let mut seen = 0usize;
    for (list, weight) in lists {
        let (lo, hi) = list
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                (lo.min(x.1), hi.max(x.1))
            });
        for (id, s) in list.iter() {
            let scaled = if hi > lo { (s - lo) / (hi - lo) } else { 1.0 };
            let e = score.entry(*id).or_insert_with(|| {
                seen += 1;
                (0.0, seen)
            });
            e.0 += weight * scaled;
        }
    }
    let mut out: Vec<(i64, f64, usize)> =
        score.into_iter().map(|(id, (s, o))| (id, s, o)).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
    out.into_iter().map(|(id, s, _)| (id, s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clear_lead_in_one_list_beats_middling_ranks_in_both() {
        // 1 leads full text by far and is missing from the vector list; 2 and 3 are middling in
        // both. Rank fusion puts 2 and 3 first; score fusion keeps 1 on top.
        let text = [(1, 30.0), (2, 12.0), (3, 11.0), (4, 10.0)];
        let vec = [(5, 0.62), (2, 0.60), (3, 0.59), (6, 0.40)];
        let ranks = reciprocal_rank_fusion(&[&[1, 2, 3, 4], &[5, 2, 3, 6]]);
        assert_eq!(ranks[0].0, 2);
        let scores = score_fusion(&[(&text, 0.6), (&vec, 0.4)]);
        assert_eq!(scores[0].0, 1, "{scores:?}");
        assert!((scores[0].1 - 0.6).abs() < 1e-12);
        // 2: 0.6 × 2/20 + 0.4 × 0.20/0.22.
        let two = scores.iter().find(|s| s.0 == 2).unwrap().1;
        assert!((two - (0.6 * 0.1 + 0.4 * 0.2 / 0.22)).abs() < 1e-9, "{two}");
        assert_eq!(scores.len(), 6);
    }

    #[test]
    fn score_fusion_of_nothing_or_of_equal_scores() {
        assert!(score_fusion(&[(&[], 0.5), (&[], 0.5)]).is_empty());
        assert_eq!(
            score_fusion(&[(&[(7, 3.0), (8, 3.0)], 0.5)]),
            vec![(7, 0.5), (8, 0.5)]
        );
    }

    #[test]
    fn items_in_both_lists_rise() {
        let fused = reciprocal_rank_fusion(&[&[1, 2, 3], &[3, 4, 1]]);
        let ids: Vec<i64> = fused.iter().map(|f| f.0).collect();
        assert_eq!(ids[..2], [1, 3]);
        assert_eq!(ids.len(), 4);
        assert!((fused[0].1 - (1.0 / 61.0 + 1.0 / 63.0)).abs() < 1e-12);
    }

    #[test]
    fn empty_lists_fuse_to_nothing() {
        assert!(reciprocal_rank_fusion(&[&[], &[]]).is_empty());
        assert_eq!(reciprocal_rank_fusion(&[&[7]]), vec![(7, 1.0 / 61.0)]);
    }
}
