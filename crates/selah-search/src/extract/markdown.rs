//! Markdown is already light Markdown, so it is kept as written, with three changes: YAML (`---`)
//! or TOML (`+++`) front matter is dropped (its title kept), setext headings (a line underlined
//! with `===` or `---`) become `#` lines so the chunker sees them, and the text is normalised.
//! The title is the front matter's, else the first level-1 heading.

use super::{ExtractError, Extracted, normalize::normalize, text};
use crate::syntax::{Fences, fence_char, heading_level, heading_title};

pub(crate) fn extract(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let decoded = text::decode(bytes)?;
    let (front_title, body) = split_front_matter(&decoded);
    let text = atx_headings(&normalize(body));
    let title = front_title.or_else(|| first_h1(&text));
    Ok(Extracted { text, title })
}

/// Front matter must open on the very first line and close within the first 1000 lines;
/// otherwise a leading `---` is an ordinary thematic break.
fn split_front_matter(text: &str) -> (Option<String>, &str) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(fence) = ["---", "+++"].into_iter().find(|f| {
        text.lines()
            .next()
            .is_some_and(|line| line.trim_end() == *f)
    }) else {
        return (None, text);
    };
    let mut offset = 0;
    let mut title = None;
    for (i, line) in text.split_inclusive('\n').enumerate().take(1000) {
        offset += line.len();
        let trimmed = line.trim_end();
        if i == 0 {
            continue;
        }
        if trimmed == fence || (fence == "---" && trimmed == "...") {
            return (title, &text[offset..]);
        }
        if title.is_none() {
            title = front_matter_title(trimmed, fence);
        }
    }
    (None, text)
}

/// `title: Some "quoted" text` (YAML) or `title = "text"` (TOML), at the top level only.
fn front_matter_title(line: &str, fence: &str) -> Option<String> {
    let separator = if fence == "---" { ':' } else { '=' };
    let (key, value) = line.split_once(separator)?;
    if key.trim_end() != "title" || key.starts_with(char::is_whitespace) {
        return None;
    }
    let value = value.trim();
    let unquoted = ['"', '\'']
        .into_iter()
        .find_map(|q| value.strip_prefix(q)?.strip_suffix(q))
        .unwrap_or(value);
    let title = unquoted.trim();
    (!title.is_empty()).then(|| title.to_owned())
}

/// Rewrites setext headings as `#` lines. Only a single-line paragraph is taken as a setext
/// heading, so a `---` under a longer paragraph stays what it most often is, a rule.
fn atx_headings(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len());
    let mut fences = Fences::default();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        fences.feed(line);
        let level = lines.get(i + 1).and_then(|next| setext_level(next));
        let single = i == 0 || lines[i - 1].is_empty();
        if let Some(level) = level.filter(|_| !fences.inside() && single && is_plain(line)) {
            out.push_str(if level == 1 { "# " } else { "## " });
            out.push_str(line.trim());
            out.push('\n');
            i += 2;
            continue;
        }
        out.push_str(line);
        out.push('\n');
        i += 1;
    }
    out
}

fn setext_level(line: &str) -> Option<usize> {
    let t = line.trim();
    if line.len() - line.trim_start().len() > 3 || t.is_empty() {
        None
    } else if t.chars().all(|c| c == '=') {
        Some(1)
    } else if t.chars().all(|c| c == '-') {
        Some(2)
    } else {
        None
    }
}

/// A line that can be a setext heading's text: not blank, not already a block of its own kind.
fn is_plain(line: &str) -> bool {
    let t = line.trim_start();
    !t.is_empty()
        && line.len() - t.len() <= 3
        && !t.starts_with(['#', '>', '-', '*', '+', '|', '<'])
        && fence_char(line).is_none()
        && !t.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// The text of the first level-1 heading outside code fences.
fn first_h1(text: &str) -> Option<String> {
    let mut fences = Fences::default();
    text.lines()
        .filter(|line| !fences.feed(line) && !fences.inside())
        .filter(|line| heading_level(line) == Some(1))
        .map(heading_title)
        .find(|title| !title.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_title_and_body() {
        let doc = extract(b"---\nlayout: post\ntitle: \"Hello: World\"\n---\n\n# Other\n\nBody.\n")
            .unwrap();
        assert_eq!(doc.title.as_deref(), Some("Hello: World"));
        assert_eq!(doc.text, "# Other\n\nBody.\n");
        let toml = extract(b"+++\ntitle = 'T'\n+++\nx\n").unwrap();
        assert_eq!(
            (toml.title.as_deref(), toml.text.as_str()),
            (Some("T"), "x\n")
        );
    }

    #[test]
    fn unclosed_front_matter_is_a_rule() {
        let doc = extract(b"---\ntitle: no\n").unwrap();
        assert_eq!(doc.text, "---\ntitle: no\n");
        assert_eq!(doc.title, None);
    }

    #[test]
    fn title_falls_back_to_first_h1_outside_fences() {
        let doc = extract(b"intro\n\n```sh\n# not a title\n```\n\n## Sub\n\n# Real #\n").unwrap();
        assert_eq!(doc.title.as_deref(), Some("Real"));
    }

    #[test]
    fn setext_headings_become_atx() {
        let doc = extract(b"Title\n=====\n\nSub\n---\ntext\n\nline one\nline two\n---\n").unwrap();
        assert_eq!(
            doc.text,
            "# Title\n\n## Sub\ntext\n\nline one\nline two\n---\n"
        );
        assert_eq!(doc.title.as_deref(), Some("Title"));
    }
}
