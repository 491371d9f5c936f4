//! PDF: lopdf parses the file and pdf-extract interprets each page's content stream (fonts,
//! encodings, ToUnicode maps); the output device here turns positioned glyphs into lines and
//! paragraphs with pdf-extract's own spacing heuristics. Pages are extracted one at a time so a
//! damaged page costs only itself. pdf-extract can panic on malformed input, so every call into
//! it runs under `catch_unwind`.

use super::{ExtractError, Extracted, writer::BlockWriter};
use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};
use std::panic::{AssertUnwindSafe, catch_unwind};

const NO_TEXT: &str = "the PDF has no text layer (scanned?); OCR is not supported";
const ENCRYPTED: &str =
    "the PDF is encrypted with a password; remove the password and upload it again";
const NOT_PDF: &str = "the file is not a PDF";

pub(crate) fn extract(bytes: Vec<u8>) -> Result<Extracted, ExtractError> {
    // The header may follow some junk, which readers tolerate within the first kilobyte.
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(ExtractError::Corrupt(NOT_PDF.into()));
    }
    let loaded = catch_unwind(AssertUnwindSafe(|| pdf_extract::Document::load_mem(&bytes)));
    drop(bytes);
    let doc = match loaded {
        Ok(Ok(doc)) => doc,
        Ok(Err(pdf_extract::Error::Decryption(_) | pdf_extract::Error::InvalidPassword)) => {
            return Err(ExtractError::Unsupported(ENCRYPTED.into()));
        }
        Ok(Err(e)) => return Err(damaged(&e.to_string())),
        Err(_) => return Err(damaged("it could not be parsed")),
    };
    // lopdf decrypts files whose user password is empty (permissions-only protection) while
    // loading; any other encrypted file comes back with its objects unreadable.
    if doc.trailer.get(b"Encrypt").is_ok() && doc.authenticate_password("").is_err() {
        return Err(ExtractError::Unsupported(ENCRYPTED.into()));
    }
    let title = title(&doc);
    let text = pages_text(&doc)?;
    if text.is_empty() {
        return Err(ExtractError::Unsupported(NO_TEXT.into()));
    }
    Ok(Extracted { text, title })
}

fn damaged(detail: &str) -> ExtractError {
    ExtractError::Corrupt(format!("the PDF is damaged: {detail}"))
}

/// Every page's text in page order; pages that fail are skipped unless all of them do.
fn pages_text(doc: &pdf_extract::Document) -> Result<String, ExtractError> {
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err(damaged("it has no pages"));
    }
    let mut device = TextDevice::new();
    let mut first_error = None;
    let mut failed = 0;
    for &page in pages.keys() {
        let result = catch_unwind(AssertUnwindSafe(|| {
            pdf_extract::output_doc_page(doc, &mut device, page)
        }));
        let error = match result {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("page {page} could not be read"),
        };
        failed += 1;
        first_error.get_or_insert(error);
        // A page that failed half-way leaves its words behind; the next page starts afresh.
        device.out.paragraph();
    }
    if failed == pages.len() {
        return Err(damaged(
            first_error.as_deref().unwrap_or("no page could be read"),
        ));
    }
    Ok(device.out.finish())
}

/// `/Title` from the document information dictionary.
fn title(doc: &pdf_extract::Document) -> Option<String> {
    let info = doc.trailer.get(b"Info").ok()?;
    let (_, info) = doc.dereference(info).ok()?;
    let title = info.as_dict().ok()?.get(b"Title").ok()?;
    let (_, title) = doc.dereference(title).ok()?;
    Some(text_string(title.as_str().ok()?))
}

/// A PDF "text string": UTF-16BE or UTF-8 with a byte order mark, else PDFDocEncoding, which
/// agrees with Latin-1 for every letter that matters in a title.
fn text_string(bytes: &[u8]) -> String {
    if let Some(utf16) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units = utf16
            .chunks_exact(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]));
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    } else if let Some(utf8) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        String::from_utf8_lossy(utf8).into_owned()
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    }
}

/// Receives glyphs with their text-space matrix and decides, from the distance to the previous
/// glyph, whether a space, a line break or a paragraph break separates them (the same thresholds
/// as pdf-extract's plain-text output: a line is more than half a glyph down, a paragraph gap
/// more than one and a half).
struct TextDevice {
    out: BlockWriter,
    last_end: f64,
    last_y: f64,
    new_word: bool,
    has_glyph: bool,
}

impl TextDevice {
    fn new() -> Self {
        Self {
            out: BlockWriter::new(),
            last_end: 0.0,
            last_y: 0.0,
            new_word: false,
            has_glyph: false,
        }
    }
}

impl OutputDev for TextDevice {
    fn begin_page(
        &mut self,
        _page: u32,
        _media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.out.paragraph();
        self.has_glyph = false;
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        text: &str,
    ) -> Result<(), OutputError> {
        // Device space with y growing downwards; only differences matter, so no page height.
        let (x, y) = (trm.m31, -trm.m32);
        let vx = font_size * (trm.m11 + trm.m21);
        let vy = font_size * (trm.m12 + trm.m22);
        let size = (vx * vy).abs().sqrt();
        if self.new_word && self.has_glyph {
            let dy = (y - self.last_y).abs();
            if dy > size * 1.5 {
                self.out.paragraph();
            } else if x < self.last_end && dy > size * 0.5 {
                self.out.line();
            } else if x > self.last_end + size * 0.1 {
                self.out.space();
            }
        }
        self.out.text(text);
        self.new_word = false;
        self.has_glyph = true;
        self.last_y = y;
        self.last_end = x + width * size;
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.new_word = true;
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_pdf() {
        let err = extract(b"hello, not a pdf".to_vec()).unwrap_err();
        assert!(
            matches!(&err, ExtractError::Corrupt(m) if m == NOT_PDF),
            "{err:?}"
        );
        let err = extract(b"%PDF-1.4\ngarbage".to_vec()).unwrap_err();
        assert!(
            matches!(&err, ExtractError::Corrupt(m) if m.starts_with("the PDF is damaged")),
            "{err:?}"
        );
    }

    #[test]
    fn text_strings() {
        assert_eq!(text_string(b"\xfe\xff\x00A\x00\xe9"), "Aé");
        assert_eq!(text_string(b"Caf\xe9"), "Café");
        assert_eq!(text_string(b"\xef\xbb\xbf\xc3\xa9"), "é");
    }
}
