//! Prints what Selah extracts from a file and how it would be chunked (a whitespace counter):
//! `cargo run -p selah-search --example extract -- FILE [FORMAT]`.

fn main() {
    let mut args = std::env::args().skip(1);
    let path = std::path::PathBuf::from(args.next().expect("usage: extract FILE [FORMAT]"));
    let head = std::fs::read(&path).expect("readable file");
    let format = match args.next() {
        Some(name) => selah_search::DocFormat::parse(&name).expect("a known format"),
        None => {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            selah_search::DocFormat::detect(name, None, &head[..head.len().min(4096)])
                .expect("a format Selah reads")
        }
    };
    let start = std::time::Instant::now();
    let doc = selah_search::extract_file(format, &path).unwrap_or_else(|e| panic!("{e}"));
    let words = |t: &str| t.split_whitespace().count();
    let chunks = selah_search::chunk_text(&doc.text, &words, &Default::default());
    println!(
        "{format}, title {:?}, {} chars, {} chunks, {:?}",
        doc.title,
        doc.text.chars().count(),
        chunks.len(),
        start.elapsed()
    );
    println!("{}", doc.text);
}
