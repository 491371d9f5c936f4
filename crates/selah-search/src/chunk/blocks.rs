//! Reading light Markdown as a sequence of blocks: heading lines (`#`…`######` and a space,
//! outside fenced code) and paragraphs (runs of other non-blank lines). Each block is trimmed of
//! surrounding whitespace, so chunks neither start nor end with it.

use super::{Level, Piece};

/// An iterator over the blocks of a text, as paragraph-level pieces.
pub(super) struct Blocks<'a> {
    text: &'a str,
    pos: usize,
    /// The fence character of the code block we are in (`` ` `` or `~`).
    fence: Option<char>,
}

impl<'a> Blocks<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Self {
            text,
            pos: 0,
            fence: None,
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

    /// Tracks fenced code blocks; true if `line` opens or closes one.
    fn toggle_fence(&mut self, line: &str) -> bool {
        let Some(c) = fence_char(line) else {
            return false;
        };
        self.fence = match self.fence {
            None => Some(c),
            Some(open) if open == c => None,
            other => other,
        };
        true
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
        if self.fence.is_none()
            && let Some(level) = heading_level(first)
        {
            return Some(trimmed(self.text, first_start, first_end, Some(level)));
        }
        self.toggle_fence(first);
        let mut end = first_end;
        while let Some((start, line_end, after)) = self.line_at(next) {
            let line = &self.text[start..line_end];
            if line.trim().is_empty() || (self.fence.is_none() && heading_level(line).is_some()) {
                break;
            }
            self.toggle_fence(line);
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

/// `Some(level)` for an ATX heading line: up to three spaces, 1–6 `#`, then a space or the end.
pub(super) fn heading_level(line: &str) -> Option<usize> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let hashes = rest.len() - rest.trim_start_matches('#').len();
    let after = &rest[hashes..];
    ((1..=6).contains(&hashes) && (after.is_empty() || after.starts_with([' ', '\t'])))
        .then_some(hashes)
}

/// A heading line's text without its `#` marks (leading, and a closing sequence if any).
pub(super) fn heading_title(line: &str) -> &str {
    let text = line.trim().trim_start_matches('#').trim();
    match text.trim_end_matches('#') {
        stripped if stripped.is_empty() || stripped.ends_with([' ', '\t']) => stripped.trim_end(),
        _ => text,
    }
}

/// Whether `line` opens or closes a fenced code block, and with which character.
fn fence_char(line: &str) -> Option<char> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    ['`', '~']
        .into_iter()
        .find(|&c| rest.chars().take_while(|&x| x == c).count() >= 3)
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

    #[test]
    fn titles() {
        assert_eq!(heading_title("## Sub ##"), "Sub");
        assert_eq!(heading_title("# C#"), "C#");
        assert_eq!(heading_title("#"), "");
        assert_eq!(heading_title("### a # b ###  "), "a # b");
    }
}
