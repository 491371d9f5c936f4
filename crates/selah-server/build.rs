//! Embeds the web app (`web/dist`, built by `make web`) into the binary: writes a table of every
//! file with its MIME type, a strong ETag and, where it is smaller, a gzip copy, so the server
//! sends precompressed bytes and never compresses at run time.
//!
//! Without `web/dist` the table is empty and the server answers `/` with a page saying how to
//! build the app; `make run`, `make build` and `make test` always build it first.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let dist = manifest.join("../../web/dist");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    // A directory: cargo rescans it, so a new `npm run build` re-embeds.
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        collect(&dist, &dist, &mut files);
    } else {
        println!(
            "cargo:warning=web/dist is missing: this build serves no web app (run `make web`)"
        );
    }
    files.sort();
    let mut table = String::from("&[\n");
    for rel in &files {
        let path = dist.join(rel);
        let body = fs::read(&path).expect("read a web asset");
        let etag = hex(&Sha256::digest(&body)[..12]);
        // A copy in OUT_DIR, so a `vite build` running while cargo compiles cannot pull the
        // files out from under `include_bytes!`.
        let copy = out.join(format!("web-{etag}"));
        fs::write(&copy, &body).expect("copy a web asset");
        let gz = gzip(&body);
        let gz_expr = if gz.len() + 64 < body.len() {
            let gz_path = out.join(format!("web-{etag}.gz"));
            fs::write(&gz_path, &gz).expect("write a gzip copy");
            format!("Some(include_bytes!({:?}))", gz_path.display().to_string())
        } else {
            "None".to_string()
        };
        table.push_str(&format!(
            "    Asset {{ path: {:?}, body: include_bytes!({:?}), gzip: {gz_expr}, etag: {:?} }},\n",
            format!("/{}", rel.replace('\\', "/")),
            copy.display().to_string(),
            format!("\"{etag}\""),
        ));
    }
    table.push(']');
    fs::write(out.join("web_assets.rs"), table).expect("write the asset table");
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in fs::read_dir(dir).expect("read web/dist") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).expect("inside dist");
            out.push(rel.to_string_lossy().into_owned());
        }
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(data).expect("gzip into memory");
    enc.finish().expect("gzip into memory")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
