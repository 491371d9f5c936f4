//! The last pass every extractor's output goes through, so the light-Markdown invariants hold
//! whatever the source: `\n` line ends, no control characters but `\n` and `\t`, no trailing
//! whitespace, at most one blank line in a row, none at either end, and a final `\n`.

/// Normalises `text` into a new string (one copy; the input is dropped by the caller).
pub(crate) fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Blank lines are only written once the next non-blank line arrives, which collapses runs
    // and drops blank lines at the end for free.
    let mut blank_pending = false;
    for line in Lines::new(text) {
        let blank = line.chars().all(|c| c.is_whitespace() || dropped(c));
        if blank {
            blank_pending = !out.is_empty();
            continue;
        }
        if blank_pending {
            out.push('\n');
            blank_pending = false;
        }
        out.extend(line.chars().filter(|&c| !dropped(c)));
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}

/// Control characters other than the tab, and the byte order mark wherever it appears.
fn dropped(c: char) -> bool {
    (c.is_control() && c != '\t') || c == '\u{feff}'
}

/// Splits on every line break a document may carry: `\n`, `\r\n`, lone `\r`, form feed,
/// vertical tab, NEL and the Unicode line and paragraph separators.
struct Lines<'a> {
    rest: Option<&'a str>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Self { rest: Some(text) }
    }
}

fn is_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match rest.char_indices().find(|&(_, c)| is_break(c)) {
            None => {
                self.rest = None;
                Some(rest)
            }
            Some((i, c)) => {
                let mut next = i + c.len_utf8();
                if c == '\r' && rest[next..].starts_with('\n') {
                    next += 1;
                }
                self.rest = Some(&rest[next..]);
                Some(&rest[..i])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn line_ends_blank_lines_and_controls() {
        assert_eq!(normalize(""), "");
        assert_eq!(normalize(" \n\t\n"), "");
        assert_eq!(normalize("a\r\nb\rc"), "a\nb\nc\n");
        assert_eq!(normalize("\n\na  \n\n\n \nb\t\n\n"), "a\n\nb\n");
        assert_eq!(normalize("x\u{0}y\u{7}z\tw\u{feff}"), "xyz\tw\n");
        assert_eq!(normalize("p1\u{c}p2\u{2029}p3"), "p1\np2\np3\n");
        assert_eq!(normalize("a\u{1b}\n\u{1b}\nb"), "a\n\nb\n");
    }
}
