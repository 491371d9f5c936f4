//! Extraction of the committed fixtures (made by `fixtures/make_fixtures.py`): exact text and
//! title for each format, each error case, and format detection from the files' first bytes.

use selah_search::{DocFormat, ExtractError, Extracted, extract_file};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn extract(format: DocFormat, name: &str) -> Result<Extracted, ExtractError> {
    extract_file(format, &fixture(name))
}

fn ok(format: DocFormat, name: &str) -> Extracted {
    let doc = extract(format, name).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    assert_light_markdown(&doc.text);
    doc
}

/// The invariants every extractor promises.
fn assert_light_markdown(text: &str) {
    assert!(text.is_empty() || text.ends_with('\n'), "{text:?}");
    assert!(!text.starts_with('\n'));
    assert!(!text.contains("\n\n\n"), "{text:?}");
    assert!(!text.contains('\r'));
    for line in text.lines() {
        assert_eq!(line, line.trim_end(), "trailing whitespace in {line:?}");
    }
    assert!(
        text.chars()
            .all(|c| c == '\n' || c == '\t' || !c.is_control())
    );
}

#[test]
fn pdf_two_pages_with_info_title() {
    let doc = ok(DocFormat::Pdf, "sample.pdf");
    assert_eq!(doc.title.as_deref(), Some("Selah sample — PDF"));
    assert_eq!(
        doc.text,
        "Selah Sample Document\n\
         \n\
         This is the first paragraph of the sample. It talks about\n\
         compression settings and continues on a second line.\n\
         \n\
         The second paragraph is short.\n\
         \n\
         Page two begins with a café and ends the document.\n\
         \n\
         Last words.\n"
    );
}

/// Encrypted with an empty user password (copying "forbidden"): anyone may read it, so do we.
#[test]
fn pdf_with_permissions_only_encryption() {
    let restricted = ok(DocFormat::Pdf, "restricted.pdf");
    assert_eq!(restricted, ok(DocFormat::Pdf, "sample.pdf"));
}

#[test]
fn pdf_errors() {
    let corrupt = extract(DocFormat::Pdf, "corrupt.pdf").unwrap_err();
    assert!(
        matches!(&corrupt, ExtractError::Corrupt(m) if m.starts_with("the PDF is damaged: ")),
        "{corrupt:?}"
    );
    let not_pdf = extract(DocFormat::Pdf, "not-a.pdf").unwrap_err();
    assert!(
        matches!(&not_pdf, ExtractError::Corrupt(m) if m == "the file is not a PDF"),
        "{not_pdf:?}"
    );
    let encrypted = extract(DocFormat::Pdf, "encrypted.pdf").unwrap_err();
    assert!(
        matches!(&encrypted, ExtractError::Unsupported(m) if m.contains("encrypted")),
        "{encrypted:?}"
    );
    let scanned = extract(DocFormat::Pdf, "scanned.pdf").unwrap_err();
    assert_eq!(
        scanned.to_string(),
        "the PDF has no text layer (scanned?); OCR is not supported"
    );
    assert!(matches!(scanned, ExtractError::Unsupported(_)));
}

#[test]
fn docx_headings_runs_and_table() {
    let doc = ok(DocFormat::Docx, "sample.docx");
    assert_eq!(doc.title.as_deref(), Some("Selah Sample & Word Document"));
    assert_eq!(
        doc.text,
        "# Selah Word Sample\n\
         \n\
         # Introduction\n\
         \n\
         Runs are joined into one paragraph; a\ttab and\n\
         a line break & an entity.\n\
         \n\
         ## Options\n\
         \n\
         Setting | Value\n\
         compression | on (default)\n\
         \n\
         Before the box.\n\
         \n\
         Text in a box.\n\
         \n\
         The end.\n"
    );
}

#[test]
fn docx_errors() {
    let bomb = extract(DocFormat::Docx, "bomb.docx").unwrap_err();
    assert!(
        matches!(&bomb, ExtractError::Unsupported(m) if m.contains("zip bomb")),
        "{bomb:?}"
    );
    // A PDF is not a zip.
    let not_zip = extract(DocFormat::Docx, "sample.pdf").unwrap_err();
    assert!(
        matches!(&not_zip, ExtractError::Corrupt(m) if m.starts_with("the DOCX is damaged")),
        "{not_zip:?}"
    );
}

#[test]
fn html_structure_and_title() {
    let doc = ok(DocFormat::Html, "sample.html");
    assert_eq!(doc.title.as_deref(), Some("Selah & the Sample Page"));
    assert_eq!(
        doc.text,
        "# Sample Page\n\
         \n\
         The first paragraph has bold, a link, and wrapped lines — plus entities: <tag> & café.\n\
         \n\
         ## Lists\n\
         \n\
         First item\n\
         Second item\n\
         \n\
         ### Table\n\
         \n\
         Name | Size\n\
         alpha | 1 KB\n\
         beta | 2 KB\n\
         \n\
         fn main() {\n    println!(\"hi\");\n}\n\
         \n\
         Line one\n\
         Line two\n\
         \n\
         Footer note.\n"
    );
}

#[test]
fn markdown_front_matter_and_headings() {
    let doc = ok(DocFormat::Markdown, "sample.md");
    assert_eq!(doc.title.as_deref(), Some("Selah Sample: Markdown"));
    assert_eq!(
        doc.text,
        "# Getting started\n\
         \n\
         Selah reads **Markdown** as it is.\n\
         Lines stay as written.\n\
         \n\
         ## Configuration\n\
         \n\
         ```sh\n\
         # this is a shell comment, not a heading\n\
         selah serve\n\
         ```\n\
         \n\
         ## Compression\n\
         \n\
         Set `compression = true`.\n"
    );
}

#[test]
fn windows_1252_text() {
    let doc = ok(DocFormat::Text, "latin1.txt");
    assert_eq!(doc.title, None);
    assert_eq!(
        doc.text,
        "Café crème brûlée — “quoted”.\n\nSecond paragraph: naïve façade, 50 €.\n"
    );
}

#[test]
fn binary_as_text_is_corrupt() {
    let err = extract(DocFormat::Text, "bomb.docx").unwrap_err();
    assert_eq!(
        err.to_string(),
        "the file is not valid UTF-8 text and not a known encoding"
    );
}

#[test]
fn missing_file_is_io() {
    let err = extract(DocFormat::Text, "no-such-file.txt").unwrap_err();
    assert!(matches!(err, ExtractError::Io(_)));
    assert!(err.to_string().starts_with("cannot read the file: "));
}

#[test]
fn detection_of_the_fixtures() {
    let cases = [
        ("sample.pdf", Some(DocFormat::Pdf)),
        ("corrupt.pdf", Some(DocFormat::Pdf)),
        ("not-a.pdf", Some(DocFormat::Pdf)),
        ("sample.docx", Some(DocFormat::Docx)),
        ("sample.html", Some(DocFormat::Html)),
        ("sample.md", Some(DocFormat::Markdown)),
        ("latin1.txt", Some(DocFormat::Text)),
    ];
    for (name, expected) in cases {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let head = &bytes[..bytes.len().min(4096)];
        assert_eq!(DocFormat::detect(name, None, head), expected, "{name}");
    }
    // The bytes win over a misleading name.
    let pdf = std::fs::read(fixture("sample.pdf")).unwrap();
    assert_eq!(
        DocFormat::detect("notes.txt", Some("text/plain"), &pdf[..512]),
        Some(DocFormat::Pdf)
    );
    let html = std::fs::read(fixture("sample.html")).unwrap();
    assert_eq!(
        DocFormat::detect("page.md", None, &html),
        Some(DocFormat::Html)
    );
    // Random bytes under a neutral name are nothing Selah reads.
    let noise = std::fs::read(fixture("not-a.pdf")).unwrap();
    assert_eq!(DocFormat::detect("upload.bin", None, &noise), None);
}
