//! Runs the stock Yjs client (`tests/live-yjs/yjs-client.mjs`: `yjs` and `y-websocket` from
//! npm) and reads its one-line JSON verdict. Shared with the process-level tests, which include
//! this file by path.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn harness() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/live-yjs");
    assert!(
        dir.join("node_modules/y-websocket").is_dir(),
        "tests/live-yjs has no node_modules: run `npm ci --prefix tests/live-yjs` (make test does)"
    );
    dir
}

/// `node yjs-client.mjs ARGS…`: whether it succeeded, and what it printed.
pub fn yjs(args: &[&str]) -> (bool, Value) {
    let out = Command::new("node")
        .arg(harness().join("yjs-client.mjs"))
        .args(args)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or("");
    let v = serde_json::from_str(last).unwrap_or_else(|_| {
        panic!(
            "yjs-client printed {stdout:?}; stderr {:?}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), v)
}

/// [`yjs`] off the async runtime, for tests whose server runs in the same process.
pub async fn yjs_async(args: &[&str]) -> (bool, Value) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        yjs(&refs)
    })
    .await
    .unwrap()
}
