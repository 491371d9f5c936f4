//! `selah login`: signs in to a running server and stores the session (URL and bearer token)
//! for later commands, in the file described in `crate::client`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use serde_json::{Value, json};

use crate::cli::prompt;
use crate::client::{self, StoredSession};

/// Flags for login.
#[derive(Args)]
pub struct LoginArgs {
    /// Server URL (default: SELAH_URL, the stored session's, or http://127.0.0.1:5000).
    #[arg(long)]
    pub url: Option<String>,
    /// Username (prompted for when missing).
    #[arg(long)]
    pub username: Option<String>,
    /// Read the password from the first line of standard input instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
}

/// Runs the command.
pub async fn run(args: LoginArgs) -> anyhow::Result<ExitCode> {
    let url = args
        .url
        .unwrap_or_else(client::default_url)
        .trim_end_matches('/')
        .to_string();
    let username = match args.username {
        Some(u) => u,
        None if args.password_stdin => {
            bail!("give --username when reading the password from stdin")
        }
        None => {
            print!("Username: ");
            std::io::stdout().flush()?;
            prompt::stdin_line()?
        }
    };
    let password = prompt::password(args.password_stdin, false)?;
    let res = reqwest::Client::new()
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .with_context(|| format!("cannot reach Selah at {url}"))?;
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let msg = body["error"]["message"].as_str().unwrap_or("login failed");
        bail!("{msg} ({status})");
    }
    let token = body["token"]
        .as_str()
        .context("the server's answer has no token")?;
    let session = StoredSession {
        url: url.clone(),
        token: token.to_string(),
        username: body["user"]["username"]
            .as_str()
            .unwrap_or(&username)
            .to_string(),
        session_id: body["session_id"].as_str().unwrap_or_default().to_string(),
    };
    let path = client::save(&session)?;
    println!(
        "signed in to {url} as {}; session stored in {}",
        session.username,
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
