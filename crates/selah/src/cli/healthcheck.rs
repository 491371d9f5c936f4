//! `selah healthcheck [--url URL]`: for Docker `HEALTHCHECK`, systemd `ExecStartPost` and other
//! watchdogs. Asks a running server's `/health` (within 3 seconds) and exits 0 when it answers
//! with a status other than `unhealthy`, else 1, printing one line either way.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use serde_json::Value;

use crate::settings::GlobalArgs;

/// How long the server has to answer.
const TIMEOUT: Duration = Duration::from_secs(3);

/// Flags for healthcheck.
#[derive(Args)]
pub struct HealthcheckArgs {
    /// The health endpoint (default: http://<bind>/health from the configuration, with an
    /// unspecified address such as 0.0.0.0 replaced by loopback).
    #[arg(long)]
    pub url: Option<String>,
}

/// Runs the command.
pub async fn run(g: &GlobalArgs, args: HealthcheckArgs) -> anyhow::Result<ExitCode> {
    let url = match args.url {
        Some(u) => u,
        // The configuration is only needed to find the address.
        None => default_url(&g.load(&[])?.0.config.bind)?,
    };
    let (ok, line) = check(&url).await;
    if ok {
        println!("{line}");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{line}");
        Ok(ExitCode::FAILURE)
    }
}

/// `http://<bind>/health`, with 0.0.0.0 and [::] mapped to the loopback address.
pub fn default_url(bind: &str) -> anyhow::Result<String> {
    let mut addr: SocketAddr = bind
        .parse()
        .with_context(|| format!("bind = {bind:?} is not an address"))?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    Ok(format!("http://{addr}/health"))
}

/// Asks `url` and returns whether it is fine and the line to print.
async fn check(url: &str) -> (bool, String) {
    let client = match reqwest::Client::builder()
        .timeout(TIMEOUT)
        // A health probe talks to this machine or a known host, never through a proxy.
        .no_proxy()
        .build()
    {
        Ok(c) => c,
        Err(e) => return (false, format!("cannot build an HTTP client: {e}")),
    };
    let resp = match client.get(url).send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => {
            return (false, format!("no answer from {url} within 3 s"));
        }
        Err(e) => {
            // The innermost cause reads best ("Connection refused (os error 111)").
            let mut cause: &dyn std::error::Error = &e;
            while let Some(inner) = cause.source() {
                cause = inner;
            }
            let reason = cause.to_string();
            return (false, format!("cannot reach {url}: {reason}"));
        }
    };
    let code = resp.status();
    let body: Option<Value> = resp.json().await.ok();
    judge(code.as_u16(), body.as_ref())
}

/// Decides from the HTTP status and the `/health` body
/// (`{status, score, checks:[{name,status,message}]}`).
fn judge(code: u16, body: Option<&Value>) -> (bool, String) {
    let Some(status) = body.and_then(|b| b["status"].as_str()) else {
        return (
            false,
            format!("unexpected answer: HTTP {code} without a health status"),
        );
    };
    let body = body.expect("status came from the body");
    let score = body["score"]
        .as_i64()
        .map(|s| format!(" (score {s})"))
        .unwrap_or_default();
    let failing: Vec<String> = body["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["status"].as_str().is_some_and(|s| s != "healthy"))
        .map(|c| {
            let name = c["name"].as_str().unwrap_or("?");
            let state = c["status"].as_str().unwrap_or("?");
            match c["message"].as_str().filter(|m| !m.is_empty()) {
                Some(m) => format!("{name} {state}: {m}"),
                None => format!("{name} {state}"),
            }
        })
        .collect();
    let details = if failing.is_empty() {
        String::new()
    } else {
        format!("; {}", failing.join("; "))
    };
    let line = format!("{status}{score}{details}");
    if status == "unhealthy" {
        (false, line)
    } else if !(200..300).contains(&code) {
        (false, format!("HTTP {code}: {line}"))
    } else {
        (true, line)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn unspecified_addresses_become_loopback() {
        assert_eq!(
            default_url("0.0.0.0:5000").unwrap(),
            "http://127.0.0.1:5000/health"
        );
        assert_eq!(default_url("[::]:7").unwrap(), "http://[::1]:7/health");
        assert_eq!(
            default_url("192.168.1.2:80").unwrap(),
            "http://192.168.1.2:80/health"
        );
        assert!(default_url("nowhere").is_err());
    }

    #[test]
    fn judges_status_not_just_the_http_code() {
        let degraded = json!({"status":"degraded","score":80,"checks":[
            {"name":"database","status":"healthy","message":"ok"},
            {"name":"disk","status":"degraded","message":"low space"}]});
        let (ok, line) = judge(200, Some(&degraded));
        assert!(ok);
        assert_eq!(line, "degraded (score 80); disk degraded: low space");

        let unhealthy = json!({"status":"unhealthy","score":80,"checks":[
            {"name":"database","status":"unhealthy","message":"ping failed"}]});
        let (ok, line) = judge(503, Some(&unhealthy));
        assert!(!ok);
        assert!(line.contains("database unhealthy: ping failed"), "{line}");
        // Even a 200 carrying "unhealthy" fails.
        assert!(!judge(200, Some(&unhealthy)).0);
        assert!(!judge(500, Some(&json!({"status":"healthy"}))).0);
        assert!(!judge(200, Some(&json!({"nope":1}))).0);
        assert!(!judge(200, None).0);
        assert!(judge(200, Some(&json!({"status":"healthy","score":100}))).0);
    }
}
