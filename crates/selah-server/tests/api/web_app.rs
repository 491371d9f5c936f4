//! The embedded web app over HTTP: every embedded file is served byte for byte (gzip when
//! asked), revalidates by ETag, and the app's routes fall back to `index.html` while the API's
//! unknown paths and missing files stay 404s.

use std::io::Read;

use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH,
};
use selah_server::web::{ASSETS, asset};

use crate::common::TestApp;

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

#[test]
fn the_build_embedded_the_app() {
    for required in [
        "/index.html",
        "/sw.js",
        "/manifest.webmanifest",
        "/icon.svg",
    ] {
        assert!(
            asset(required).is_some(),
            "{required} is not embedded: build the web app first (`make web`), then rebuild"
        );
    }
    assert!(
        ASSETS
            .iter()
            .any(|a| a.path.starts_with("/assets/") && a.path.ends_with(".js"))
    );
}

#[tokio::test]
async fn every_embedded_file_is_served_as_built() {
    let app = TestApp::spawn().await;
    let c = client();
    for a in ASSETS {
        let url = format!("{}{}", app.base, a.path);
        // Plain.
        let r = c.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", a.path);
        assert_eq!(r.headers()[ETAG], a.etag, "{}", a.path);
        assert!(r.headers().get(CONTENT_ENCODING).is_none());
        let ty = r.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
        assert_ne!(
            ty, "application/octet-stream",
            "{} has no known type",
            a.path
        );
        assert_eq!(r.bytes().await.unwrap().as_ref(), a.body, "{}", a.path);
        // Compressed, when the build made a smaller copy.
        let r = c
            .get(&url)
            .header(ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .unwrap();
        let gz = r.headers().get(CONTENT_ENCODING).is_some();
        assert_eq!(gz, a.gzip.is_some(), "{}", a.path);
        let bytes = r.bytes().await.unwrap();
        let plain = if gz { gunzip(&bytes) } else { bytes.to_vec() };
        assert_eq!(plain, a.body, "{}", a.path);
        // Revalidation.
        let r = c
            .get(&url)
            .header(IF_NONE_MATCH, a.etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "{}", a.path);
        assert!(r.bytes().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn index_names_only_files_that_exist() {
    let html = std::str::from_utf8(asset("/index.html").expect("embedded").body).unwrap();
    let mut named = 0;
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let target = part.split('"').next().unwrap();
            if target.starts_with('/') {
                named += 1;
                assert!(
                    asset(target).is_some(),
                    "index.html names {target}, which is not embedded"
                );
            }
        }
    }
    assert!(
        named >= 3,
        "index.html should name its script, style and manifest"
    );
}

#[tokio::test]
async fn app_routes_fall_back_to_index_and_server_paths_do_not() {
    let app = TestApp::spawn().await;
    let c = client();
    let index = asset("/index.html").unwrap();
    for path in [
        "/",
        "/chat",
        "/chat/0190abc",
        "/documents/1?chunk=2&start=3&end=9",
        "/live/room-1",
    ] {
        let r = c.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()[CACHE_CONTROL], "no-cache", "{path}");
        let csp = r.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(r.bytes().await.unwrap().as_ref(), index.body, "{path}");
    }
    // Hashed files are cached for good.
    let js = ASSETS
        .iter()
        .find(|a| a.path.starts_with("/assets/"))
        .unwrap();
    let r = c
        .get(format!("{}{}", app.base, js.path))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()[CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    // A missing file is a 404 in the API's format, never HTML that a stale page would run.
    for path in [
        "/assets/index-gone.js",
        "/favicon.ico",
        "/api/v1/nope",
        "/v1/nope",
        "/api",
    ] {
        let r = c.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    // Writes to app paths are not the app's.
    let r = c.post(format!("{}/chat", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // HEAD answers the headers alone.
    let r = c.head(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[ETAG], index.etag);
    assert!(r.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_page_load_is_not_rate_limited() {
    let app = TestApp::spawn_with(crate::common::Db::Sqlite, |c| {
        c.rate_limit.enabled = true;
        c.rate_limit.per_minute = 5;
    })
    .await;
    let c = client();
    for _ in 0..20 {
        let r = c.get(format!("{}/chat", app.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    // The API still is.
    let mut last = StatusCode::OK;
    for _ in 0..10 {
        last = c
            .get(format!("{}/api/v1/auth/me", app.base))
            .send()
            .await
            .unwrap()
            .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}
