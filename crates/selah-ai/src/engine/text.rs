//! Turning a stream of token bytes into the text a client sees: only whole UTF-8 characters are
//! released (a character split across tokens waits for its last byte), and text that could be
//! the start of a stop string is held back until it is known not to be one.

/// What feeding a token's bytes produced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// Text safe to send now (may be empty).
    pub text: String,
    /// A stop string was completed: `text` ends right before it and generation must end.
    pub stopped: bool,
}

/// Per-sequence output state.
#[derive(Debug, Default)]
pub struct TextStream {
    stop: Vec<String>,
    /// Bytes of an incomplete UTF-8 character.
    bytes: Vec<u8>,
    /// Decoded text not yet released because it may begin a stop string.
    held: String,
}

impl TextStream {
    /// A stream that ends at any of `stop` (empty strings are ignored).
    pub fn new(stop: &[String]) -> Self {
        Self {
            stop: stop.iter().filter(|s| !s.is_empty()).cloned().collect(),
            ..Self::default()
        }
    }

    /// Adds one token's bytes.
    pub fn push(&mut self, piece: &[u8]) -> Output {
        self.bytes.extend_from_slice(piece);
        let decoded = take_utf8(&mut self.bytes, false);
        self.held.push_str(&decoded);
        self.release()
    }

    /// Ends the stream: whatever is held (and any dangling bytes, lossily) is released.
    pub fn finish(&mut self) -> String {
        let tail = take_utf8(&mut self.bytes, true);
        self.held.push_str(&tail);
        // A stop string may have been completed by the final bytes.
        let out = self.release();
        if out.stopped {
            return out.text;
        }
        let mut text = out.text;
        text.push_str(&std::mem::take(&mut self.held));
        text
    }

    fn release(&mut self) -> Output {
        if let Some(at) = self
            .stop
            .iter()
            .filter_map(|s| self.held.find(s.as_str()))
            .min()
        {
            let text = self.held[..at].to_string();
            self.held.clear();
            return Output {
                text,
                stopped: true,
            };
        }
        // Keep the longest suffix of `held` that is a proper prefix of some stop string.
        let keep = self
            .stop
            .iter()
            .map(|s| longest_suffix_prefix(&self.held, s))
            .max()
            .unwrap_or(0);
        let cut = self.held.len() - keep;
        let text = self.held[..cut].to_string();
        self.held.drain(..cut);
        Output {
            text,
            stopped: false,
        }
    }
}

/// Length in bytes of the longest suffix of `text` that is a (proper) prefix of `stop`, always
/// on a character boundary of `text`.
fn longest_suffix_prefix(text: &str, stop: &str) -> usize {
    let max = text.len().min(stop.len().saturating_sub(1));
    (1..=max)
        .rev()
        .find(|&n| {
            let start = text.len() - n;
            text.is_char_boundary(start) && stop.as_bytes().starts_with(&text.as_bytes()[start..])
        })
        .unwrap_or(0)
}

/// Removes and returns the longest valid UTF-8 prefix of `bytes`; invalid sequences become
/// U+FFFD. An incomplete character at the end stays in `bytes` unless `flush` is set.
fn take_utf8(bytes: &mut Vec<u8>, flush: bool) -> String {
    let mut out = String::new();
    let mut rest: &[u8] = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                rest = &[];
                break;
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                match e.error_len() {
                    Some(n) => {
                        out.push('\u{FFFD}');
                        rest = &after[n..];
                    }
                    None if flush => {
                        out.push('\u{FFFD}');
                        rest = &[];
                        break;
                    }
                    None => {
                        rest = after;
                        break;
                    }
                }
            }
        }
    }
    let consumed = bytes.len() - rest.len();
    bytes.drain(..consumed);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stop: &[&str], pieces: &[&[u8]]) -> (Vec<String>, bool, String) {
        let stop: Vec<String> = stop.iter().map(|s| s.to_string()).collect();
        let mut t = TextStream::new(&stop);
        let mut out = Vec::new();
        for p in pieces {
            let o = t.push(p);
            out.push(o.text);
            if o.stopped {
                return (out, true, String::new());
            }
        }
        (out, false, t.finish())
    }

    #[test]
    fn split_multibyte_characters_wait_for_their_last_byte() {
        let e = "é".as_bytes(); // 2 bytes
        let (out, stopped, tail) = run(&[], &[b"caf", &e[..1], &e[1..], b"!"]);
        assert_eq!(out, vec!["caf", "", "é", "!"]);
        assert!(!stopped);
        assert_eq!(tail, "");
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let (out, _, tail) = run(&[], &[b"a\xFFb", &"€".as_bytes()[..2]]);
        assert_eq!(out, vec!["a\u{FFFD}b", ""]);
        assert_eq!(tail, "\u{FFFD}");
    }

    #[test]
    fn stop_string_across_tokens_is_held_back_and_cut() {
        let (out, stopped, _) = run(&["END"], &[b"hello E", b"N", b"D and more"]);
        assert_eq!(out, vec!["hello ", "", ""]);
        assert!(stopped);
    }

    #[test]
    fn held_text_that_is_not_a_stop_is_released() {
        let (out, stopped, tail) = run(&["END"], &[b"an E", b"lephant", b" EN"]);
        assert_eq!(out, vec!["an ", "Elephant", " "]);
        assert!(!stopped);
        assert_eq!(tail, "EN");
    }

    #[test]
    fn earliest_of_several_stops_wins() {
        let (out, stopped, _) = run(&["yz", "b"], &[b"axyzb"]);
        assert_eq!(out, vec!["ax"]);
        assert!(stopped);
        let (out, _, _) = run(&["yz", "x"], &[b"axyzb"]);
        assert_eq!(out, vec!["a"]);
    }

    #[test]
    fn longest_suffix_prefix_respects_char_boundaries() {
        assert_eq!(longest_suffix_prefix("abc", "cde"), 1);
        assert_eq!(longest_suffix_prefix("abcd", "cde"), 2);
        assert_eq!(longest_suffix_prefix("abcde", "cde"), 0); // the whole stop: not a proper prefix
        assert_eq!(longest_suffix_prefix("é", "\u{e9}x"), 2);
    }
}
