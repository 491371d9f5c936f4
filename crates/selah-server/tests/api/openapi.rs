//! The OpenAPI document is generated from the code; the committed copy in `docs/openapi.json`
//! must match it, so API changes are visible in review. `make openapi` rewrites the copy.

use crate::common::*;

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[test]
fn openapi_document_is_committed_and_current() {
    let generated = serde_json::to_string_pretty(&selah_server::openapi()).unwrap() + "\n";
    let path = committed_path();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json differs from the API the code serves; run `make openapi` and commit the result"
    );
}

#[tokio::test]
async fn served_document_equals_the_generated_one() {
    let app = TestApp::spawn().await;
    let r = app.client().get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        serde_json::to_value(selah_server::openapi()).unwrap()
    );
    for (path, item) in r.body["paths"].as_object().unwrap() {
        assert!(
            path.starts_with("/api/v1/")
                || ["/health", "/metrics"].contains(&path.as_str())
                // OpenAI-compatible endpoints live where OpenAI's clients look for them.
                || ["/v1/chat/completions", "/v1/models"].contains(&path.as_str()),
            "{path}"
        );
        assert!(
            item.as_object().is_some_and(|m| !m.is_empty()),
            "{path} has no operations"
        );
    }
}

/// The document names what the wire carries: permission keys as sent (`chat.use`), and types
/// that share a Rust name in different modules kept apart (`SessionView` of logins, chats and
/// live sessions), since the web app's types are generated from it.
#[test]
fn schemas_match_the_wire() {
    let doc = serde_json::to_value(selah_server::openapi()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let perms: Vec<&str> = schemas["Permission"]["enum"]
        .as_array()
        .expect("Permission is an enum")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(perms.contains(&"chat.use"), "{perms:?}");
    assert!(perms.iter().all(|p| p.contains('.')), "{perms:?}");
    for (name, field) in [
        ("SessionView", "last_seen_at"),
        ("ChatSessionView", "title"),
        ("LiveSessionView", "room_id"),
        ("LiveMessagePage", "messages"),
    ] {
        let props = &schemas[name]["properties"];
        assert!(props.get(field).is_some(), "{name} lacks {field}: {props}");
    }
}
