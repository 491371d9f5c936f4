//! The embedded web app: every file of `web/dist` compiled into the binary (see `build.rs`),
//! served by the router's fallback. Paths outside the API that name no file get `index.html`,
//! so the app's own routes (`/chat/…`, `/documents/…`) survive a reload.
//!
//! Hashed files under `/assets/` are cached for a year; everything else (`index.html`, `sw.js`,
//! the manifest) revalidates with its ETag on every load, so a new build shows at once.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// URL path, e.g. `/assets/index-abc123.js`.
    pub path: &'static str,
    /// The file as built.
    pub body: &'static [u8],
    /// A gzip copy, when it is smaller.
    pub gzip: Option<&'static [u8]>,
    /// Strong ETag (quoted).
    pub etag: &'static str,
}

/// Every embedded file, sorted by path (empty when the binary was built without `web/dist`).
pub static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The page's policy: the API's `default-src 'self'` (scripts only from this server, never
/// inline), plus images and media from `blob:` and `data:` (decrypted vault files, icons) and
/// inline styles, which the collaborative editor (CodeMirror) sets on its own elements; a style
/// cannot run code, so the script rule still holds the line against injected markup.
const APP_CSP: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data: blob:; media-src 'self' blob:; \
    frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'";

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Selah</title>\
    <p>This selah binary was built without its web app. Run <code>make web</code> and rebuild \
    (<code>make run</code> does both); the API at <code>/api/v1</code> works either way.";

/// Whether a path belongs to the server's own surfaces, which never fall back to the app.
pub fn is_server_path(path: &str) -> bool {
    ["/api/", "/v1/", "/ws", "/healing-ws"]
        .iter()
        .any(|p| path.starts_with(p))
        || matches!(path, "/api" | "/v1" | "/health" | "/metrics")
}

/// The embedded file at `path`.
pub fn asset(path: &str) -> Option<&'static Asset> {
    ASSETS
        .binary_search_by(|a| a.path.cmp(path))
        .ok()
        .map(|i| &ASSETS[i])
}

/// Serves a GET or HEAD for the app, or `None` when the request is not the app's.
pub fn serve(method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
    if !matches!(*method, Method::GET | Method::HEAD) || is_server_path(uri.path()) {
        return None;
    }
    let path = if uri.path() == "/" {
        "/index.html"
    } else {
        uri.path()
    };
    let found = match asset(path) {
        Some(a) => Some(a),
        // A missing hashed file or icon is a 404, not the app: a stale page asking for an old
        // chunk must see an error, not HTML parsed as JavaScript.
        None if path.starts_with("/assets/") || has_extension(path) => return None,
        None => asset("/index.html"),
    };
    let Some(asset) = found else {
        return Some(html(StatusCode::OK, NOT_BUILT));
    };
    Some(respond(asset, *method == Method::HEAD, headers))
}

fn has_extension(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}

fn respond(asset: &Asset, head: bool, headers: &HeaderMap) -> Response {
    let immutable = asset.path.starts_with("/assets/");
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut b = Response::builder()
        .header(header::CONTENT_TYPE, mime(asset.path))
        .header(header::ETAG, asset.etag)
        .header(header::CACHE_CONTROL, cache)
        .header(header::VARY, "Accept-Encoding");
    if asset.path.ends_with(".html") {
        b = b.header(header::CONTENT_SECURITY_POLICY, APP_CSP);
    }
    if asset.path == "/sw.js" {
        // The worker controls the whole origin, not only the folder it is served from.
        b = b.header("service-worker-allowed", "/");
    }
    let matches_etag = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == asset.etag || t.trim() == "*")
        });
    if matches_etag {
        return b
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .expect("static headers are valid");
    }
    let (bytes, gzipped) = match asset.gzip {
        Some(gz) if accepts_gzip(headers) => (gz, true),
        _ => (asset.body, false),
    };
    if gzipped {
        b = b.header(header::CONTENT_ENCODING, "gzip");
    }
    b = b.header(header::CONTENT_LENGTH, bytes.len());
    let body = if head {
        Body::empty()
    } else {
        Body::from(bytes)
    };
    b.status(StatusCode::OK)
        .body(body)
        .expect("static headers are valid")
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q == 0.0))
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

fn html(status: StatusCode, body: &'static str) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from(body))
        .expect("static headers are valid")
}

/// The MIME type of an embedded file, by extension (the few kinds a Vite build emits).
pub fn mime(path: &str) -> HeaderValue {
    let ext = path.rsplit('.').next().unwrap_or("");
    HeaderValue::from_static(match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "wasm" => "application/wasm",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_for_binary_search() {
        assert!(ASSETS.windows(2).all(|w| w[0].path < w[1].path));
    }

    #[test]
    fn server_paths_never_fall_back_to_the_app() {
        for p in [
            "/api/v1/x",
            "/v1/models",
            "/ws",
            "/ws/yjs/r",
            "/healing-ws",
            "/health",
            "/metrics",
            "/api",
        ] {
            assert!(is_server_path(p), "{p}");
        }
        for p in [
            "/",
            "/chat",
            "/chat/abc",
            "/documents/1",
            "/assets/x.js",
            "/apiary",
            "/healthy",
        ] {
            assert!(!is_server_path(p), "{p}");
        }
    }

    #[test]
    fn gzip_is_sent_only_when_accepted() {
        let mut h = HeaderMap::new();
        assert!(!accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br, gzip;q=0.8"),
        );
        assert!(accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0, br"),
        );
        assert!(!accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        assert!(!accepts_gzip(&h));
    }

    #[test]
    fn files_with_an_extension_are_not_app_routes() {
        assert!(has_extension("/favicon.ico"));
        assert!(has_extension("/assets/a.js"));
        assert!(!has_extension("/chat/abc"));
        assert!(!has_extension("/v.1/chat"));
    }
}
