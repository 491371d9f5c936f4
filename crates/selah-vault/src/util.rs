//! Small I/O helpers shared by the modules.

use std::io::{self, Read};

/// Reads until `buf` is full or the input ends; returns the bytes read. Unlike
/// `read_exact`, a short input is not an error: the caller decides what it means.
pub(crate) fn read_full<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
