//! `vault encrypt` and `vault decrypt`: standard age files made and opened here, with nothing
//! uploaded or downloaded. A field worker seals a file for a USB stick or an e-mail with the
//! vault key (or to anyone's `age1…` key) and opens what `age -r` made for them, offline once
//! the key is unlocked. The output is written whole or not at all (`output.rs`), so a
//! tampered or truncated file leaves nothing behind.

use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use selah_vault::age::{Identity, Recipient, x25519};
use selah_vault::{EncryptionPlan, Options, VaultIdentity};

use super::api::Api;
use super::download::explain;
use super::keys;
use super::output::{Sink, on_interrupt};
use super::progress::Progress;
use super::source::Counted;

/// The input: a regular file (with its size, for the progress line) or standard input.
enum Input {
    File(File, u64),
    Stdin,
}

impl Input {
    fn open(path: &Path) -> anyhow::Result<Input> {
        if path == Path::new("-") {
            return Ok(Input::Stdin);
        }
        let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            bail!("{} is not a regular file", path.display());
        }
        Ok(Input::File(file, meta.len()))
    }

    fn len(&self) -> u64 {
        match self {
            Input::File(_, len) => *len,
            Input::Stdin => 0,
        }
    }

    fn reader(self) -> Box<dyn Read + Send> {
        match self {
            Input::File(f, _) => Box::new(f),
            Input::Stdin => Box::new(io::stdin()),
        }
    }
}

/// Checks the output path before any work: ciphertext never goes to a terminal, and a
/// directory is not a file.
fn check_output(output: &Path, binary: bool) -> anyhow::Result<()> {
    if output == Path::new("-") {
        if binary && io::stdout().is_terminal() {
            bail!("refusing to write an age file to the terminal; give -o FILE or redirect it");
        }
    } else if output.is_dir() {
        bail!("{} is a directory; give -o a file path", output.display());
    }
    Ok(())
}

/// The caller's unlocked vault identity (cache, environment or prompt), from the server
/// they signed in to.
async fn vault_identity() -> anyhow::Result<Arc<VaultIdentity>> {
    keys::open(&Api::connect(None)?).await
}

/// `vault encrypt INPUT -o OUTPUT [-r age1…]...`: to the given recipients, or without any, to
/// the caller's vault key (taken from the unlocked identity, never from the server's word).
pub async fn encrypt(input: &Path, output: &Path, recipients: &[String]) -> anyhow::Result<()> {
    let mut to: Vec<x25519::Recipient> = recipients
        .iter()
        .map(|r| keys::parse_recipient(r))
        .collect::<anyhow::Result<_>>()?;
    check_output(output, true)?;
    let source = Input::open(input)?;
    if to.is_empty() {
        to.push(vault_identity().await?.recipient());
    }
    transform(
        source,
        (input, output),
        ("encrypting", "encrypted"),
        move |reader, out| {
            let rs: Vec<&dyn Recipient> = to.iter().map(|r| r as &dyn Recipient).collect();
            // A plan writes without hashing the ciphertext: no server will check a SHA-256 here,
            // and on two cores the hash would take time from sealing. The file is written on a
            // thread of its own while the next chunks are sealed.
            let plan =
                EncryptionPlan::new(&rs).map_err(|e| anyhow::anyhow!("cannot encrypt: {e}"))?;
            plan.write_to(reader, out, Options::default())
                .map_err(|e| anyhow::anyhow!("cannot encrypt: {e}"))
        },
    )
    .await
}

/// `vault decrypt INPUT -o OUTPUT [-i KEY_FILE]`: with the caller's vault key, or with the
/// identities in an age key file.
pub async fn decrypt(input: &Path, output: &Path, key_file: Option<&Path>) -> anyhow::Result<()> {
    check_output(output, false)?;
    let source = Input::open(input)?;
    let ids: Vec<x25519::Identity> = match key_file {
        Some(k) => keys::read_identity_file(k)?,
        None => vec![vault_identity().await?.identity().clone()],
    };
    let key_name = key_file.map(|k| k.display().to_string());
    let to_stdout = output == Path::new("-");
    transform(
        source,
        (input, output),
        ("decrypting", "decrypted"),
        move |reader, out| {
            let refs: Vec<&dyn Identity> = ids.iter().map(|i| i as &dyn Identity).collect();
            // No SHA-256 of the ciphertext either (see `encrypt`): the chunks' tags are the
            // check. The plaintext is written on a thread of its own while the next chunks open.
            selah_vault::decrypt_to(reader, out, &refs, Options::default()).map_err(|e| {
                match (e, &key_name) {
                    (selah_vault::Error::NoMatchingIdentity, Some(k)) => anyhow::anyhow!(
                        "the key in {k} cannot open this file: it is not encrypted to it"
                    ),
                    (selah_vault::Error::Header(h), _) => anyhow::anyhow!("not an age file: {h}"),
                    (e, _) => explain(e, !to_stdout),
                }
            })
        },
    )
    .await
}

/// Runs `work` on a blocking thread, from `source` (counted on a progress line) into
/// `output`, which is published only if `work` succeeds; then says what was written.
async fn transform(
    source: Input,
    (input, output): (&Path, &Path),
    (label, done): (&str, &str),
    work: impl FnOnce(&mut (dyn Read + Send), &mut Sink) -> anyhow::Result<u64> + Send + 'static,
) -> anyhow::Result<()> {
    let output_path = output.to_path_buf();
    let progress = Arc::new(Progress::new(label, source.len()));
    let shown = progress.clone();
    on_interrupt();
    let written = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
        let mut reader = Counted {
            inner: source.reader(),
            progress: Some(&shown),
        };
        let mut out = Sink::create(&output_path)?;
        let written = work(&mut reader, &mut out)?;
        out.commit()?;
        Ok(written)
    })
    .await??;
    progress.finish();
    report(input, output, written, done);
    Ok(())
}

/// One line on stderr saying what was written (nothing when the output is stdout).
fn report(input: &Path, output: &Path, plaintext_len: u64, what: &str) {
    if output != Path::new("-") {
        let from: PathBuf = if input == Path::new("-") {
            PathBuf::from("standard input")
        } else {
            input.to_path_buf()
        };
        eprintln!(
            "{} -> {} ({plaintext_len} bytes {what})",
            from.display(),
            output.display()
        );
    }
}
