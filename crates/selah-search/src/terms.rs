//! The words of a search query that matter, and a light English stemmer so that a query and a
//! passage meet on "compress" whether either says "compressing", "compressed" or "compresses".

/// Common English words that say nothing about what a passage is about.
const STOPWORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
    "been", "before", "being", "but", "by", "can", "could", "d", "did", "do", "does", "doing",
    "for", "from", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his",
    "how", "i", "if", "in", "into", "is", "it", "its", "ll", "m", "me", "my", "of", "off", "on",
    "or", "our", "ours", "re", "s", "she", "should", "so", "some", "such", "t", "than", "that",
    "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "too", "us",
    "ve", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom",
    "why", "will", "with", "would", "you", "your", "yours",
];

/// At most this many terms are kept from one query.
pub const MAX_TERMS: usize = 32;
/// Longer words are cut to this many chars.
pub const MAX_TERM_CHARS: usize = 64;

/// The words of a search query that matter: lowercased, split on anything not alphanumeric (Unicode-
/// aware), English stopwords dropped (a short fixed list), duplicates removed, order kept, at most 32,
/// each at most 64 chars. Used to build the full-text query and to highlight.
///
/// A query made of stopwords only ("the who") keeps them: they are all it has.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut terms = collect(words(query).filter(|w| !is_stopword(w)));
    if terms.is_empty() {
        terms = collect(words(query));
    }
    terms
}

/// The words of a text as search sees them: split on anything not alphanumeric (Unicode-aware),
/// lowercased, each cut to [`MAX_TERM_CHARS`] chars. Passages are indexed with these words
/// (stemmed), so a query and a passage always split the same way.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let lower = w.to_lowercase();
            match lower.char_indices().nth(MAX_TERM_CHARS) {
                Some((cut, _)) => lower[..cut].to_owned(),
                None => lower,
            }
        })
}

fn collect(words: impl Iterator<Item = String>) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in words {
        if terms.len() == MAX_TERMS {
            break;
        }
        if !terms.contains(&word) {
            terms.push(word);
        }
    }
    terms
}

/// Whether `word` (lowercase) is on the stopword list.
pub fn is_stopword(word: &str) -> bool {
    STOPWORDS.binary_search(&word).is_ok()
}

/// A light English stem (plural -s/-es/-ies, -ed, -ing, -ly) so "compressing" matches "compressed".
///
/// Expects a lowercase word. At most one suffix is removed, then a doubled final consonant is
/// undoubled ("running" → "run") and a final silent `e` dropped ("make" and "making" → "mak").
/// Words of three chars or fewer, and words that are not ASCII, are returned unchanged.
pub fn stem(word: &str) -> String {
    if word.len() <= 3 || !word.is_ascii() {
        return word.to_owned();
    }
    let mut stem = strip_suffix(word).into_owned();
    let b = stem.as_bytes();
    let n = b.len();
    // Undouble only what a removed suffix uncovered: "running" → "run", but "miss" stays.
    if n < word.len()
        && n >= 3
        && b[n - 1] == b[n - 2]
        && !is_vowel(b[n - 1])
        && !matches!(b[n - 1], b'l' | b's' | b'z')
    {
        stem.pop();
    }
    if stem.len() > 3 && stem.ends_with('e') && !stem.ends_with("ee") {
        stem.pop();
    }
    stem
}

/// Removes the first suffix that applies (so "needs" does not go on to lose "ed").
fn strip_suffix(word: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let has_vowel = |s: &str| s.bytes().any(|b| is_vowel(b) || b == b'y');
    if let Some(base) = word.strip_suffix("ies").filter(|b| b.len() >= 2) {
        return Cow::Owned(format!("{base}y"));
    }
    if let Some(base) = word.strip_suffix("ied").filter(|b| b.len() >= 2) {
        return Cow::Owned(format!("{base}y"));
    }
    if let Some(base) = word.strip_suffix("sses") {
        return Cow::Owned(format!("{base}ss"));
    }
    if let Some(base) = word.strip_suffix("es")
        && ["s", "x", "z", "ch", "sh"]
            .iter()
            .any(|e| base.ends_with(e))
        && base.len() >= 3
    {
        return Cow::Borrowed(base);
    }
    if word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("is")
    {
        return Cow::Borrowed(&word[..word.len() - 1]);
    }
    if let Some(base) = word
        .strip_suffix("ing")
        .filter(|b| b.len() >= 3 && has_vowel(b))
    {
        return Cow::Borrowed(base);
    }
    if let Some(base) = word
        .strip_suffix("ed")
        .filter(|b| b.len() >= 3 && has_vowel(b) && !b.ends_with('e'))
    {
        return Cow::Borrowed(base);
    }
    if let Some(base) = word
        .strip_suffix("ly")
        .filter(|b| b.len() >= 4 && !b.ends_with('i'))
    {
        return Cow::Borrowed(base);
    }
    Cow::Borrowed(word)
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopword_list_is_sorted() {
        assert!(STOPWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn terms_drop_stopwords_and_duplicates() {
        assert_eq!(
            query_terms("How do I enable the Compression, and COMPRESSION levels?"),
            vec!["enable", "compression", "levels"]
        );
        assert_eq!(
            query_terms("don't  stop—believing"),
            vec!["don", "stop", "believing"]
        );
        assert_eq!(query_terms("  ,;  "), Vec::<String>::new());
    }

    #[test]
    fn terms_are_unicode_aware() {
        assert_eq!(
            query_terms("Größe ÜBER straße/日本語"),
            vec!["größe", "über", "straße", "日本語"]
        );
        assert_eq!(query_terms("café_crème"), vec!["café", "crème"]);
    }

    #[test]
    fn only_stopwords_are_kept() {
        assert_eq!(
            query_terms("The who? Is it the WHO"),
            vec!["the", "who", "is", "it"]
        );
    }

    #[test]
    fn bounded() {
        let many: String = (0..100).map(|i| format!("w{i} ")).collect();
        assert_eq!(query_terms(&many).len(), MAX_TERMS);
        let long = "é".repeat(100);
        assert_eq!(query_terms(&long)[0].chars().count(), MAX_TERM_CHARS);
    }

    #[test]
    fn stems_meet() {
        let groups: &[&[&str]] = &[
            &["compress", "compressing", "compressed", "compresses"],
            &["run", "running", "runs"],
            &["make", "making", "makes"],
            &["policy", "policies"],
            &["quick", "quickly"],
            &["box", "boxes"],
            &["index", "indexes", "indexed", "indexing"],
            &["class", "classes"],
            &["apply", "applies", "applied"],
            &["speed", "speeds"],
            &["write", "writing", "writes"],
            &["file", "files", "filed"],
        ];
        for group in groups {
            let stems: Vec<String> = group.iter().map(|w| stem(w)).collect();
            assert!(
                stems.iter().all(|s| s == &stems[0]),
                "{group:?} → {stems:?}"
            );
        }
    }

    #[test]
    fn stems_leave_short_and_foreign_words() {
        for word in [
            "is", "gas", "this", "status", "analysis", "thing", "bring", "only", "größe",
        ] {
            assert_eq!(stem(word), word, "{word}");
        }
        assert_eq!(stem("need"), "need");
        assert_eq!(stem("needed"), "need");
    }
}
