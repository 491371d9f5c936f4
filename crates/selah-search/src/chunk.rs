//! Cutting extracted text into passages for embedding and citation. A passage is always an exact
//! slice of the text (citations point into it), sized by the embedding model's own token counter.
//!
//! The text is read as blocks (headings and paragraphs, `chunk/blocks.rs`), and a packer fills
//! chunks with them: whole paragraphs up to the target size; a heading closes the chunk before it;
//! a paragraph that does not fit an otherwise empty chunk is cut into sentences, and a sentence
//! into words (`chunk/split.rs`). Every piece is counted once, and the sum of the pieces stands
//! for the chunk; only the finished chunk is counted again, for its `tokens`, which keeps the
//! work linear. (Counters that split on whitespace, like WordPiece, count a text as the sum of
//! its whitespace-separated parts; should a counter not, the finished count catches it and the
//! chunk gives back its last pieces.)

mod blocks;
mod split;

use blocks::Blocks;
use split::{Unit, sentences, words};
use std::collections::VecDeque;

/// Counts tokens the way the embedding model will.
pub trait TokenCount {
    /// The number of tokens in `text`.
    fn count_tokens(&self, text: &str) -> usize;
}

impl<F: Fn(&str) -> usize> TokenCount for F {
    fn count_tokens(&self, text: &str) -> usize {
        self(text)
    }
}

/// Chunk sizes, in tokens of the counter given to [`chunk_text`].
#[derive(Debug, Clone)]
pub struct ChunkOptions {
    /// Paragraphs are packed together up to this many tokens.
    pub target_tokens: usize,
    /// No chunk is longer, unless a single word is.
    pub max_tokens: usize,
    /// At most this many tokens of the previous chunk's last sentences start the next one.
    pub overlap_tokens: usize,
}

impl Default for ChunkOptions {
    /// Target 200, max 250, overlap 32: all-MiniLM-L6-v2 reads 256 word-pieces including its
    /// `[CLS]` and `[SEP]` tokens, and the margin absorbs small differences between counters.
    fn default() -> Self {
        Self {
            target_tokens: 200,
            max_tokens: 250,
            overlap_tokens: 32,
        }
    }
}

/// One passage of the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// 0..n in order.
    pub index: usize,
    /// Byte range in the source text: `text == &source[start..end]`.
    pub start: usize,
    /// End of the byte range (exclusive).
    pub end: usize,
    /// The same range in chars (Unicode scalar values).
    pub char_start: usize,
    /// End of the char range (exclusive).
    pub char_end: usize,
    /// Heading path in effect, e.g. "Options › Compression".
    pub heading: Option<String>,
    /// The counter's count for this chunk's text.
    pub tokens: usize,
}

impl Chunk {
    /// This chunk's text within `source` (the text it was cut from).
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        &source[self.start..self.end]
    }
}

/// Cuts `text` (light Markdown, as extracted) into passages: paragraphs are packed together up to
/// `target_tokens`; a heading starts a new chunk (its line goes with the text after it); a paragraph
/// longer than `max_tokens` is split at sentence ends, then at whitespace, never inside a word and
/// never inside a UTF-8 character; each chunk after the first begins with up to `overlap_tokens` of the
/// previous chunk's last sentences (so ranges overlap) unless a heading starts it. No chunk exceeds
/// `max_tokens` (by the counter) unless a single word does. Empty/whitespace-only text gives no chunks.
/// Deterministic. Linear-ish time: do not recount the whole chunk per added word.
///
/// Ideographic (CJK) characters count as words of their own, as the embedding tokenizer sees
/// them, so text without spaces can still be cut between them.
pub fn chunk_text(text: &str, counter: &impl TokenCount, opts: &ChunkOptions) -> Vec<Chunk> {
    let mut packer = Packer {
        text,
        counter,
        max: opts.max_tokens,
        target: opts.target_tokens.min(opts.max_tokens),
        overlap: opts.overlap_tokens,
        open: None,
        path: Vec::new(),
        queue: VecDeque::new(),
        chunks: Vec::new(),
    };
    let mut blocks = Blocks::new(text);
    loop {
        if let Some(piece) = packer.queue.pop_front().or_else(|| blocks.next()) {
            packer.add(piece);
        } else if !packer.close_last() {
            break;
        }
    }
    with_char_offsets(text, packer.chunks)
}

/// How finely a piece has been cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Paragraph,
    Sentence,
    Word,
}

/// A contiguous, trimmed slice of the text that goes into a chunk whole.
#[derive(Debug, Clone, Copy)]
struct Piece {
    start: usize,
    end: usize,
    level: Level,
    /// `Some(level)` for a heading line.
    heading: Option<usize>,
    tokens: Option<usize>,
}

impl Piece {
    fn body(unit: Unit, level: Level) -> Self {
        Self {
            start: unit.start,
            end: unit.end,
            level,
            heading: None,
            tokens: None,
        }
    }
}

/// The chunk being filled.
#[derive(Debug)]
struct Open {
    start: usize,
    end: usize,
    /// The sum of the pieces' counts, overlap and headings included.
    tokens: usize,
    /// Tokens of the previous chunk's tail this chunk starts with.
    overlap: usize,
    has_heading: bool,
    /// Pieces after the headings and the overlap: the chunk's own text.
    body: Vec<Piece>,
    heading_path: Option<String>,
}

struct Packer<'t, 'c, C: TokenCount> {
    text: &'t str,
    counter: &'c C,
    max: usize,
    target: usize,
    overlap: usize,
    open: Option<Open>,
    /// Headings in effect: (level, title).
    path: Vec<(usize, String)>,
    /// Pieces to place before reading further blocks (the finer cuts of a piece, or pieces a
    /// chunk gave back).
    queue: VecDeque<Piece>,
    chunks: Vec<Chunk>,
}

impl<C: TokenCount> Packer<'_, '_, C> {
    fn count(&self, piece: &mut Piece) -> usize {
        *piece.tokens.get_or_insert_with(|| {
            self.counter
                .count_tokens(&self.text[piece.start..piece.end])
        })
    }

    fn tokens(&self) -> usize {
        self.open.as_ref().map_or(0, |o| o.tokens)
    }

    fn has_body(&self) -> bool {
        self.open.as_ref().is_some_and(|o| !o.body.is_empty())
    }

    fn add(&mut self, mut piece: Piece) {
        let tokens = self.count(&mut piece);
        if let Some(level) = piece.heading {
            self.add_heading(piece, level, tokens);
            return;
        }
        if self.has_body() {
            if self.tokens() + tokens <= self.target {
                self.push(piece, tokens);
            } else {
                // The piece goes first in the queue; pieces the closing chunk gives back go
                // ahead of it.
                self.queue.push_front(piece);
                self.close(true);
            }
            return;
        }
        // The chunk holds nothing yet, or only headings and the previous chunk's tail.
        if self.tokens() + tokens <= self.max {
            self.push(piece, tokens);
            return;
        }
        let overlap = self.open.as_ref().map_or(0, |o| o.overlap);
        if overlap > 0 && self.tokens() - overlap + tokens <= self.max {
            self.drop_overlap();
            self.push(piece, tokens);
            return;
        }
        if let Some(finer) = self.split(piece) {
            for p in finer.into_iter().rev() {
                self.queue.push_front(p);
            }
            return;
        }
        // A single word longer than the budget: it gets a chunk of its own.
        self.drop_overlap();
        if self.open.is_some() && self.tokens() + tokens > self.max {
            self.close(false);
        }
        self.push(piece, tokens);
    }

    fn add_heading(&mut self, piece: Piece, level: usize, tokens: usize) {
        if self.has_body() {
            self.close(false);
            if !self.queue.is_empty() {
                // The closed chunk gave pieces back; they come before this heading.
                let mut piece = piece;
                piece.tokens = Some(tokens);
                self.queue.push_back(piece);
                return;
            }
        }
        self.drop_overlap();
        while self.path.last().is_some_and(|(l, _)| *l >= level) {
            self.path.pop();
        }
        self.path.push((
            level,
            crate::syntax::heading_title(&self.text[piece.start..piece.end]).to_owned(),
        ));
        if tokens > self.max {
            // An absurdly long heading line is treated as text of its own section.
            for unit in words(self.text, piece.start, piece.end).into_iter().rev() {
                self.queue.push_front(Piece::body(unit, Level::Word));
            }
            return;
        }
        if self.open.is_some() && self.tokens() + tokens > self.max {
            self.close(false);
        }
        let open = self.open.get_or_insert(Open {
            start: piece.start,
            end: piece.end,
            tokens: 0,
            overlap: 0,
            has_heading: true,
            body: Vec::new(),
            heading_path: None,
        });
        open.end = piece.end;
        open.tokens += tokens;
    }

    /// The next finer cut of `piece`, if it has more than one part.
    fn split(&self, piece: Piece) -> Option<Vec<Piece>> {
        if piece.level == Level::Paragraph {
            let parts = sentences(self.text, piece.start, piece.end);
            if parts.len() > 1 {
                return Some(
                    parts
                        .into_iter()
                        .map(|u| Piece::body(u, Level::Sentence))
                        .collect(),
                );
            }
        }
        if piece.level != Level::Word {
            let parts = words(self.text, piece.start, piece.end);
            if parts.len() > 1 {
                return Some(
                    parts
                        .into_iter()
                        .map(|u| Piece::body(u, Level::Word))
                        .collect(),
                );
            }
        }
        None
    }

    fn push(&mut self, mut piece: Piece, tokens: usize) {
        piece.tokens = Some(tokens);
        // The chunk is named after the section its own text starts in.
        let path = (!self.has_body()).then(|| self.path_string()).flatten();
        let open = self.open.get_or_insert(Open {
            start: piece.start,
            end: piece.end,
            tokens: 0,
            overlap: 0,
            has_heading: false,
            body: Vec::new(),
            heading_path: None,
        });
        if open.body.is_empty() {
            open.heading_path = path;
        }
        open.end = piece.end;
        open.tokens += tokens;
        open.body.push(piece);
    }

    fn drop_overlap(&mut self) {
        if let Some(open) = &mut self.open
            && open.overlap > 0
        {
            if open.body.is_empty() {
                self.open = None;
            } else {
                open.start = open.body[0].start;
                open.tokens -= open.overlap;
                open.overlap = 0;
            }
        }
    }

    fn path_string(&self) -> Option<String> {
        let titles: Vec<&str> = self
            .path
            .iter()
            .map(|(_, t)| t.as_str())
            .filter(|t| !t.is_empty())
            .collect();
        (!titles.is_empty()).then(|| titles.join(" › "))
    }

    /// Emits the open chunk; with `overlap`, the next chunk starts with its last sentences.
    fn close(&mut self, overlap: bool) {
        let Some(mut open) = self.open.take() else {
            return;
        };
        if open.body.is_empty() && !open.has_heading {
            return; // only the previous chunk's tail: nothing new
        }
        let mut tokens = self.counter.count_tokens(&self.text[open.start..open.end]);
        // Only a counter that is not additive over whitespace gets here.
        while tokens > self.max && open.body.len() > 1 {
            let last = open.body.pop().expect("more than one piece");
            self.queue.push_front(last);
            open.end = open.body.last().expect("one piece left").end;
            tokens = self.counter.count_tokens(&self.text[open.start..open.end]);
        }
        let heading = open.heading_path.take().or_else(|| self.path_string());
        self.chunks.push(Chunk {
            index: self.chunks.len(),
            start: open.start,
            end: open.end,
            char_start: 0,
            char_end: 0,
            heading,
            tokens,
        });
        if overlap && self.overlap > 0 {
            self.open = self.tail(&open);
        }
    }

    /// The previous chunk's last sentences (words, for a chunk cut at words) that fit the
    /// overlap, never reaching back to the chunk's own start.
    fn tail(&self, chunk: &Open) -> Option<Open> {
        let mut tokens = 0;
        let mut start = None;
        'pieces: for piece in chunk.body.iter().rev() {
            let units = match piece.level {
                Level::Paragraph => sentences(self.text, piece.start, piece.end),
                _ => vec![Unit {
                    start: piece.start,
                    end: piece.end,
                }],
            };
            let whole = units.len() == 1;
            for unit in units.into_iter().rev() {
                if unit.start <= chunk.start {
                    break 'pieces;
                }
                let n = match piece.tokens {
                    Some(n) if whole => n,
                    _ => self.counter.count_tokens(&self.text[unit.start..unit.end]),
                };
                if tokens + n > self.overlap {
                    break 'pieces;
                }
                tokens += n;
                start = Some(unit.start);
            }
        }
        start.map(|start| Open {
            start,
            end: chunk.end,
            tokens,
            overlap: tokens,
            has_heading: false,
            body: Vec::new(),
            heading_path: None,
        })
    }

    /// Closes the last chunk; true if it gave pieces back and packing must go on.
    fn close_last(&mut self) -> bool {
        self.close(true);
        if self.queue.is_empty() {
            self.open = None;
            false
        } else {
            true
        }
    }
}

/// Fills in the char offsets; chunk starts and ends both increase, so two forward cursors do.
fn with_char_offsets(text: &str, mut chunks: Vec<Chunk>) -> Vec<Chunk> {
    let (mut start_byte, mut start_char) = (0, 0);
    let (mut end_byte, mut end_char) = (0, 0);
    for chunk in &mut chunks {
        start_char += text[start_byte..chunk.start].chars().count();
        start_byte = chunk.start;
        end_char += text[end_byte..chunk.end].chars().count();
        end_byte = chunk.end;
        chunk.char_start = start_char;
        chunk.char_end = end_char;
    }
    chunks
}

#[cfg(test)]
mod tests;
