//! Turning an uploaded file into "light Markdown" text: heading lines start with `#`…`######` and a
//! space, paragraphs are separated by one blank line, and there is no other markup (Markdown files
//! keep theirs). The text is what gets stored, chunked and cited, so every format ends in the same
//! normalisation pass (`normalize.rs`) and the invariants hold whatever the source was.
//!
//! One file per format (`text.rs`, `markdown.rs`, `html.rs`, `pdf.rs`, `docx.rs`); `detect.rs`
//! chooses the format, `writer.rs` is the block writer shared by the structured formats.

mod detect;
mod docx;
mod html;
mod markdown;
mod normalize;
mod pdf;
mod text;
mod writer;

use std::path::Path;

/// The document formats Selah can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocFormat {
    /// Plain text in UTF-8, UTF-16 (with a byte order mark) or Windows-1252.
    Text,
    /// CommonMark / GitHub Markdown, kept as it is.
    Markdown,
    /// An HTML page.
    Html,
    /// A PDF with a text layer.
    Pdf,
    /// An Office Open XML word-processing document.
    Docx,
}

impl DocFormat {
    /// Every format, in the order of [`DocFormat::as_str`]'s documentation.
    pub const ALL: [DocFormat; 5] = [
        Self::Text,
        Self::Markdown,
        Self::Html,
        Self::Pdf,
        Self::Docx,
    ];

    /// The stable lowercase name: "text" | "markdown" | "html" | "pdf" | "docx".
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Markdown => "markdown",
            Self::Html => "html",
            Self::Pdf => "pdf",
            Self::Docx => "docx",
        }
    }

    /// The inverse of [`DocFormat::as_str`] (ASCII case ignored).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl std::fmt::Display for DocFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text of a document and its title when the document names one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// Light Markdown, see the module documentation.
    pub text: String,
    /// From front matter, `<title>`, the PDF info dictionary or `docProps/core.xml`; a few
    /// formats fall back to the first level-1 heading.
    pub title: Option<String>,
}

/// Why a file could not be turned into text. The messages are written for the person who
/// uploaded the file.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The file is damaged or not what it claims (message fit to show the user, e.g.
    /// "the PDF is damaged: …", "the file is not valid UTF-8 text and not a known encoding").
    #[error("{0}")]
    Corrupt(String),
    /// Encrypted PDF, DOCX without a body, a zip bomb, a PDF with no text layer (scanned images)…
    #[error("{0}")]
    Unsupported(String),
    /// The file could not be read at all.
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads the file at `path` and returns its text as "light Markdown": heading lines start with
/// `#`…`######` and a space, paragraphs are separated by one blank line, no other markup, no
/// trailing spaces, `\n` line ends, no NUL or control characters except `\n` and `\t`.
///
/// Blocking and CPU-bound: run it off the async executor.
pub fn extract_file(format: DocFormat, path: &Path) -> Result<Extracted, ExtractError> {
    // Every format needs the whole file: PDFs and zips want random access, and the text
    // formats must see all bytes to choose an encoding. Documents are capped upstream (200 MB).
    let bytes = std::fs::read(path)?;
    let mut extracted = match format {
        DocFormat::Text => text::extract(&bytes)?,
        DocFormat::Markdown => markdown::extract(&bytes)?,
        DocFormat::Html => html::extract(&bytes)?,
        DocFormat::Pdf => pdf::extract(bytes)?,
        DocFormat::Docx => docx::extract(&bytes)?,
    };
    extracted.title = extracted.title.as_deref().and_then(clean_title);
    Ok(extracted)
}

/// Titles are shown in lists: one line, collapsed whitespace, no control characters, bounded.
fn clean_title(raw: &str) -> Option<String> {
    const MAX_CHARS: usize = 300;
    let mut title = String::new();
    for word in raw.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(word);
    }
    if let Some((cut, _)) = title.char_indices().nth(MAX_CHARS) {
        title.truncate(cut);
    }
    (!title.is_empty()).then_some(title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for format in DocFormat::ALL {
            assert_eq!(DocFormat::parse(format.as_str()), Some(format));
            let json = serde_json::to_string(&format).unwrap();
            assert_eq!(json, format!("\"{}\"", format.as_str()));
            assert_eq!(serde_json::from_str::<DocFormat>(&json).unwrap(), format);
        }
        assert_eq!(DocFormat::parse("PDF"), Some(DocFormat::Pdf));
        assert_eq!(DocFormat::parse("doc"), None);
    }

    #[test]
    fn titles_are_one_bounded_line() {
        assert_eq!(clean_title("  A\n\tB\u{7}C  ").as_deref(), Some("A B C"));
        assert_eq!(clean_title(" \n "), None);
        assert_eq!(clean_title(&"é".repeat(400)).unwrap().chars().count(), 300);
    }
}
