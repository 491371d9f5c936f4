//! Integration tests of the vault format, in one test binary to keep link times down.
//!
//! The `age` CLI tests need the Debian package `age` (and `script` from util-linux to give
//! `age` the terminal it reads passphrases from); they fail, not skip, without them.

mod common;
mod interop;
mod keys;
mod rewrap;
mod roundtrip;
mod tamper;
mod testkit;
