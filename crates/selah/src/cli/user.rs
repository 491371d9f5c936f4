//! `selah user add|list|passwd|disable|role`: account management straight on the database, for
//! the operator at the machine (works while the server runs: SQLite's busy timeout serialises
//! the writes). The same rules as the API apply, and every change is appended to the audit log
//! with `{"via":"cli"}`.
//!
//! The founder normally comes from setup in the browser; `user add NAME --role founder` is
//! accepted only while there is no user at all, for headless installs, and is atomic like setup.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use selah_core::Role;
use selah_server::auth::dto::{check_username, parse_assignable_role};
use selah_server::auth::password::{check_policy, hash_password};
use selah_store::Store;
use selah_store::users::User;
use serde_json::json;

use crate::cli::prompt;
use crate::settings::GlobalArgs;

/// User management.
#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account (role founder only when no user exists yet).
    Add {
        /// 3–64 of letters, digits, '.', '_', '-'.
        username: String,
        /// super_admin, admin, member or guest (founder: only on an empty install).
        #[arg(long, default_value = "member")]
        role: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts.
    List,
    /// Set a new password (ends the user's sessions).
    Passwd {
        /// The account.
        username: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an account (ends its sessions), or re-enable it with --enable.
    Disable {
        /// The account.
        username: String,
        /// Re-enable instead.
        #[arg(long)]
        enable: bool,
    },
    /// Change an account's role.
    Role {
        /// The account.
        username: String,
        /// super_admin, admin, member or guest.
        role: String,
    },
}

/// Turns an API validation error into a CLI error with the same message.
fn api(e: selah_server::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.message)
}

async fn open(g: &GlobalArgs) -> anyhow::Result<(Store, selah_core::Config)> {
    let (settings, _) = g.load(&[])?;
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            settings.data_dir.display()
        )
    })?;
    let (store, _) = Store::open(settings.config.database_url.expose(), &settings.data_dir)
        .await
        .context("cannot open the database")?;
    Ok((store, settings.config))
}

async fn find(store: &Store, username: &str) -> anyhow::Result<User> {
    store
        .user_by_name(username)
        .await?
        .with_context(|| format!("no user named {username}"))
}

/// Audits a change to a user made from the command line.
async fn audit(store: &Store, event: &str, action: &str, user: &User, extra: serde_json::Value) {
    let mut details = json!({"username": user.username});
    if let (Some(d), Some(e)) = (details.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    super::record_cli_event(store, event, action, ("user", &user.id), details).await;
}

/// Runs the command.
pub async fn run(g: &GlobalArgs, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let (store, config) = open(g).await?;
    let min_len = config.auth.min_password_len;
    let result = run_on(&store, min_len, cmd).await;
    store.close().await;
    result.map(|()| ExitCode::SUCCESS)
}

async fn new_password(from_stdin: bool, min_len: usize) -> anyhow::Result<String> {
    let password = prompt::password(from_stdin, true)?;
    check_policy(&password, min_len).map_err(api)?;
    hash_password(password).await.map_err(api)
}

async fn run_on(store: &Store, min_len: usize, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            username,
            role,
            password_stdin,
        } => {
            check_username(&username).map_err(api)?;
            let founder = role == Role::Founder.as_str();
            let role = if founder {
                if store.count_users().await? > 0 {
                    bail!("the founder is created once, on an empty install; this one has users");
                }
                Role::Founder
            } else {
                parse_assignable_role(&role).map_err(api)?
            };
            let hash = new_password(password_stdin, min_len).await?;
            let user = if founder {
                store
                    .create_founder(&username, &hash)
                    .await?
                    .context("a user was created meanwhile; the founder already exists")?
            } else {
                match store.create_user(&username, &hash, role).await {
                    Err(selah_store::StoreError::Conflict(_)) => {
                        bail!("a user named {username} already exists")
                    }
                    other => other?,
                }
            };
            let event = if founder {
                "setup.founder_created"
            } else {
                "user.created"
            };
            audit(
                store,
                event,
                "create",
                &user,
                json!({"role": role.as_str()}),
            )
            .await;
            println!("created {} ({})", user.username, role.as_str());
        }
        UserCommand::List => {
            let users = store.list_users().await?;
            println!("{:<24} {:<12} {:<9} CREATED", "USERNAME", "ROLE", "STATUS");
            for u in users {
                let created = chrono_like(u.created_at);
                let status = if u.disabled { "disabled" } else { "active" };
                println!(
                    "{:<24} {:<12} {:<9} {created}",
                    u.username,
                    u.role.as_str(),
                    status
                );
            }
        }
        UserCommand::Passwd {
            username,
            password_stdin,
        } => {
            let user = find(store, &username).await?;
            let hash = new_password(password_stdin, min_len).await?;
            store.set_password(&user.id, &hash).await?;
            audit(store, "user.password_reset", "update", &user, json!({})).await;
            println!(
                "password of {} changed; their sessions ended",
                user.username
            );
        }
        UserCommand::Disable { username, enable } => {
            let user = find(store, &username).await?;
            if user.role == Role::Founder && !enable {
                bail!("the founder's account cannot be disabled");
            }
            store.set_disabled(&user.id, !enable).await?;
            let event = if enable {
                "user.enabled"
            } else {
                "user.disabled"
            };
            audit(store, event, "update", &user, json!({"disabled": !enable})).await;
            let what = if enable { "enabled" } else { "disabled" };
            println!("{} {what}", user.username);
        }
        UserCommand::Role { username, role } => {
            let to = parse_assignable_role(&role).map_err(api)?;
            let user = find(store, &username).await?;
            if user.role == Role::Founder {
                bail!("the founder's role cannot change");
            }
            store.set_role(&user.id, to).await?;
            audit(
                store,
                "user.role_changed",
                "update",
                &user,
                json!({"from": user.role.as_str(), "to": to.as_str()}),
            )
            .await;
            println!("{} is now {}", user.username, to.as_str());
        }
    }
    Ok(())
}

/// `YYYY-MM-DD HH:MM` UTC for a millisecond timestamp.
fn chrono_like(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}
