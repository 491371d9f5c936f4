//! Reciprocal rank fusion: combines ranked lists (full-text, vector) into one, rewarding items
//! that rank well in several lists without comparing their incomparable raw scores.

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

#[cfg(test)]
mod tests {
    use super::*;

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
