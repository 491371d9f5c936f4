//! Reading light Markdown as a sequence of blocks: heading lines (`#`…`######` and a space,
//! outside fenced code) and paragraphs (runs of other non-blank lines). Each block is trimmed of
//! surrounding whitespace, so chunks neither start nor end with it.

use super::{Level, Piece};
use crate::syntax::{Fences, heading_level};

/// An iterator over the blocks of a text, as paragraph-level pieces.
pub(super) struct Blocks<'a> {
    text: &'a str,
    pos: usize,
    fences: Fences,
}

impl<'a> Blocks<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Self {
            text,
            pos: 0,
            fences: Fences::default(),
        }
    }

    /// The next line as (start, end-without-newline, start-of-following-line).
    fn line_at(&self, at: usize) -> Option<(usize, usize, usize)> {
        if at >= self.text.len() {
            return None;
        }
        Some(match self.text[at..].find('\n') {
            Some(i) => (at, at + i, at + i + 1),
            None => (at, self.text.len(), self.text.len()),
        })
    }
}

impl Iterator for Blocks<'_> {
    type Item = Piece;

    fn next(&mut self) -> Option<Piece> {
        // Skip blank lines.
        let (first_start, first_end, mut next) = loop {
            let line = self.line_at(self.pos)?;
            self.pos = line.2;
            if !self.text[line.0..line.1].trim().is_empty() {
                break line;
            }
        };
        let first = &self.text[first_start..first_end];
        if !self.fences.inside()
            && let Some(level) = heading_level(first)
        {
            return Some(trimmed(self.text, first_start, first_end, Some(level)));
        }
        self.fences.feed(first);
        let mut end = first_end;
        while let Some((start, line_end, after)) = self.line_at(next) {
            let line = &self.text[start..line_end];
            if line.trim().is_empty() || (!self.fences.inside() && heading_level(line).is_some()) {
                break;
            }
            self.fences.feed(line);
            end = line_end;
            next = after;
        }
        self.pos = next;
        Some(trimmed(self.text, first_start, end, None))
    }
}

fn trimmed(text: &str, start: usize, end: usize, heading: Option<usize>) -> Piece {
    let slice = &text[start..end];
    let lead = slice.len() - slice.trim_start().len();
    let trail = slice.len() - slice.trim_end().len();
    Piece {
        start: start + lead,
        end: end - trail,
        level: Level::Paragraph,
        heading,
        tokens: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(text: &str) -> Vec<(Option<usize>, &str)> {
        Blocks::new(text)
            .map(|p| (p.heading, &text[p.start..p.end]))
            .collect()
    }

    #[test]
    fn headings_paragraphs_and_fences() {
        let text = "\n# Title\nintro line\nsecond  \n\n  \n## Sub ##\n```\n# comment\n\ncode\n```\n####### seven\n#tag\n";
        assert_eq!(
            blocks(text),
            vec![
                (Some(1), "# Title"),
                (None, "intro line\nsecond"),
                (Some(2), "## Sub ##"),
                (None, "```\n# comment"),
                (None, "code\n```\n####### seven\n#tag"),
            ]
        );
    }
}
