//! Examples of the chunker's rules; the property tests are in `tests/chunk_props.rs`.

use super::*;

fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

fn opts(target: usize, max: usize, overlap: usize) -> ChunkOptions {
    ChunkOptions {
        target_tokens: target,
        max_tokens: max,
        overlap_tokens: overlap,
    }
}

fn texts<'a>(text: &'a str, chunks: &[Chunk]) -> Vec<&'a str> {
    chunks.iter().map(|c| c.text(text)).collect()
}

#[test]
fn empty_text_gives_no_chunks() {
    assert!(chunk_text("", &words, &ChunkOptions::default()).is_empty());
    assert!(chunk_text(" \n\n\t\n", &words, &ChunkOptions::default()).is_empty());
}

#[test]
fn paragraphs_pack_up_to_target() {
    let text = "one two three\n\nfour five\n\nsix seven eight nine\n\nten";
    let chunks = chunk_text(text, &words, &opts(5, 6, 0));
    assert_eq!(
        texts(text, &chunks),
        vec!["one two three\n\nfour five", "six seven eight nine\n\nten"]
    );
    assert_eq!(chunks[0].tokens, 5);
    assert_eq!((chunks[1].index, chunks[1].tokens), (1, 5));
}

#[test]
fn headings_start_chunks_and_name_them() {
    let text =
        "intro words\n\n# Options\n\n## Compression\nlevel one\n\nmore text\n\n# Other ##\nend";
    let chunks = chunk_text(text, &words, &opts(50, 60, 10));
    assert_eq!(
        texts(text, &chunks),
        vec![
            "intro words",
            "# Options\n\n## Compression\nlevel one\n\nmore text",
            "# Other ##\nend"
        ]
    );
    let headings: Vec<Option<&str>> = chunks.iter().map(|c| c.heading.as_deref()).collect();
    assert_eq!(
        headings,
        vec![None, Some("Options › Compression"), Some("Other")]
    );
}

#[test]
fn long_paragraphs_split_at_sentences_with_overlap() {
    let text = "# T\nA b c. D e f. G h i. J k l. M n o.";
    let chunks = chunk_text(text, &words, &opts(8, 10, 3));
    assert_eq!(
        texts(text, &chunks),
        vec![
            "# T\nA b c. D e f.",
            "D e f. G h i.",
            "G h i. J k l.",
            "J k l. M n o."
        ]
    );
    assert_eq!(chunks[1].heading.as_deref(), Some("T"));
    // Byte and char ranges agree on ASCII.
    assert!(
        chunks
            .iter()
            .all(|c| c.end - c.start == c.char_end - c.char_start)
    );
}

#[test]
fn a_paragraph_within_max_stays_whole_and_loses_the_overlap() {
    let text = "a b c d\n\ne f g h i j k";
    let chunks = chunk_text(text, &words, &opts(5, 7, 2));
    assert_eq!(texts(text, &chunks), vec!["a b c d", "e f g h i j k"]);
}

#[test]
fn sentences_too_long_split_at_words() {
    let text = "aa bb cc dd ee ff gg";
    let chunks = chunk_text(text, &words, &opts(3, 3, 1));
    assert_eq!(
        texts(text, &chunks),
        vec!["aa bb cc", "cc dd ee", "ee ff gg"]
    );
}

#[test]
fn a_giant_word_is_alone() {
    let long = "x".repeat(50);
    let text = format!("# H\n{long} tail");
    // A counter where the long word costs 10 tokens.
    let counter = |t: &str| {
        t.split_whitespace()
            .map(|w| if w.len() > 10 { 10 } else { 1 })
            .sum::<usize>()
    };
    let chunks = chunk_text(&text, &counter, &opts(4, 5, 2));
    assert_eq!(texts(&text, &chunks), vec!["# H", long.as_str(), "tail"]);
    assert_eq!(chunks[1].tokens, 10);
    assert_eq!(chunks[2].heading.as_deref(), Some("H"));
}

#[test]
fn multibyte_char_offsets() {
    let text = "héllo wörld.\n\n日本語のテキスト。次の文。\n\nüber";
    let chunks = chunk_text(
        text,
        &|t: &str| t.chars().filter(|c| !c.is_whitespace()).count(),
        &opts(10, 12, 0),
    );
    for chunk in &chunks {
        let by_chars: String = text
            .chars()
            .skip(chunk.char_start)
            .take(chunk.char_end - chunk.char_start)
            .collect();
        assert_eq!(by_chars, chunk.text(text));
    }
    assert_eq!(
        texts(text, &chunks),
        vec!["héllo wörld.", "日本語のテキスト。", "次の文。\n\nüber"]
    );
}

#[test]
fn a_counter_that_is_not_additive_is_still_obeyed() {
    // Charges one extra token per line break in the text counted, so sums undercount.
    let counter = |t: &str| words(t) + t.matches('\n').count();
    let text = "a b\n\nc d\n\ne f\n\ng h";
    let chunks = chunk_text(text, &counter, &opts(6, 6, 0));
    assert!(chunks.iter().all(|c| c.tokens <= 6), "{chunks:?}");
    let covered: String = chunks
        .iter()
        .map(|c| c.text(text))
        .collect::<Vec<_>>()
        .join("\n\n");
    assert_eq!(covered, text);
}

#[test]
fn closures_and_default_options() {
    let o = ChunkOptions::default();
    assert_eq!(
        (o.target_tokens, o.max_tokens, o.overlap_tokens),
        (200, 250, 32)
    );
    let text = "word ".repeat(1000);
    let chunks = chunk_text(&text, &words, &o);
    assert!(chunks.iter().all(|c| c.tokens <= 250));
    assert!(chunks.len() >= 5);
}
