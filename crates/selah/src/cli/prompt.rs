//! Reading secrets for commands: from standard input (`--password-stdin`, for scripts) or from
//! a no-echo prompt, typed twice when it sets a new password.

use std::io::BufRead;

use anyhow::Context;

/// Reads one line from standard input, without its line ending.
pub fn stdin_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// A password: the first line of standard input, or a no-echo prompt (twice when `confirm`).
pub fn password(from_stdin: bool, confirm: bool) -> anyhow::Result<String> {
    if from_stdin {
        let p = stdin_line()?;
        anyhow::ensure!(!p.is_empty(), "no password on standard input");
        return Ok(p);
    }
    let first = rpassword::prompt_password("Password: ")
        .context("cannot prompt for a password (no terminal?); use --password-stdin")?;
    if confirm {
        let again = rpassword::prompt_password("Password again: ")
            .context("cannot prompt for a password; use --password-stdin")?;
        anyhow::ensure!(first == again, "the two passwords differ");
    }
    Ok(first)
}
