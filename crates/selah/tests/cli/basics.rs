//! `--version`, `config default` and configuration warnings, through the real binary.

use std::collections::BTreeMap;

use crate::common::*;

#[test]
fn version_names_the_package_version() {
    let tmp = tempfile::tempdir().unwrap();
    let (st, out, _) = run(selah(&tmp.path().join("data")).arg("--version"));
    assert!(st.success());
    assert_eq!(out.trim(), format!("selah {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn config_default_parses_back_to_the_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    let (st, out, err) = run(selah(&tmp.path().join("data")).args(["config", "default"]));
    assert!(st.success(), "{err}");
    assert!(
        out.lines().filter(|l| l.starts_with('#')).count() > 10,
        "commented"
    );
    let loaded = selah_core::Config::load(Some(&out), &BTreeMap::new(), &[]).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.config, selah_core::Config::default());
}

#[test]
fn unknown_keys_and_variables_are_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("selah.toml"),
        "colour = \"blue\"\n[log]\nlevel = \"info\"\nvolume = 11\n",
    )
    .unwrap();
    let port = free_port().to_string();
    let (st, out, err) = run(selah(&data)
        .arg("doctor")
        .env("SELAH_NOPE", "1")
        .env("CUSTOM_PORT", &port));
    // Warnings are not problems.
    assert!(st.success(), "{out}\n{err}");
    for needle in ["`colour`", "`log.volume`", "`SELAH_NOPE`"] {
        assert!(
            err.lines()
                .any(|l| l.starts_with("warning: ") && l.contains(needle)),
            "{needle} not warned about: {err}"
        );
        assert!(
            out.lines()
                .any(|l| l.starts_with("⚠ config: ") && l.contains(needle)),
            "{needle} not in doctor's report: {out}"
        );
    }
}

#[test]
fn an_invalid_value_stops_the_start_with_the_variable_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (st, _, err) = run(selah(&tmp.path().join("data"))
        .arg("serve")
        .env("SELAH_AUTH__SESSION_IDLE_SECS", "soon"));
    assert!(!st.success());
    assert!(err.contains("SELAH_AUTH__SESSION_IDLE_SECS"), "{err}");
}
