//! Marking the words of a passage that match a query, for the search results page.

use crate::terms::stem;

/// A highlighted range of a passage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Span {
    /// First char (Unicode scalar value) of the span within the passage.
    pub start: usize,
    /// One past the last char.
    pub end: usize,
}

/// Spans of `passage` whose words share a stem with a query term; adjacent/overlapping spans merged.
///
/// Words are runs of alphanumeric chars, compared in lower case. Spans separated only by spaces
/// or tabs are adjacent ("gzip compression" is one span), so phrases read as one mark.
pub fn highlight(passage: &str, terms: &[String]) -> Vec<Span> {
    let wanted: Vec<String> = terms.iter().map(|t| stem(&t.to_lowercase())).collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut spans: Vec<Span> = Vec::new();
    // Whether only spaces or tabs came since the last span ended.
    let mut gap_is_blank = false;
    let mut word = String::new();
    let mut word_start = 0;
    // A trailing line break ends the last word like any other separator.
    for (i, c) in passage.chars().chain(std::iter::once('\n')).enumerate() {
        if c.is_alphanumeric() {
            if word.is_empty() {
                word_start = i;
            }
            word.extend(c.to_lowercase());
            continue;
        }
        if !word.is_empty() {
            if wanted.contains(&stem(&word)) {
                match spans.last_mut() {
                    Some(last) if gap_is_blank => last.end = i,
                    _ => spans.push(Span {
                        start: word_start,
                        end: i,
                    }),
                }
                gap_is_blank = true;
            } else {
                gap_is_blank = false;
            }
            word.clear();
        }
        if !matches!(c, ' ' | '\t') {
            gap_is_blank = false;
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    fn marked(passage: &str, words: &[&str]) -> Vec<String> {
        let chars: Vec<char> = passage.chars().collect();
        highlight(passage, &terms(words))
            .iter()
            .map(|s| chars[s.start..s.end].iter().collect())
            .collect()
    }

    #[test]
    fn stems_and_case() {
        assert_eq!(
            marked(
                "Compressing files: the file is Compressed.",
                &["compression", "compress", "files"]
            ),
            vec!["Compressing files", "file", "Compressed"]
        );
    }

    #[test]
    fn adjacent_words_merge_but_not_across_punctuation_or_lines() {
        assert_eq!(
            marked("use gzip  compression now", &["gzip", "compression"]),
            vec!["gzip  compression"]
        );
        assert_eq!(
            marked("gzip, compression", &["gzip", "compression"]),
            vec!["gzip", "compression"]
        );
        assert_eq!(
            marked("gzip\ncompression", &["gzip", "compression"]),
            vec!["gzip", "compression"]
        );
        assert_eq!(
            marked("gzip the compression", &["gzip", "compression"]),
            vec!["gzip", "compression"]
        );
    }

    #[test]
    fn char_offsets_with_multibyte_text() {
        let passage = "Ünïcode straße — Straße!";
        assert_eq!(
            highlight(passage, &terms(&["STRASSE", "straße"])),
            vec![Span { start: 8, end: 14 }, Span { start: 17, end: 23 }]
        );
        assert_eq!(
            marked("日本語のテキスト 日本語", &["日本語のテキスト"]),
            vec!["日本語のテキスト"]
        );
    }

    #[test]
    fn nothing_to_mark() {
        assert!(highlight("anything", &[]).is_empty());
        assert!(highlight("", &terms(&["x"])).is_empty());
        assert!(highlight("cat", &terms(&["dog"])).is_empty());
    }
}
