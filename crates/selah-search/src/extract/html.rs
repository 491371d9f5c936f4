//! HTML: a walk over html5ever's spec-compliant tokenizer (entities, raw text in `<script>` and
//! `<style>`, broken markup) that writes light Markdown directly. A full tree is not needed: block
//! elements only decide where breaks go, and the elements whose content is dropped (scripts,
//! styles, navigation, `hidden` ones…) are skipped by counting their start and end tags.
//! html2text was the alternative; it renders for terminals (wrapping, link footnotes, drawn table
//! borders, `*emphasis*`) and has no notion of the page title, so undoing its output would be more
//! code than this walk.

use super::{ExtractError, Extracted, text, writer::BlockWriter};
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use std::cell::RefCell;

pub(crate) fn extract(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let html = text::decode_with(encoding(bytes), bytes);
    Ok(extract_str(&html))
}

/// Converts decoded HTML.
pub(crate) fn extract_str(html: &str) -> Extracted {
    let sink = Sink(RefCell::new(Walker::default()));
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(html.into());
    // `Script` results only pause for a script engine; there is none, so keep feeding.
    while let html5ever::TokenizerResult::Script(_) = tokenizer.feed(&input) {}
    tokenizer.end();
    let walker = tokenizer.sink.0.into_inner();
    let title = walker.title.or(walker.first_h1);
    Extracted {
        text: walker.out.finish(),
        title,
    }
}

/// The byte order mark, else valid UTF-8, else a `<meta charset>` in the first 1024 bytes, else
/// Windows-1252 (which the HTML standard uses for unlabelled legacy pages).
fn encoding(bytes: &[u8]) -> &'static Encoding {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return encoding;
    }
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    meta_charset(&bytes[..bytes.len().min(1024)]).unwrap_or(WINDOWS_1252)
}

/// A simplified prescan: the label after the first `charset=` in the head of the page.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let lower = head.to_ascii_lowercase();
    let at = lower.windows(8).position(|w| w == b"charset=")? + 8;
    let label: Vec<u8> = lower[at..]
        .iter()
        .copied()
        .skip_while(|&b| b == b'"' || b == b'\'')
        .take_while(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        .collect();
    let encoding = Encoding::for_label(&label)?;
    // A page that claims UTF-16 in ASCII is not UTF-16 (the standard's rule).
    Some(
        if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
            UTF_8
        } else {
            encoding
        },
    )
}

struct Sink(RefCell<Walker>);

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        self.0.borrow_mut().token(token)
    }
}

#[derive(Default)]
struct Walker {
    out: BlockWriter,
    /// The element whose content is being dropped, and how deep in same-named elements.
    skipping: Option<(String, usize)>,
    in_title: bool,
    title_text: String,
    title: Option<String>,
    in_h1: bool,
    h1_text: String,
    first_h1: Option<String>,
    pre_depth: usize,
    cell_depth: usize,
}

/// Elements whose content is never text for the reader.
const DROPPED: &[&str] = &[
    "script", "style", "noscript", "template", "nav", "svg", "math", "iframe", "object", "canvas",
    "select", "textarea", "button", "datalist", "audio", "video", "map",
];

/// Elements that end a paragraph.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "center",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "header",
    "hgroup",
    "hr",
    "html",
    "legend",
    "main",
    "menu",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "tfoot",
    "thead",
    "ul",
];

/// Elements that start a new line within the current block.
const LINES: &[&str] = &["br", "dt", "li", "tr", "option"];

/// Elements with no end tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Elements whose end tag is optional: never taken as the root of a skipped region, since a
/// missing end tag would then swallow the rest of the page.
const OPTIONAL_END: &[&str] = &[
    "li", "dt", "dd", "p", "rt", "rp", "optgroup", "option", "tr", "td", "th", "thead", "tbody",
    "tfoot", "colgroup", "caption",
];

impl Walker {
    fn token(&mut self, token: Token) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) => return self.tag(tag),
            Token::CharacterTokens(text) => self.characters(&text),
            _ => {}
        }
        TokenSinkResult::Continue
    }

    fn characters(&mut self, text: &str) {
        if self.in_title {
            self.title_text.push_str(text);
            return;
        }
        if self.skipping.is_some() {
            return;
        }
        if self.in_h1 {
            self.h1_text.push_str(text);
        }
        if self.pre_depth > 0 && self.cell_depth == 0 {
            self.out.preformatted(text);
        } else {
            self.out.text(text);
        }
    }

    fn tag(&mut self, tag: Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        let start = tag.kind == TagKind::StartTag;
        let void = VOID.contains(&name) || tag.self_closing;

        if let Some((skipped, depth)) = &mut self.skipping {
            if skipped == name && !void {
                if start {
                    *depth += 1;
                } else if *depth == 0 {
                    self.skipping = None;
                } else {
                    *depth -= 1;
                }
            }
            return Self::raw_state(name, start);
        }

        if name == "title" {
            self.in_title = start;
            if !start && self.title.is_none() {
                self.title =
                    Some(std::mem::take(&mut self.title_text)).filter(|t| !t.trim().is_empty());
            }
            return Self::raw_state(name, start);
        }

        if start && !void {
            let hidden = tag.attrs.iter().any(|a| {
                let key: &str = &a.name.local;
                key == "hidden" || (key == "aria-hidden" && a.value.eq_ignore_ascii_case("true"))
            });
            if DROPPED.contains(&name) || (hidden && !OPTIONAL_END.contains(&name)) {
                self.skipping = Some((name.to_owned(), 0));
                return Self::raw_state(name, start);
            }
        }

        self.layout(name, start);
        Self::raw_state(name, start)
    }

    /// Where the element puts breaks, headings, cells and preformatted text.
    fn layout(&mut self, name: &str, start: bool) {
        if let Some(level) = heading_level(name) {
            if start {
                self.out.start_heading(level);
                self.in_h1 = level == 1 && self.first_h1.is_none();
            } else {
                self.out.end_heading();
                if self.in_h1 {
                    self.in_h1 = false;
                    let h1 = std::mem::take(&mut self.h1_text);
                    self.first_h1 = Some(h1).filter(|t| !t.trim().is_empty());
                }
            }
            return;
        }
        match name {
            "td" | "th" => {
                if start {
                    if self.cell_depth > 0 {
                        // A cell's end tag is optional: the next cell closes it.
                        self.out.end_inline();
                        self.cell_depth -= 1;
                    }
                    self.out.separator(" | ");
                    self.out.start_inline();
                    self.cell_depth += 1;
                } else if self.cell_depth > 0 {
                    self.out.end_inline();
                    self.out.space();
                    self.cell_depth -= 1;
                }
            }
            "tr" | "table" | "tbody" | "thead" | "tfoot" => {
                // Rows end any cell left open by an omitted end tag.
                while self.cell_depth > 0 {
                    self.out.end_inline();
                    self.cell_depth -= 1;
                }
                if name == "table" {
                    self.out.paragraph();
                } else {
                    self.out.line();
                }
            }
            "pre" | "listing" | "xmp" => {
                self.out.paragraph();
                self.pre_depth = if start {
                    self.pre_depth + 1
                } else {
                    self.pre_depth.saturating_sub(1)
                };
            }
            _ if LINES.contains(&name) => self.out.line(),
            _ if BLOCKS.contains(&name) => self.out.paragraph(),
            _ => {}
        }
    }

    /// After a start tag of a raw-text element the tokenizer must switch state, as a tree
    /// builder would tell it to.
    fn raw_state(name: &str, start: bool) -> TokenSinkResult<()> {
        if !start {
            return TokenSinkResult::Continue;
        }
        match name {
            "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
            "style" | "xmp" | "iframe" | "noembed" | "noframes" => {
                TokenSinkResult::RawData(RawKind::Rawtext)
            }
            "script" => TokenSinkResult::RawData(RawKind::ScriptData),
            "plaintext" => TokenSinkResult::Plaintext,
            _ => TokenSinkResult::Continue,
        }
    }
}

fn heading_level(name: &str) -> Option<usize> {
    match name.as_bytes() {
        [b'h', d @ b'1'..=b'6'] => Some(usize::from(d - b'0')),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(html: &str) -> String {
        extract_str(html).text
    }

    #[test]
    fn headings_paragraphs_and_entities() {
        let doc = extract_str(
            "<!doctype html><html><head><title> The &amp; Title </title><style>p{}</style></head>\
             <body><nav><a href=/>Home</a></nav><h1>Main <em>heading</em></h1>\
             <p>First&nbsp;para with\n   wrapped   text &lt;ok&gt;.<p>Second<br>line</p>\
             <script>var x = '<p>no</p>';</script><h3>Deep</h3>tail</body></html>",
        );
        assert_eq!(doc.title.as_deref(), Some(" The & Title "));
        assert_eq!(
            doc.text,
            "# Main heading\n\nFirst para with wrapped text <ok>.\n\nSecond\nline\n\n### Deep\n\ntail\n"
        );
    }

    #[test]
    fn lists_tables_and_pre() {
        assert_eq!(
            text(
                "<ul><li>one<li>two <b>bold</b></ul><table><tr><th>A<th>B</tr><tr><td><p>1</p><p>x</p></td><td>2</td></tr></table><pre>a  b\n  c</pre>"
            ),
            "one\ntwo bold\n\nA | B\n1 x | 2\n\na  b\n  c\n"
        );
    }

    #[test]
    fn hidden_and_unclosed_skips() {
        assert_eq!(
            text("<div hidden><div>x</div>y</div>z<li hidden>w"),
            "z\nw\n"
        );
        assert_eq!(text("<p>a<script>never closed"), "a\n");
    }

    #[test]
    fn title_falls_back_to_h1() {
        assert_eq!(
            extract_str("<h2>x</h2><h1> T </h1><h1>U</h1>")
                .title
                .as_deref(),
            Some(" T ")
        );
        assert_eq!(extract_str("<p>no title</p>").title, None);
    }

    #[test]
    fn legacy_encodings() {
        let doc = extract(b"<meta charset=\"iso-8859-1\"><p>caf\xe9</p>").unwrap();
        assert_eq!(doc.text, "café\n");
        let doc = extract(b"<p>na\xefve \x93q\x94</p>").unwrap();
        assert_eq!(doc.text, "naïve “q”\n");
    }
}
