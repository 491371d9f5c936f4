//! A passage's parts: its paragraphs, each embedded on its own. A 256-token passage of a
//! manual's options holds a dozen topics, and its one vector is an average that matches none of
//! them well; the vector of the paragraph a question is about matches it far better. So a
//! passage is stored with one vector per paragraph, the index finds candidates by their mean
//! (one graph node per passage), and candidates are ranked by their closest paragraph
//! ([`crate::VectorIndex::closest_part`]). On the relevance set this lifted vector-only
//! recall@5 from 0.78 to 0.87 (docs/BENCHMARKS.md, "Search").

/// At most this many parts per passage; the rest of the text joins the last one.
pub const MAX_PARTS: usize = 16;

/// The passage's paragraphs (separated by blank lines), trimmed, empty ones dropped; at most
/// [`MAX_PARTS`], the last holding whatever is left. A passage without blank lines is one part.
pub fn paragraphs(text: &str) -> Vec<&str> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    let mut end = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim().is_empty() {
            if let Some(s) = start.take() {
                spans.push((s, end));
            }
        } else {
            start.get_or_insert(offset);
            end = offset + line.len();
        }
        offset += line.len();
    }
    if let Some(s) = start {
        spans.push((s, end));
    }
    if spans.len() > MAX_PARTS {
        let last_end = spans[spans.len() - 1].1;
        spans.truncate(MAX_PARTS);
        spans[MAX_PARTS - 1].1 = last_end;
    }
    spans.iter().map(|&(s, e)| text[s..e].trim()).collect()
}

/// The unit-length mean of unit vectors (the whole passage's stand-in in the index); the first
/// vector when they cancel out.
pub fn mean_unit(vectors: &[Vec<f32>]) -> Vec<f32> {
    let Some(first) = vectors.first() else {
        return Vec::new();
    };
    let mut mean = vec![0.0f32; first.len()];
    for v in vectors {
        for (m, x) in mean.iter_mut().zip(v) {
            *m += x;
        }
    }
    let norm = mean.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm <= f32::EPSILON {
        return first.clone();
    }
    mean.iter_mut().for_each(|x| *x /= norm);
    mean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_split_on_blank_lines() {
        let text = "  -k, --keep\n      Keep files.\n\n   \n-v  Verbose.\n\nLast one.";
        assert_eq!(
            paragraphs(text),
            vec!["-k, --keep\n      Keep files.", "-v  Verbose.", "Last one."]
        );
        assert_eq!(
            paragraphs("one paragraph\nof two lines\n"),
            vec!["one paragraph\nof two lines"]
        );
        assert!(paragraphs(" \n\n ").is_empty());
    }

    #[test]
    fn parts_are_bounded_and_keep_all_text() {
        let text: String = (0..40).map(|i| format!("p{i}\n\n")).collect();
        let parts = paragraphs(&text);
        assert_eq!(parts.len(), MAX_PARTS);
        assert_eq!(parts[0], "p0");
        assert!(parts[MAX_PARTS - 1].starts_with("p15") && parts[MAX_PARTS - 1].ends_with("p39"));
    }

    #[test]
    fn mean_of_unit_vectors_is_unit() {
        let m = mean_unit(&[vec![1.0, 0.0], vec![0.0, 1.0]]);
        let h = std::f32::consts::FRAC_1_SQRT_2;
        assert!((m[0] - h).abs() < 1e-6 && (m[1] - h).abs() < 1e-6);
        assert_eq!(
            mean_unit(&[vec![1.0, 0.0], vec![-1.0, 0.0]]),
            vec![1.0, 0.0]
        );
        assert!(mean_unit(&[]).is_empty());
    }
}
