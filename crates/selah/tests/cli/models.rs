//! `selah models list|import|remove`, run as the real binary on temporary data directories with
//! the real SmolLM2 file (`SELAH_TEST_MODEL`) and an Ollama store laid out as Ollama lays it out.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn selah(data: &Path, env: &[(&str, &Path)], args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_selah"));
    cmd.arg("--data-dir")
        .arg(data)
        .args(args)
        .env("XDG_CONFIG_HOME", data.join("config-home"))
        .env("SELAH_AI__OLLAMA_MODELS_DIR", data.join("no-ollama"))
        .env_remove("SELAH_CONFIG")
        .env_remove("SELAH_DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the selah binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

fn test_model() -> PathBuf {
    let p = std::env::var_os("SELAH_TEST_MODEL")
        .map(PathBuf::from)
        .expect(
            "SELAH_TEST_MODEL is not set: it must name SmolLM2-135M-Instruct.Q4_1.gguf \
         (`make test` sets it after scripts/fetch-models.sh fetches the model)",
        );
    assert!(
        p.is_file(),
        "SELAH_TEST_MODEL={} does not exist",
        p.display()
    );
    p
}

fn ok(r: Run) -> Run {
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    r
}

fn fails(r: Run, needle: &str) {
    assert_ne!(r.code, 0, "expected a failure: {}", r.stdout);
    assert!(r.stderr.contains(needle), "{needle:?} not in {}", r.stderr);
}

#[test]
fn import_list_and_remove_a_model() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let src = tempfile::tempdir().unwrap();
    let model = src.path().join("smol.gguf");
    std::os::unix::fs::symlink(test_model(), &model).unwrap();

    let r = ok(selah(d, &[], &["models", "list"]));
    assert!(r.stdout.contains("no models"), "{}", r.stdout);
    let r = ok(selah(
        d,
        &[],
        &["models", "import", model.to_str().unwrap()],
    ));
    assert!(r.stdout.contains("imported local:smol"), "{}", r.stdout);
    assert!(d.join("models/smol.gguf").is_file());
    fails(
        selah(d, &[], &["models", "import", model.to_str().unwrap()]),
        "already exists",
    );
    let junk = src.path().join("junk.gguf");
    std::fs::write(&junk, "not a model").unwrap();
    fails(
        selah(d, &[], &["models", "import", junk.to_str().unwrap()]),
        "GGUF",
    );
    let r = ok(selah(d, &[], &["models", "list"]));
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("local:smol"))
        .expect("listed");
    assert!(
        line.contains("llama") && line.contains("Q4_1") && line.contains("8192"),
        "{line}"
    );

    fails(
        selah(d, &[], &["models", "remove", "ollama:x:y"]),
        "cannot be removed",
    );
    ok(selah(d, &[], &["models", "remove", "local:smol"]));
    assert!(!d.join("models/smol.gguf").exists());
    fails(
        selah(d, &[], &["models", "remove", "local:smol"]),
        "not found",
    );
}

#[test]
fn the_ollama_store_is_listed_read_only() {
    use sha2::Digest;
    let data = tempfile::tempdir().unwrap();
    let store = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(test_model()).unwrap();
    let hex = hex::encode(sha2::Sha256::digest(&bytes));
    std::fs::create_dir_all(store.path().join("blobs")).unwrap();
    std::os::unix::fs::symlink(
        test_model(),
        store.path().join(format!("blobs/sha256-{hex}")),
    )
    .unwrap();
    selah_ai::ollama_store::write_manifest(
        store.path(),
        "library",
        "smollm2",
        "135m",
        &hex,
        bytes.len() as u64,
    )
    .unwrap();
    let r = ok(selah(
        data.path(),
        &[("SELAH_AI__OLLAMA_MODELS_DIR", store.path())],
        &["models", "list"],
    ));
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("ollama:smollm2:135m"))
        .expect("listed");
    assert!(line.contains("read-only"), "{line}");
}
