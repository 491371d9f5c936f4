//! Property tests of the chunker over random light Markdown: headings, short and long paragraphs,
//! code fences, multibyte and ideographic text, odd whitespace.

use proptest::prelude::*;
use selah_search::{Chunk, ChunkOptions, chunk_text};
use std::cell::Cell;

/// One token per whitespace-separated word.
fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Like `words`, but long words cost more (one token per ten chars started), so single words
/// can exceed the maximum as real subword tokens do.
fn subwords(text: &str) -> usize {
    text.split_whitespace()
        .map(|w| w.chars().count().div_ceil(10))
        .sum()
}

const VOCABULARY: &[&str] = &[
    "the",
    "selah",
    "compression",
    "chunk",
    "naïve",
    "café",
    "straße",
    "日本語",
    "中文",
    "🙂",
    "x",
    "a-b",
    "e.g.",
    "(note)",
    "\"quoted\"",
    "über",
    "Ωμέγα",
    "end.",
    "why?",
    "yes!",
    "supercalifragilisticexpialidocious-and-then-some-more-letters",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => proptest::sample::select(VOCABULARY).prop_map(str::to_owned),
        1 => "[a-zé]{1,30}",
        1 => "[日本語中文]{1,12}",
    ]
}

fn sentence() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(word(), 1..25),
        proptest::sample::select(&[".", "!", "?", "", "。"][..]),
    )
        .prop_map(|(words, end)| format!("{}{end}", words.join(" ")))
}

fn paragraph() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::collection::vec(sentence(), 1..5).prop_map(|s| s.join(" ")),
        // Long paragraphs, some of them one endless sentence.
        1 => proptest::collection::vec(sentence(), 10..40).prop_map(|s| s.join(" ")),
        1 => proptest::collection::vec(word(), 100..400).prop_map(|w| w.join(" ")),
        // Lines inside a paragraph (lists, table rows), with stray indentation.
        1 => proptest::collection::vec(sentence(), 2..6).prop_map(|s| s.join("\n  ")),
    ]
}

fn block() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => (1..=6usize, proptest::collection::vec(word(), 0..4))
            .prop_map(|(level, words)| format!("{} {}", "#".repeat(level), words.join(" "))),
        6 => paragraph(),
        1 => proptest::collection::vec(word(), 1..8)
            .prop_map(|w| format!("```\n# {}\n\n{}\n```", w.join(" "), w.join("\t"))),
    ]
}

fn document() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        (
            block(),
            proptest::sample::select(&["\n\n", "\n", "\n \n\t\n", "  \n\n\n"][..]),
        ),
        0..25,
    )
    .prop_map(|blocks| blocks.into_iter().map(|(b, sep)| b + sep).collect())
}

fn options() -> impl Strategy<Value = ChunkOptions> {
    (3..60usize, 0..30usize, 0..20usize).prop_map(|(target, extra, overlap)| ChunkOptions {
        target_tokens: target,
        max_tokens: target + extra,
        overlap_tokens: overlap,
    })
}

fn is_ideograph_boundary(text: &str, at: usize) -> bool {
    let before = text[..at].chars().next_back();
    let after = text[at..].chars().next();
    let cjk = |c: Option<char>| {
        c.is_some_and(|c| ('\u{4e00}'..='\u{9fff}').contains(&c) || "。！？".contains(c))
    };
    cjk(before) || cjk(after)
}

fn check(text: &str, chunks: &[Chunk], counter: fn(&str) -> usize, opts: &ChunkOptions) {
    let mut covered = vec![false; text.len()];
    for (i, chunk) in chunks.iter().enumerate() {
        assert_eq!(chunk.index, i);
        assert!(chunk.start < chunk.end, "{chunk:?}");
        assert!(text.is_char_boundary(chunk.start) && text.is_char_boundary(chunk.end));
        let slice = chunk.text(text);
        assert_eq!(slice, &text[chunk.start..chunk.end]);
        assert_eq!(chunk.char_start, text[..chunk.start].chars().count());
        assert_eq!(chunk.char_end - chunk.char_start, slice.chars().count());
        assert_eq!(slice, slice.trim(), "chunks are trimmed");
        // Never inside a word: whitespace (or the text's edge) on both sides, or ideographs,
        // which are words of their own.
        let clean_start = chunk.start == 0
            || text[..chunk.start].ends_with(char::is_whitespace)
            || is_ideograph_boundary(text, chunk.start);
        let clean_end = chunk.end == text.len()
            || text[chunk.end..].starts_with(char::is_whitespace)
            || is_ideograph_boundary(text, chunk.end);
        assert!(
            clean_start && clean_end,
            "cut inside a word: {chunk:?} {slice:?}"
        );
        assert_eq!(chunk.tokens, counter(slice));
        assert!(
            chunk.tokens <= opts.max_tokens || slice.split_whitespace().count() == 1,
            "over max: {chunk:?} {slice:?}"
        );
        covered[chunk.start..chunk.end]
            .iter_mut()
            .for_each(|c| *c = true);
        if let Some(prev) = i.checked_sub(1).map(|p| &chunks[p]) {
            assert!(
                prev.start < chunk.start && prev.end < chunk.end,
                "order: {prev:?} {chunk:?}"
            );
            if chunk.start < prev.end {
                let overlap = &text[chunk.start..prev.end];
                assert!(
                    counter(overlap) <= opts.overlap_tokens,
                    "overlap {overlap:?}"
                );
                // A heading never follows an overlap: the chunk is in its predecessor's section.
                assert_eq!(chunk.heading, prev.heading, "overlap across a heading");
            }
        }
    }
    for (i, c) in text.char_indices() {
        assert!(
            c.is_whitespace() || covered[i],
            "byte {i} ({c:?}) not in any chunk"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn chunks_are_valid_ordered_covering_and_bounded(text in document(), opts in options(), sub in any::<bool>()) {
        let counter: fn(&str) -> usize = if sub { subwords } else { words };
        let chunks = chunk_text(&text, &counter, &opts);
        check(&text, &chunks, counter, &opts);
        prop_assert_eq!(chunks.is_empty(), text.trim().is_empty());
        prop_assert_eq!(&chunks, &chunk_text(&text, &counter, &opts), "deterministic");
    }

    #[test]
    fn default_options_on_long_documents(text in document()) {
        let opts = ChunkOptions::default();
        let chunks = chunk_text(&text, &words, &opts);
        check(&text, &chunks, words, &opts);
    }
}

/// Chunks that start at a heading line carry that heading's path.
#[test]
fn heading_paths() {
    let text = "# A\n\nx\n\n## B\n\ny\n\n### C\n\nz\n\n## D\n\nw";
    let chunks = chunk_text(
        text,
        &words,
        &ChunkOptions {
            target_tokens: 3,
            max_tokens: 4,
            overlap_tokens: 0,
        },
    );
    let paths: Vec<_> = chunks
        .iter()
        .map(|c| c.heading.clone().unwrap_or_default())
        .collect();
    assert_eq!(paths, ["A", "A › B", "A › B › C", "A › D"]);
}

/// Work stays linear: the text is counted a small, bounded number of times over.
#[test]
fn counting_is_linear() {
    let counted = Cell::new(0usize);
    let counter = |t: &str| {
        counted.set(counted.get() + t.len());
        words(t)
    };
    let mut text = String::new();
    for i in 0..400 {
        text.push_str(&format!("## Section {i}\n\n"));
        for j in 0..(i % 7) {
            text.push_str(&"word ".repeat(20 + j * 40));
            text.push_str("end.\n\n");
        }
        if i % 50 == 0 {
            // One paragraph with no sentence end at all.
            text.push_str(&"endless ".repeat(3000));
            text.push_str("\n\n");
        }
    }
    let chunks = chunk_text(&text, &counter, &ChunkOptions::default());
    assert!(chunks.len() > 100);
    assert!(
        counted.get() < text.len() * 5,
        "counted {} bytes of {}",
        counted.get(),
        text.len()
    );
}
