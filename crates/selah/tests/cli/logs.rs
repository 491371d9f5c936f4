//! Log outputs: the daily file in `<data>/logs`, JSON format on both outputs, `SELAH_LOG`
//! overriding `log.level`, and `log.to_file = false`.

use crate::common::*;

#[tokio::test]
async fn json_format_applies_to_stderr_and_the_daily_file() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&data, |c| {
        c.env("SELAH_LOG__FORMAT", "json");
    })
    .await;
    let stderr = server.stop().await;

    let files = files_under(&data.join("logs"));
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(
        files[0].file_name().unwrap().to_string_lossy(),
        format!("selah.log.{today}")
    );
    let file = std::fs::read_to_string(&files[0]).unwrap();
    for (name, text) in [("stderr", &stderr), ("file", &file)] {
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(lines.len() >= 3, "{name}: {text}");
        for l in &lines {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {l}"));
            assert!(
                v["level"].is_string() && v["fields"]["message"].is_string(),
                "{l}"
            );
        }
        assert!(text.contains("\"stopped cleanly\""), "{name}: {text}");
    }
}

#[tokio::test]
async fn selah_log_overrides_the_configured_level() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&data, |c| {
        c.env("SELAH_LOG__LEVEL", "debug").env("SELAH_LOG", "warn");
    })
    .await;
    let (st, _) = server.client().get("/health").await;
    assert_eq!(st, 200);
    let stderr = server.stop().await;
    assert!(!stderr.contains("unknown environment variable"), "{stderr}");
    assert!(
        !stderr.contains("INFO") && !stderr.contains("DEBUG"),
        "only warnings and errors expected: {stderr}"
    );
    let file: String = files_under(&data.join("logs"))
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(
        !file.contains("INFO") && !file.contains("stopped cleanly"),
        "{file}"
    );

    // Without the override the configured level applies.
    let server = Server::start(&data, |c| {
        c.env("SELAH_LOG__LEVEL", "info");
    })
    .await;
    assert!(server.stop().await.contains("stopped cleanly"));
}

#[tokio::test]
async fn no_log_directory_when_file_logging_is_off() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&data, |c| {
        c.env("SELAH_LOG__TO_FILE", "false");
    })
    .await;
    let stderr = server.stop().await;
    assert!(stderr.contains("stopped cleanly"));
    assert!(!data.join("logs").exists());
}
