//! Choosing a document's format from its name, its declared content type and its first bytes.
//! The bytes decide when they are conclusive (a PDF header, a zip holding `word/`, an HTML
//! doctype, or a known binary format such as an image, which is refused whatever its name);
//! otherwise the extension, then the content type, then whether the bytes look like text.

use super::{DocFormat, text};

const DOCX_MIME: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// Magic numbers of common files that are not documents Selah reads.
const BINARY_MAGIC: &[&[u8]] = &[
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"RIFF",
    b"\x7fELF",
    b"MZ",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!",
    b"OggS",
    b"ID3",
    b"fLaC",
    b"\x00asm",
    b"SQLite format 3\x00",
    b"II*\x00",
    b"MM\x00*",
    b"\xd0\xcf\x11\xe0",
    b"\xca\xfe\xba\xbe",
    b"\xcf\xfa\xed\xfe",
    b"\x28\xb5\x2f\xfd",
    b"wOFF",
    b"wOF2",
];

impl DocFormat {
    /// From the file name's extension, the declared content type and the first bytes (magic numbers
    /// win over a wrong extension: %PDF-, PK\x03\x04 with word/document.xml, <!doctype html/<html).
    /// None for anything else (images, executables, unknown binary).
    ///
    /// `head` should be the first few kilobytes of the file (4 KiB or more is best).
    pub fn detect(file_name: &str, content_type: Option<&str>, head: &[u8]) -> Option<Self> {
        let by_name = from_extension(file_name);
        let by_type = content_type.and_then(from_content_type);
        if head.is_empty() {
            // An empty file: trust what it says it is (it extracts to no text).
            return by_name.or(by_type).or(Some(Self::Text));
        }
        let first_kib = &head[..head.len().min(1024)];
        if first_kib.windows(5).any(|w| w == b"%PDF-") {
            return Some(Self::Pdf);
        }
        if head.starts_with(b"PK\x03\x04") {
            let names_word = head.windows(5).any(|w| w == b"word/");
            let claims_docx = by_name == Some(Self::Docx) || by_type == Some(Self::Docx);
            return (names_word || claims_docx).then_some(Self::Docx);
        }
        if BINARY_MAGIC.iter().any(|m| head.starts_with(m)) || is_media_container(head) {
            return None;
        }
        if looks_like_html(head) {
            return Some(Self::Html);
        }
        match by_name.or(by_type) {
            Some(format @ (Self::Pdf | Self::Docx)) => Some(format),
            Some(format) => text::sniff(head).map(|_| format),
            None => text::sniff(head).map(|_| Self::Text),
        }
    }
}

/// ISO base media files (MP4, MOV, HEIC…) have `ftyp` at offset 4.
fn is_media_container(head: &[u8]) -> bool {
    head.get(4..8) == Some(b"ftyp")
}

fn from_extension(file_name: &str) -> Option<DocFormat> {
    let (_, ext) = file_name.rsplit_once('.')?;
    Some(match ext.to_ascii_lowercase().as_str() {
        "txt" | "text" | "log" => DocFormat::Text,
        "md" | "markdown" | "mdown" | "mkd" | "mkdn" => DocFormat::Markdown,
        "html" | "htm" | "xhtml" => DocFormat::Html,
        "pdf" => DocFormat::Pdf,
        "docx" => DocFormat::Docx,
        _ => return None,
    })
}

fn from_content_type(content_type: &str) -> Option<DocFormat> {
    let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
    Some(match essence.as_str() {
        "text/plain" => DocFormat::Text,
        "text/markdown" | "text/x-markdown" => DocFormat::Markdown,
        "text/html" | "application/xhtml+xml" => DocFormat::Html,
        "application/pdf" => DocFormat::Pdf,
        DOCX_MIME => DocFormat::Docx,
        _ => return None,
    })
}

/// `<!doctype html` or `<html` at the start, after a byte order mark, whitespace, an XML
/// declaration or comments.
fn looks_like_html(head: &[u8]) -> bool {
    let mut rest = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    loop {
        rest = rest.trim_ascii_start();
        let lower: Vec<u8> = rest.iter().take(14).map(u8::to_ascii_lowercase).collect();
        if lower.starts_with(b"<!doctype html") || lower.starts_with(b"<html") {
            return true;
        }
        let close: &[u8] = if lower.starts_with(b"<?xml") {
            b"?>"
        } else if lower.starts_with(b"<!--") {
            b"-->"
        } else {
            return false;
        };
        match rest.windows(close.len()).position(|w| w == close) {
            Some(at) => rest = &rest[at + close.len()..],
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DocFormat::*;

    #[test]
    fn magic_wins_over_extension() {
        assert_eq!(
            DocFormat::detect("report.txt", None, b"%PDF-1.7\n"),
            Some(Pdf)
        );
        assert_eq!(
            DocFormat::detect("x.md", None, b"PK\x03\x04....word/document.xml"),
            Some(Docx)
        );
        assert_eq!(
            DocFormat::detect("page.txt", None, b"<!DOCTYPE html><p>"),
            Some(Html)
        );
        assert_eq!(
            DocFormat::detect(
                "a",
                None,
                b"<?xml version=\"1.0\"?>\n<!-- c -->\n<html xmlns=x>"
            ),
            Some(Html)
        );
        assert_eq!(
            DocFormat::detect("photo.pdf", None, b"\x89PNG\r\n\x1a\n"),
            None
        );
        assert_eq!(DocFormat::detect("a.docx", None, b"\x7fELF\x02"), None);
    }

    #[test]
    fn zips_are_docx_only_when_they_say_so() {
        let zip = b"PK\x03\x04\x14\x00\x00\x00[Content_Types].xml";
        assert_eq!(DocFormat::detect("a.docx", None, zip), Some(Docx));
        assert_eq!(
            DocFormat::detect("upload", Some(DOCX_MIME), zip),
            Some(Docx)
        );
        assert_eq!(
            DocFormat::detect("a.zip", Some("application/zip"), zip),
            None
        );
    }

    #[test]
    fn extension_then_content_type_then_text() {
        assert_eq!(
            DocFormat::detect("notes.MD", Some("text/plain"), b"# hi"),
            Some(Markdown)
        );
        assert_eq!(
            DocFormat::detect("notes", Some("text/markdown; charset=utf-8"), b"# hi"),
            Some(Markdown)
        );
        assert_eq!(
            DocFormat::detect("index.htm", None, b"<p>x</p>"),
            Some(Html)
        );
        assert_eq!(
            DocFormat::detect("README", None, b"plain words"),
            Some(Text)
        );
        assert_eq!(
            DocFormat::detect("x.rs", Some("application/octet-stream"), b"fn main() {}"),
            Some(Text)
        );
        // A damaged PDF or DOCX is still routed to its extractor, which says what is wrong.
        assert_eq!(
            DocFormat::detect("scan.pdf", None, b"\x13\x99random"),
            Some(Pdf)
        );
        assert_eq!(DocFormat::detect("empty.md", None, b""), Some(Markdown));
    }

    #[test]
    fn binary_without_a_name_is_refused() {
        assert_eq!(
            DocFormat::detect("blob", None, b"\x00\x01\x02\x03\xff\xfe\x00\x00"),
            None
        );
        assert_eq!(
            DocFormat::detect("notes.txt", None, b"ab\x00\x00\x01\x00\x00\x00\x00\x02"),
            None
        );
        assert_eq!(
            DocFormat::detect("clip.mov", None, b"\x00\x00\x00\x14ftypqt  "),
            None
        );
    }
}
