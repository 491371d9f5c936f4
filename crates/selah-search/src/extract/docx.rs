//! DOCX: the main document part (`word/document.xml`, or wherever `_rels/.rels` points) is
//! streamed through quick-xml straight into light Markdown. Paragraphs (`w:p`) become paragraphs,
//! heading styles (`Heading1`…`Heading6`, `Title`, resolved through `word/styles.xml` so localised
//! style ids work) become `#` lines, `w:tab` a tab, `w:br` a line break, and each table row one
//! line with its cells separated by " | ". Every part is read through a 64 MiB limit, whatever
//! the zip's directory claims, so a zip bomb is refused before it is inflated.

use super::{ExtractError, Extracted, writer::BlockWriter};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use std::cell::Cell;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Cursor, Read};

/// The most any one part may inflate to.
pub(crate) const MAX_PART_BYTES: u64 = 64 * 1024 * 1024;

type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

pub(crate) fn extract(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        // Password-protected Office files are not zips but OLE containers, as are .doc files.
        if bytes.starts_with(&[0xd0, 0xcf, 0x11, 0xe0]) {
            ExtractError::Unsupported(
                "the document is password-protected or in the old .doc format; save it as an \
                 unprotected .docx and upload it again"
                    .into(),
            )
        } else {
            damaged(&e.to_string())
        }
    })?;
    let main = main_part(&mut zip)?;
    let styles = if zip.index_for_name("word/styles.xml").is_some() {
        read_part(&mut zip, "word/styles.xml", heading_styles)?
    } else {
        HashMap::new()
    };
    let text = read_part(&mut zip, &main, |reader| body_text(reader, &styles))?;
    let title = if zip.index_for_name("docProps/core.xml").is_some() {
        read_part(&mut zip, "docProps/core.xml", core_title)?
    } else {
        None
    };
    Ok(Extracted { text, title })
}

fn damaged(detail: &str) -> ExtractError {
    ExtractError::Corrupt(format!("the DOCX is damaged: {detail}"))
}

fn no_body() -> ExtractError {
    ExtractError::Unsupported("the DOCX has no document body (word/document.xml)".into())
}

/// `word/document.xml` by convention; the package relationships say for sure.
fn main_part(zip: &mut Archive<'_>) -> Result<String, ExtractError> {
    const DEFAULT: &str = "word/document.xml";
    if zip.index_for_name(DEFAULT).is_some() {
        return Ok(DEFAULT.into());
    }
    if zip.index_for_name("_rels/.rels").is_none() {
        return Err(no_body());
    }
    let target = read_part(zip, "_rels/.rels", |reader| {
        let mut buf = Vec::new();
        loop {
            match reader.read_event_into(&mut buf)? {
                Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Relationship" => {
                    let kind = attr(&e, "Type").unwrap_or_default();
                    if kind.ends_with("/officeDocument") {
                        return Ok(attr(&e, "Target"));
                    }
                }
                Event::Eof => return Ok(None),
                _ => {}
            }
            buf.clear();
        }
    })?;
    let target = target.ok_or_else(no_body)?;
    let target = target.trim_start_matches('/').to_owned();
    if zip.index_for_name(&target).is_none() {
        return Err(no_body());
    }
    Ok(target)
}

/// Runs `parse` over one part through the size limit, mapping errors to user messages.
fn read_part<T>(
    zip: &mut Archive<'_>,
    name: &str,
    parse: impl FnOnce(&mut Reader<&mut dyn BufRead>) -> quick_xml::Result<T>,
) -> Result<T, ExtractError> {
    let file = zip.by_name(name).map_err(|e| match e {
        zip::result::ZipError::FileNotFound => no_body(),
        zip::result::ZipError::UnsupportedArchive(_) | zip::result::ZipError::InvalidPassword => {
            ExtractError::Unsupported("the DOCX is encrypted".into())
        }
        other => damaged(&other.to_string()),
    })?;
    let too_big = Cell::new(file.size() > MAX_PART_BYTES);
    if too_big.get() {
        return Err(bomb());
    }
    let limited = Limited {
        inner: file,
        left: MAX_PART_BYTES,
        exceeded: &too_big,
    };
    let mut buffered = BufReader::new(limited);
    let mut reader = Reader::from_reader(&mut buffered as &mut dyn BufRead);
    let result = parse(&mut reader);
    if too_big.get() {
        return Err(bomb());
    }
    result.map_err(|e| damaged(&format!("{name}: {e}")))
}

fn bomb() -> ExtractError {
    ExtractError::Unsupported(format!(
        "the DOCX has a part larger than {} MiB when unpacked (a zip bomb?)",
        MAX_PART_BYTES / (1024 * 1024)
    ))
}

/// A reader that fails once more than `left` bytes have come out of it.
struct Limited<'c, R> {
    inner: R,
    left: u64,
    exceeded: &'c Cell<bool>,
}

impl<R: Read> Read for Limited<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        match self.left.checked_sub(n as u64) {
            Some(left) => {
                self.left = left;
                Ok(n)
            }
            None => {
                self.exceeded.set(true);
                Err(std::io::Error::other("part too large"))
            }
        }
    }
}

/// The value of the attribute whose local name is `name` (prefixes vary between producers).
fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::default())
                .ok()
                .map(|v| v.into_owned())
        })
}

/// Style id → heading level, from each style's name ("heading 1", "Title") or outline level.
fn heading_styles(
    reader: &mut Reader<&mut dyn BufRead>,
) -> quick_xml::Result<HashMap<String, usize>> {
    let mut styles = HashMap::new();
    let mut buf = Vec::new();
    let mut current: Option<(String, Option<usize>)> = None;
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) if e.local_name().as_ref() == "style" => {
                current = attr(&e, "styleId").map(|id| (id, None));
            }
            Event::Start(e) | Event::Empty(e) => {
                if let Some((_, level)) = &mut current {
                    match e.local_name().as_ref() {
                        "name" => {
                            let name = attr(&e, "val").unwrap_or_default().to_ascii_lowercase();
                            if name == "title" {
                                *level = Some(1);
                            } else if let Some(n) = name.strip_prefix("heading ") {
                                *level = n.trim().parse().ok().filter(|n| (1..=6).contains(n));
                            }
                        }
                        "outlineLvl" if level.is_none() => {
                            *level = attr(&e, "val")
                                .and_then(|v| v.parse::<usize>().ok())
                                .filter(|&v| v < 6)
                                .map(|v| v + 1);
                        }
                        _ => {}
                    }
                }
            }
            Event::End(e) if e.local_name().as_ref() == "style" => {
                if let Some((id, Some(level))) = current.take() {
                    styles.insert(id, level);
                }
            }
            Event::Eof => return Ok(styles),
            _ => {}
        }
        buf.clear();
    }
}

/// The style ids Word itself writes, for documents without `styles.xml`.
fn builtin_level(style: &str) -> Option<usize> {
    if style.eq_ignore_ascii_case("title") {
        return Some(1);
    }
    let n = style
        .strip_prefix("Heading")
        .or_else(|| style.strip_prefix("heading"))?;
    n.parse().ok().filter(|n| (1..=6).contains(n))
}

/// Walks the document body; see the module documentation.
fn body_text(
    reader: &mut Reader<&mut dyn BufRead>,
    styles: &HashMap<String, usize>,
) -> quick_xml::Result<String> {
    let mut body = Body {
        out: BlockWriter::new(),
        styles,
        headings: Vec::new(),
        in_text: false,
        run_depth: 0,
        table_depth: 0,
        skip_depth: 0,
    };
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) => body.start(&e, false),
            Event::Empty(e) => {
                body.start(&e, true);
                body.end(e.local_name().as_ref());
            }
            Event::End(e) => body.end(e.local_name().as_ref()),
            Event::Text(t) if body.in_text && body.skip_depth == 0 => {
                body.out.text(&t.xml10_content())
            }
            Event::GeneralRef(r) if body.in_text && body.skip_depth == 0 => {
                let text = match r.resolve_char_ref()? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r)
                        .unwrap_or_default()
                        .to_owned(),
                };
                body.out.text(&text);
            }
            Event::CData(t) if body.in_text && body.skip_depth == 0 => {
                body.out.text(&t.xml10_content());
            }
            Event::Eof => return Ok(body.out.finish()),
            _ => {}
        }
        buf.clear();
    }
}

struct Body<'s> {
    out: BlockWriter,
    styles: &'s HashMap<String, usize>,
    /// For each open paragraph, whether it was opened as a heading.
    headings: Vec<bool>,
    in_text: bool,
    run_depth: usize,
    table_depth: usize,
    /// Inside `mc:Fallback`, which repeats the content of the `mc:Choice` before it.
    skip_depth: usize,
}

impl Body<'_> {
    fn start(&mut self, e: &BytesStart<'_>, empty: bool) {
        let name = e.local_name();
        let name = name.as_ref();
        if self.skip_depth > 0 || name == "Fallback" {
            if !empty {
                self.skip_depth += 1;
            }
            return;
        }
        match name {
            "p" => {
                self.out.paragraph();
                self.headings.push(false);
            }
            "pStyle" | "outlineLvl" if self.table_depth == 0 => {
                let val = attr(e, "val").unwrap_or_default();
                let level = if name == "pStyle" {
                    self.styles
                        .get(&val)
                        .copied()
                        .or_else(|| builtin_level(&val))
                } else {
                    val.parse::<usize>().ok().filter(|&v| v < 6).map(|v| v + 1)
                };
                if let (Some(level), Some(open @ false)) = (level, self.headings.last_mut()) {
                    *open = true;
                    self.out.start_heading(level);
                }
            }
            "r" => self.run_depth += 1,
            "t" => self.in_text = !empty,
            "tab" if self.run_depth > 0 => self.out.preformatted("\t"),
            "br" | "cr" if self.run_depth > 0 => self.out.line(),
            "noBreakHyphen" => self.out.text("-"),
            "tbl" => {
                self.table_depth += 1;
                self.out.paragraph();
            }
            "tr" => self.out.line(),
            "tc" => {
                self.out.separator(" | ");
                self.out.start_inline();
            }
            _ => {}
        }
    }

    fn end(&mut self, name: &str) {
        if self.skip_depth > 0 {
            self.skip_depth -= 1;
            return;
        }
        match name {
            "p" => {
                if self.headings.pop() == Some(true) {
                    self.out.end_heading();
                }
                self.out.paragraph();
            }
            "r" => self.run_depth = self.run_depth.saturating_sub(1),
            "t" => self.in_text = false,
            "tbl" => {
                self.table_depth = self.table_depth.saturating_sub(1);
                self.out.paragraph();
            }
            "tc" => {
                self.out.end_inline();
                self.out.space();
            }
            _ => {}
        }
    }
}

/// `dc:title` from the core properties.
fn core_title(reader: &mut Reader<&mut dyn BufRead>) -> quick_xml::Result<Option<String>> {
    let mut buf = Vec::new();
    let mut in_title = false;
    let mut title = String::new();
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) if e.local_name().as_ref() == "title" => in_title = true,
            Event::End(e) if e.local_name().as_ref() == "title" => in_title = false,
            Event::Text(t) if in_title => title.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_title => {
                if let Some(c) = r.resolve_char_ref()? {
                    title.push(c);
                } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&r) {
                    title.push_str(s);
                }
            }
            Event::Eof => return Ok(Some(title).filter(|t| !t.trim().is_empty())),
            _ => {}
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn zip_of(parts: &[(&str, &str)]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in parts {
            zip.start_file(*name, options).unwrap();
            zip.write_all(body.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    const W: &str = "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"";

    #[test]
    fn the_relationships_name_the_main_part() {
        let rels = "<Relationships><Relationship Id=\"r\" Type=\"http://x/officeDocument\" Target=\"/word/main.xml\"/></Relationships>";
        let body = format!(
            "<w:document {W}><w:body><w:p><w:pPr><w:pStyle w:val=\"Heading3\"/></w:pPr><w:r><w:t>Hi</w:t></w:r></w:p><w:p><w:r><w:t>x&#233;</w:t><w:noBreakHyphen/><w:t>y</w:t></w:r></w:p></w:body></w:document>"
        );
        let doc = extract(&zip_of(&[("_rels/.rels", rels), ("word/main.xml", &body)])).unwrap();
        assert_eq!(doc.text, "### Hi\n\nxé-y\n");
        assert_eq!(doc.title, None);
    }

    #[test]
    fn no_body_is_unsupported() {
        let err = extract(&zip_of(&[("[Content_Types].xml", "<Types/>")])).unwrap_err();
        assert!(
            matches!(&err, ExtractError::Unsupported(m) if m.contains("no document body")),
            "{err:?}"
        );
    }

    #[test]
    fn ole_containers_are_protected_or_old_documents() {
        let err = extract(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 rest of an OLE file").unwrap_err();
        assert!(
            matches!(&err, ExtractError::Unsupported(m) if m.contains("password-protected")),
            "{err:?}"
        );
    }

    #[test]
    fn malformed_xml_is_damaged() {
        let err = extract(&zip_of(&[(
            "word/document.xml",
            "<w:document><w:body></w:p>",
        )]))
        .unwrap_err();
        assert!(
            matches!(&err, ExtractError::Corrupt(m) if m.starts_with("the DOCX is damaged")),
            "{err:?}"
        );
    }

    #[test]
    fn the_limit_holds_whatever_the_directory_says() {
        let exceeded = Cell::new(false);
        let mut limited = Limited {
            inner: Cursor::new(vec![b' '; 100]),
            left: 10,
            exceeded: &exceeded,
        };
        let mut out = Vec::new();
        assert!(limited.read_to_end(&mut out).is_err());
        assert!(exceeded.get());
        let fine = Cell::new(false);
        let mut limited = Limited {
            inner: Cursor::new(vec![b' '; 10]),
            left: 10,
            exceeded: &fine,
        };
        assert_eq!(limited.read_to_end(&mut out).unwrap(), 10);
        assert!(!fine.get());
    }
}
