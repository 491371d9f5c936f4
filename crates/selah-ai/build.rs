//! Links OpenBLAS statically for the embedder's matrix products (`src/embed/blas.rs`), so the
//! `selah` binary needs no BLAS library on the machine it runs on. The archive comes from the
//! build machine (Debian: `libopenblas-dev`), found through `pkg-config`, or in the directory
//! `OPENBLAS_LIB_DIR` names.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=OPENBLAS_LIB_DIR");
    let dir = std::env::var("OPENBLAS_LIB_DIR").ok().or_else(|| {
        Command::new("pkg-config")
            .args(["--variable=libdir", "openblas"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|d| !d.is_empty())
    });
    match dir {
        Some(dir) => println!("cargo:rustc-link-search=native={dir}"),
        None => println!(
            "cargo:warning=OpenBLAS not found by pkg-config: install libopenblas-dev, or set \
             OPENBLAS_LIB_DIR to the directory holding libopenblas.a"
        ),
    }
    println!("cargo:rustc-link-lib=static=openblas");
}
