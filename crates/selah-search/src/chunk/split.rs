//! Cutting a paragraph into sentences and a sentence into words, for paragraphs too long for a
//! chunk. Cuts fall only at whitespace, except after an ideographic full stop and around CJK
//! ideographs, which are words of their own in the embedding tokenizer (and have no spaces).

/// A trimmed byte range of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Unit {
    pub(super) start: usize,
    pub(super) end: usize,
}

/// The sentences of `text[start..end]`: a sentence ends after `.`, `!`, `?` or `…` (and any
/// closing quotes or brackets) followed by whitespace, unless the next word starts in lower case
/// ("e.g. this"); after `。`, `！` or `？`; and at every line break.
pub(super) fn sentences(text: &str, start: usize, end: usize) -> Vec<Unit> {
    let slice = &text[start..end];
    let mut units = Vec::new();
    let mut from = 0;
    // Inside a run of terminators and closers that may end a sentence.
    let mut pending = false;
    for (i, c) in slice.char_indices() {
        let cut = if c == '\n' {
            Some(i)
        } else if c.is_whitespace() {
            let next = slice[i..].trim_start().chars().next();
            (pending && !next.is_some_and(char::is_lowercase)).then_some(i)
        } else if matches!(c, '。' | '！' | '？') {
            Some(i + c.len_utf8())
        } else {
            None
        };
        pending = match c {
            '.' | '!' | '?' | '…' => true,
            '"' | '\'' | ')' | ']' | '»' | '”' | '’' => pending,
            _ => false,
        };
        if let Some(cut) = cut {
            push_trimmed(&mut units, slice, start, from, cut);
            from = cut;
            pending = false;
        }
    }
    push_trimmed(&mut units, slice, start, from, slice.len());
    units
}

/// The words of `text[start..end]`: runs of non-whitespace, with each CJK ideograph apart.
pub(super) fn words(text: &str, start: usize, end: usize) -> Vec<Unit> {
    let slice = &text[start..end];
    let mut units = Vec::new();
    let mut word_start: Option<usize> = None;
    for (i, c) in slice.char_indices() {
        let ideograph = is_cjk_ideograph(c);
        if c.is_whitespace() || ideograph {
            if let Some(s) = word_start.take() {
                units.push(Unit {
                    start: start + s,
                    end: start + i,
                });
            }
            if ideograph {
                let e = i + c.len_utf8();
                units.push(Unit {
                    start: start + i,
                    end: start + e,
                });
            }
        } else if word_start.is_none() {
            word_start = Some(i);
        }
    }
    if let Some(s) = word_start {
        units.push(Unit {
            start: start + s,
            end,
        });
    }
    units
}

fn push_trimmed(units: &mut Vec<Unit>, slice: &str, base: usize, from: usize, to: usize) {
    let part = &slice[from..to];
    let trimmed = part.trim();
    if !trimmed.is_empty() {
        let lead = part.len() - part.trim_start().len();
        let s = base + from + lead;
        units.push(Unit {
            start: s,
            end: s + trimmed.len(),
        });
    }
}

/// The ranges BERT's basic tokenizer treats as CJK characters (each one a token).
pub(crate) fn is_cjk_ideograph(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF
        | 0x3400..=0x4DBF
        | 0x20000..=0x2A6DF
        | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F
        | 0x2B820..=0x2CEAF
        | 0xF900..=0xFAFF
        | 0x2F800..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(text: &'a str, units: &[Unit]) -> Vec<&'a str> {
        units.iter().map(|u| &text[u.start..u.end]).collect()
    }

    #[test]
    fn sentence_ends() {
        let t = "xx First one. Second (really!) ok? e.g. this stays. \"Quoted.\" Next…  Last\nline two 日本。中文！x";
        let units = sentences(t, 3, t.len());
        assert_eq!(
            texts(t, &units),
            vec![
                "First one.",
                "Second (really!) ok? e.g. this stays.",
                "\"Quoted.\"",
                "Next…",
                "Last",
                "line two 日本。",
                "中文！",
                "x"
            ]
        );
    }

    #[test]
    fn words_and_ideographs() {
        let t = " héllo  wörld\t日本語 ab中c ";
        assert_eq!(
            texts(t, &words(t, 0, t.len())),
            vec!["héllo", "wörld", "日", "本", "語", "ab", "中", "c"]
        );
    }
}
