//! Throughput and peak memory of selah-vault's STREAM writer and reader against the `age`
//! crate's own, on a plaintext generated on the fly (1 GiB by default).
//!
//! ```text
//! cargo run --release --example vault_bench [-- SIZE_MIB]
//! ```
//!
//! Decryption needs a ciphertext, so one is written to a temporary file (deleted after).
//! Peak RSS is the kernel's VmHWM, reset before each case through /proc/self/clear_refs.
//! `bench/vault/run.sh` also uses the `file-encrypt` and `file-decrypt` modes to
//! compare with the `age` command on a real file.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::str::FromStr;
use std::time::Instant;

use age::x25519;
use selah_vault::{Options, StreamWriter};

const MIB: u64 = 1 << 20;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("file-encrypt") if args.len() == 4 => file_encrypt(&args[1], &args[2], &args[3]),
        Some("file-decrypt") if args.len() == 4 => file_decrypt(&args[1], &args[2], &args[3]),
        None => in_process(1024),
        Some(size) if size.parse::<u64>().is_ok() => in_process(size.parse().unwrap()),
        _ => {
            eprintln!(
                "usage: vault_bench [SIZE_MIB] | file-encrypt IN OUT RECIPIENT | file-decrypt IN OUT KEYFILE"
            );
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("vault_bench: {e}");
        std::process::exit(1);
    }
}

/// A deterministic plaintext of `left` bytes, served from one 1 MiB block.
struct Pattern {
    block: Vec<u8>,
    left: u64,
}

impl Pattern {
    fn new(len: u64) -> Pattern {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let block = (0..MIB)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        Pattern { block, left: len }
    }

    /// Writes the whole plaintext in 1 MiB writes.
    fn write_to(mut self, w: &mut impl Write) -> io::Result<()> {
        while self.left > 0 {
            let n = self.left.min(MIB) as usize;
            w.write_all(&self.block[..n])?;
            self.left -= n as u64;
        }
        Ok(())
    }
}

impl Read for Pattern {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.block.len()).min(self.left as usize);
        buf[..n].copy_from_slice(&self.block[..n]);
        self.left -= n as u64;
        Ok(n)
    }
}

fn reset_peak_rss() {
    // "5" resets the peak RSS (VmHWM) of this process (Linux 4.0+).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    kib / 1024.0
}

/// Runs one case and prints its throughput and peak RSS.
fn measure(name: &str, bytes: u64, f: impl FnOnce() -> io::Result<()>) -> io::Result<f64> {
    reset_peak_rss();
    let start = Instant::now();
    f()?;
    let secs = start.elapsed().as_secs_f64();
    let rate = bytes as f64 / MIB as f64 / secs;
    println!(
        "{name:<48} {rate:>8.0} MiB/s  {secs:>6.2} s  peak RSS {:>6.1} MiB",
        peak_rss_mib()
    );
    Ok(rate)
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

fn in_process(size_mib: u64) -> io::Result<()> {
    let size = size_mib * MIB;
    let id = x25519::Identity::generate();
    let recipient = id.to_public();
    let key = selah_vault::header::new_file_key();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "plaintext {size_mib} MiB generated on the fly; {cores} core(s); output to io::sink unless noted"
    );

    let ours = measure(
        "encrypt: selah StreamWriter (default, 2 threads)",
        size,
        || {
            let mut w = StreamWriter::new(io::sink(), &key, Options::default())?;
            Pattern::new(size).write_to(&mut w)?;
            w.finish().map(drop)
        },
    )?;
    measure("encrypt: selah StreamWriter (1 thread)", size, || {
        let mut w = StreamWriter::new(
            io::sink(),
            &key,
            Options {
                threads: 1,
                ..Options::default()
            },
        )?;
        Pattern::new(size).write_to(&mut w)?;
        w.finish().map(drop)
    })?;
    let theirs = measure("encrypt: age crate Encryptor", size, || {
        let e = age::Encryptor::with_recipients(std::iter::once(&recipient as _)).map_err(other)?;
        let mut w = e.wrap_output(io::sink())?;
        Pattern::new(size).write_to(&mut w)?;
        w.finish().map(drop)
    })?;
    println!(
        "{:<48} {:>8.2}x",
        "encrypt speed-up over the age crate",
        ours / theirs
    );
    measure("encrypt: selah encrypt() (header + SHA-256)", size, || {
        selah_vault::encrypt(Pattern::new(size), io::sink(), &[&recipient])
            .map(drop)
            .map_err(other)
    })?;

    let dir = tempfile_dir()?;
    let path = dir.join("bench.age");
    measure("encrypt: selah encrypt() to a file in /tmp", size, || {
        let file = BufWriter::new(File::create(&path)?);
        selah_vault::encrypt(Pattern::new(size), file, &[&recipient])
            .map(drop)
            .map_err(other)
    })?;
    let ours = measure(
        "decrypt: selah StreamReader (default, 2 threads)",
        size,
        || {
            let mut r = selah_vault::decryptor(File::open(&path)?, &[&id], Options::default())
                .map_err(other)?;
            io::copy(&mut r, &mut io::sink()).map(drop)
        },
    )?;
    measure("decrypt: selah StreamReader (1 thread)", size, || {
        let options = Options {
            threads: 1,
            ..Options::default()
        };
        let mut r = selah_vault::decryptor(File::open(&path)?, &[&id], options).map_err(other)?;
        io::copy(&mut r, &mut io::sink()).map(drop)
    })?;
    let theirs = measure("decrypt: age crate Decryptor", size, || {
        let d = age::Decryptor::new_buffered(BufReader::new(File::open(&path)?)).map_err(other)?;
        let mut r = d.decrypt(std::iter::once(&id as _)).map_err(other)?;
        io::copy(&mut r, &mut io::sink()).map(drop)
    })?;
    println!(
        "{:<48} {:>8.2}x",
        "decrypt speed-up over the age crate",
        ours / theirs
    );
    measure("decrypt: selah decrypt() (SHA-256 too)", size, || {
        selah_vault::decrypt(File::open(&path)?, io::sink(), &[&id])
            .map(drop)
            .map_err(other)
    })?;
    std::fs::remove_dir_all(&dir)
}

fn tempfile_dir() -> io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("selah-vault-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// `file-encrypt IN OUT RECIPIENT`: what `age -r RECIPIENT -o OUT IN` does.
fn file_encrypt(input: &str, output: &str, recipient: &str) -> io::Result<()> {
    let recipient = x25519::Recipient::from_str(recipient).map_err(other)?;
    let size = std::fs::metadata(input)?.len();
    measure("selah file-encrypt", size, || {
        let out = BufWriter::with_capacity(1 << 20, File::create(output)?);
        selah_vault::encrypt(File::open(input)?, out, &[&recipient])
            .map(drop)
            .map_err(other)
    })
    .map(drop)
}

/// `file-decrypt IN OUT KEYFILE`: what `age -d -i KEYFILE -o OUT IN` does.
fn file_decrypt(input: &str, output: &str, key_file: &str) -> io::Result<()> {
    let text = std::fs::read_to_string(key_file)?;
    let secret = text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .ok_or_else(|| other("no key in file"))?;
    let id = x25519::Identity::from_str(secret).map_err(other)?;
    let size = std::fs::metadata(input)?.len();
    measure("selah file-decrypt", size, || {
        let out = BufWriter::with_capacity(1 << 20, File::create(output)?);
        selah_vault::decrypt(File::open(input)?, out, &[&id])
            .map(drop)
            .map_err(other)
    })
    .map(drop)
}
