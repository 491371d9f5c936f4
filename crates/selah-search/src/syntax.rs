//! The little Markdown syntax that extraction and chunking must read the same way: ATX heading
//! lines and fenced code blocks (inside which a `# comment` is not a heading).

/// `Some(level)` for an ATX heading line: up to three spaces, 1–6 `#`, then a space or the end.
pub(crate) fn heading_level(line: &str) -> Option<usize> {
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
pub(crate) fn heading_title(line: &str) -> &str {
    let text = line.trim().trim_start_matches('#').trim();
    match text.trim_end_matches('#') {
        stripped if stripped.is_empty() || stripped.ends_with([' ', '\t']) => stripped.trim_end(),
        _ => text,
    }
}

/// Follows fenced code blocks line by line.
#[derive(Debug, Default)]
pub(crate) struct Fences {
    /// The fence character (`` ` `` or `~`) of the block we are in.
    open: Option<char>,
}

impl Fences {
    /// Whether the lines fed so far leave us inside a fenced block.
    pub(crate) fn inside(&self) -> bool {
        self.open.is_some()
    }

    /// Takes the next line into account; true if it opens or closes a fence.
    pub(crate) fn feed(&mut self, line: &str) -> bool {
        let Some(c) = fence_char(line) else {
            return false;
        };
        self.open = match self.open {
            None => Some(c),
            Some(open) if open == c => None,
            other => other,
        };
        true
    }
}

/// The character of a fence line: three or more `` ` `` or `~` after at most three spaces.
pub(crate) fn fence_char(line: &str) -> Option<char> {
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

    #[test]
    fn headings() {
        assert_eq!(heading_level("# A"), Some(1));
        assert_eq!(heading_level("   ###### six"), Some(6));
        assert_eq!(heading_level("#"), Some(1));
        assert_eq!(heading_level("####### seven"), None);
        assert_eq!(heading_level("#tag"), None);
        assert_eq!(heading_level("    # code"), None);
        assert_eq!(heading_title("## Sub ##"), "Sub");
        assert_eq!(heading_title("# C#"), "C#");
        assert_eq!(heading_title("#"), "");
        assert_eq!(heading_title("### a # b ###  "), "a # b");
    }

    #[test]
    fn fences() {
        let mut f = Fences::default();
        assert!(!f.feed("text"));
        assert!(f.feed("```rust") && f.inside());
        assert!(
            f.feed("~~~") && f.inside(),
            "a tilde line does not close a backtick fence"
        );
        assert!(f.feed("```") && !f.inside());
    }
}
