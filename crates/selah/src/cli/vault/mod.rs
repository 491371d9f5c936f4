//! `selah vault …`: the end-to-end encrypted vault from the command line (docs/VAULT.md).
//!
//! Everything is encrypted and decrypted here, in the client: the server stores ciphertext,
//! wrapped keys and opaque ids. The server and token come from `selah login` (or
//! `SELAH_URL`/`SELAH_TOKEN`); the vault passphrase from `vault unlock`'s cache, else
//! `SELAH_VAULT_PASSPHRASE`, else a prompt.
//!
//! Files: `api.rs` (HTTP, JSON shapes), `keys.rs` and `cache.rs` (the identity and the
//! unlocked key), `identity.rs` (init, passwd, unlock, lock, export-key), `meta.rs` (encrypted
//! names), `items.rs` (listing and resolving names), `manage.rs` (ls, mkdir, mv, rm, restore),
//! `put.rs`, `source.rs` and `tus.rs` (uploads), `download.rs` (get, export), `share.rs`,
//! `local.rs` (encrypt and decrypt files here, nothing sent), `output.rs` (files written
//! whole or not at all), `progress.rs`.

mod api;
mod cache;
mod download;
mod identity;
mod items;
mod keys;
mod local;
mod manage;
mod meta;
mod output;
mod progress;
mod put;
mod share;
mod source;
mod tus;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};

use api::Api;
use items::Vault;

/// `selah vault` and its flags.
#[derive(Args)]
pub struct VaultArgs {
    /// Work in this team's vault (a team id or name) instead of your personal one.
    #[arg(long = "in-team", global = true, value_name = "TEAM")]
    pub in_team: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: VaultCommand,
}

/// The vault's commands.
#[derive(Subcommand)]
pub enum VaultCommand {
    /// Create your vault: a new key pair whose private half is kept wrapped under a passphrase.
    /// Losing the passphrase loses the vault.
    Init,
    /// Change the vault passphrase (the new one from a prompt or SELAH_VAULT_NEW_PASSPHRASE).
    Passwd,
    /// Check the passphrase and keep the unlocked key in $XDG_RUNTIME_DIR for a while.
    Unlock {
        /// How long: 90s, 15m, 2h, 1d.
        #[arg(long = "for", default_value = "15m", value_parser = identity::parse_duration)]
        duration: Duration,
    },
    /// Forget the unlocked key.
    Lock,
    /// Encrypt and upload a file (or standard input with -).
    Put(put::PutArgs),
    /// Download and decrypt an item (written only if it decrypts completely).
    Get {
        /// The item's name (or folder/name, or id).
        name: String,
        /// Where to write it (default: its name in the current directory; - for stdout).
        #[arg(short, long, value_name = "PATH")]
        output: Option<PathBuf>,
    },
    /// List a folder (default: the top level), or the trash.
    Ls {
        /// The folder.
        folder: Option<String>,
        /// List the trash instead.
        #[arg(long)]
        trash: bool,
        /// Show ids and kinds too.
        #[arg(short, long)]
        long: bool,
    },
    /// Create a folder.
    Mkdir {
        /// Its name.
        name: String,
        /// The folder to create it in (default: the top level).
        #[arg(long)]
        parent: Option<String>,
    },
    /// Rename an item, or move it with --to (or both).
    Mv {
        /// The item.
        name: String,
        /// Its new name.
        new_name: Option<String>,
        /// The folder to move it into (/ for the top level).
        #[arg(long, value_name = "FOLDER")]
        to: Option<String>,
    },
    /// Move an item (a folder with everything in it) to the trash, or delete it with --purge.
    Rm {
        /// The item.
        name: String,
        /// Delete for good, now.
        #[arg(long)]
        purge: bool,
    },
    /// Bring an item back from the trash.
    Restore {
        /// The item, as `ls --trash` names it.
        name: String,
    },
    /// Share an item with users (ids, or usernames of people in your teams) or a team's members.
    Share {
        /// The item.
        name: String,
        /// A user to share with; repeat for more.
        #[arg(long = "user", value_name = "USER", required_unless_present = "team")]
        users: Vec<String>,
        /// Share with every member of this team (id or name) who has a vault.
        #[arg(long, value_name = "TEAM")]
        team: Option<String>,
    },
    /// Stop sharing an item with users; its content is then re-encrypted under a new key.
    Unshare {
        /// The item.
        name: String,
        /// A user to remove; repeat for more.
        #[arg(long = "user", value_name = "USER", required = true)]
        users: Vec<String>,
    },
    /// Write an item's age file (openable with `age -d`), rewrapped to --recipient if given.
    Export {
        /// The item.
        name: String,
        /// The file to write (- for stdout).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// An age public key (age1…) to rewrap the file to (default: your vault key).
        #[arg(long, value_name = "AGE_PUBLIC_KEY")]
        recipient: Option<String>,
    },
    /// Write your vault's private key in age's identity format. Anyone with it reads your vault.
    ExportKey {
        /// The file to write (mode 0600; - for stdout).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Upload an age file made elsewhere (to your vault's public key, or with --identity).
    Import(put::ImportArgs),
    /// Encrypt a file here into a standard age file, to your vault key or to -r keys; nothing
    /// is uploaded (`age -d` opens it).
    Encrypt {
        /// The file to encrypt, or - for standard input.
        input: PathBuf,
        /// The age file to write (- for stdout, never a terminal).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// An age public key (age1…) to encrypt to; repeat for more. Without any, your vault
        /// key (unlocked, or from the passphrase).
        #[arg(short = 'r', long = "recipient", value_name = "AGE_PUBLIC_KEY")]
        recipients: Vec<String>,
    },
    /// Decrypt an age file here with your vault key (or -i); written only if it decrypts
    /// completely. Nothing is downloaded.
    Decrypt {
        /// The age file, or - for standard input.
        input: PathBuf,
        /// Where to write the plaintext (- for stdout).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// An age identity file (as age-keygen makes) to decrypt with instead of your vault key.
        #[arg(short = 'i', long = "identity", value_name = "KEY_FILE")]
        identity: Option<PathBuf>,
    },
}

/// Runs a vault command.
pub async fn run(args: VaultArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        VaultCommand::Lock => identity::lock()?,
        VaultCommand::Encrypt {
            input,
            output,
            recipients,
        } => local::encrypt(input, output, recipients).await?,
        VaultCommand::Decrypt {
            input,
            output,
            identity,
        } => local::decrypt(input, output, identity.as_deref()).await?,
        _ => return run_with_server(args).await,
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a command that works on the server's vault.
async fn run_with_server(args: VaultArgs) -> anyhow::Result<ExitCode> {
    let mut api = Api::connect(None)?;
    if let Some(team) = args.in_team.as_deref().filter(|t| !t.is_empty()) {
        api.team = Some(share::team_id(&api, team).await?);
    }
    match args.command {
        VaultCommand::Init => return identity::init(&api).await.map(|()| ExitCode::SUCCESS),
        VaultCommand::Passwd => return identity::passwd(&api).await.map(|()| ExitCode::SUCCESS),
        VaultCommand::Unlock { duration } => {
            return identity::unlock(&api, duration)
                .await
                .map(|()| ExitCode::SUCCESS);
        }
        VaultCommand::ExportKey { output, force } => {
            return identity::export_key(&api, &output, force)
                .await
                .map(|()| ExitCode::SUCCESS);
        }
        _ => {}
    }
    let vault = Vault::open(api).await?;
    output::on_interrupt();
    match args.command {
        VaultCommand::Put(a) => put::put(&vault, a).await?,
        VaultCommand::Import(a) => put::import(&vault, a).await?,
        VaultCommand::Get { name, output } => {
            download::get(&vault, &name, output.as_deref()).await?
        }
        VaultCommand::Export {
            name,
            output,
            recipient,
        } => download::export(&vault, &name, &output, recipient.as_deref()).await?,
        VaultCommand::Ls {
            folder,
            trash,
            long,
        } => manage::ls(&vault, folder.as_deref(), trash, long).await?,
        VaultCommand::Mkdir { name, parent } => {
            manage::mkdir(&vault, &name, parent.as_deref()).await?
        }
        VaultCommand::Mv { name, new_name, to } => {
            manage::mv(&vault, &name, new_name.as_deref(), to.as_deref()).await?
        }
        VaultCommand::Rm { name, purge } => manage::rm(&vault, &name, purge).await?,
        VaultCommand::Restore { name } => manage::restore(&vault, &name).await?,
        VaultCommand::Share { name, users, team } => {
            share::share(&vault, &name, &users, team.as_deref()).await?
        }
        VaultCommand::Unshare { name, users } => share::unshare(&vault, &name, &users).await?,
        VaultCommand::Init
        | VaultCommand::Passwd
        | VaultCommand::Unlock { .. }
        | VaultCommand::Lock
        | VaultCommand::ExportKey { .. }
        | VaultCommand::Encrypt { .. }
        | VaultCommand::Decrypt { .. } => unreachable!("handled above"),
    }
    Ok(ExitCode::SUCCESS)
}
