//! The vault's HTTP API as the CLI sees it: the signed-in session (from `selah login` or
//! `SELAH_URL`/`SELAH_TOKEN`), the team context header, the server's error format turned into
//! messages, and the JSON shapes of items, versions and headers (read leniently: fields the
//! CLI does not use may come and go).

use std::collections::BTreeMap;

use anyhow::Context;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client;

/// Every vault route starts here.
pub const VAULT: &str = "/api/v1/vault";

/// A failed API call: the HTTP status and the server's `{"error":{"code","message"}}`.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The server's message, or a description of the status.
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.status)
    }
}

impl std::error::Error for ApiError {}

/// The HTTP status of an error chain's [`ApiError`], if it holds one.
pub fn status_of(e: &anyhow::Error) -> Option<StatusCode> {
    e.downcast_ref::<ApiError>().map(|a| a.status)
}

/// A signed-in client for one server, in one team context (or the personal one).
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    /// Server base URL without a trailing slash.
    pub base: String,
    token: String,
    /// The team whose vault the commands work in (`X-Selah-Team`), or none for the personal one.
    pub team: Option<String>,
}

impl Api {
    /// The stored session, or an error saying how to sign in.
    pub fn connect(team: Option<String>) -> anyhow::Result<Api> {
        let session = client::load()?
            .context("not signed in: run `selah login` first (or set SELAH_URL and SELAH_TOKEN)")?;
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .user_agent(format!("selah-cli/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Api {
            http,
            base: session.url.trim_end_matches('/').to_string(),
            token: session.token,
            team: team.filter(|t| !t.is_empty()),
        })
    }

    /// The absolute URL of `path` (which starts with `/`), or `path` itself when absolute.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// A request with the bearer token and the team context.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut rb = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(team) = &self.team {
            rb = rb.header("X-Selah-Team", team);
        }
        rb
    }

    /// Sends a request; a non-success status becomes an [`ApiError`].
    pub async fn send(&self, rb: RequestBuilder) -> anyhow::Result<Response> {
        let res = rb
            .send()
            .await
            .with_context(|| format!("cannot reach Selah at {}", self.base))?;
        check(res).await
    }

    /// Sends a request and parses the JSON answer.
    pub async fn json<T: DeserializeOwned>(&self, rb: RequestBuilder) -> anyhow::Result<T> {
        let res = self.send(rb).await?;
        let text = res
            .text()
            .await
            .context("the server's answer was cut off")?;
        serde_json::from_str(&text).with_context(|| {
            format!(
                "unexpected answer from the server: {}",
                text.chars().take(200).collect::<String>()
            )
        })
    }

    /// GET a JSON document.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.json(self.request(Method::GET, path)).await
    }
}

/// Turns a non-success response into an [`ApiError`] with the server's message.
pub async fn check(res: Response) -> anyhow::Result<Response> {
    let status = res.status();
    if status.is_success() {
        return Ok(res);
    }
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let message = body["error"]["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("request failed")
                .to_lowercase()
        });
    Err(ApiError { status, message }.into())
}

/// A vault item as the API returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct Item {
    /// Its id.
    pub id: String,
    /// `file`, `note` or `folder`.
    pub kind: String,
    /// The folder it is in, or none at the root.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// The encrypted metadata, base64.
    pub meta: String,
    /// User ids its keys are wrapped to.
    #[serde(default)]
    pub recipients: Vec<String>,
    /// Shared with the caller from someone else's personal vault.
    #[serde(default)]
    pub shared: bool,
    /// The current version's file size (ciphertext), if it has content.
    #[serde(default)]
    pub size: Option<u64>,
    /// The current version.
    #[serde(default)]
    pub current_version_id: Option<String>,
    /// Last changed, ms since the epoch.
    #[serde(default)]
    pub updated_at: i64,
    /// When it went to the trash.
    #[serde(default)]
    pub trashed_at: Option<i64>,
    /// For optimistic concurrency on changes.
    #[serde(default)]
    pub row_version: i64,
}

impl Item {
    /// True for folders.
    pub fn is_folder(&self) -> bool {
        self.kind == "folder"
    }
}

/// What sharing needs: the metadata, the recipients and every version's header.
#[derive(Debug, Clone, Deserialize)]
pub struct Headers {
    /// The encrypted metadata, base64.
    pub meta: String,
    /// Current recipients.
    pub recipients: Vec<String>,
    /// To send back with the change.
    pub row_version: i64,
    /// Version id → header bytes, base64.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// Reads a list answer: a bare array, or an object with the array under `items`.
pub fn item_list(v: Value) -> anyhow::Result<Vec<Item>> {
    let list = match v {
        Value::Array(_) => v,
        Value::Object(mut o) => o.remove("items").context("the list answer has no items")?,
        other => anyhow::bail!("unexpected list answer: {other}"),
    };
    serde_json::from_value(list).context("unexpected item in the list answer")
}

/// `e` and its sources, joined (reqwest's own message is often just "error sending request").
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
