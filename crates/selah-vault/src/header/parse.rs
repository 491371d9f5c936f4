//! Strict parser for the age v1 text header.
//!
//! The grammar (c2sp.org/age): a version line, one or more stanzas, and a MAC line.
//! Every line ends with a bare LF. A stanza is `-> TAG ARG...` (each field one or more
//! printable ASCII characters, separated by single spaces) followed by its body in
//! canonical unpadded base64, wrapped at 64 columns and always ending with a line shorter
//! than 64 columns (possibly empty). The MAC line is `--- ` and 43 base64 characters.
//!
//! Being strict matters: a lenient parser would accept two encodings of one header, and
//! the header MAC only covers the bytes as written.

use age_core::format::Stanza;
use base64::Engine;
use base64::prelude::BASE64_STANDARD_NO_PAD;

use super::{MAX_HEADER_LEN, VERSION_LINE};
use crate::error::HeaderError;

/// Number of base64 characters of the 32-byte header MAC.
const ENCODED_MAC_LEN: usize = 43;

/// A header as found in the input, before any key is involved.
pub(super) struct Parsed {
    pub stanzas: Vec<Stanza>,
    pub mac: [u8; 32],
    /// Length of the header in bytes, MAC line included: where the payload starts.
    pub len: usize,
    /// Length of the MAC's input: everything up to and including `---`.
    pub mac_input_len: usize,
}

/// Walks the input line by line and remembers line numbers for error messages.
struct Lines<'a> {
    input: &'a [u8],
    pos: usize,
    number: usize,
}

impl<'a> Lines<'a> {
    /// Next line without its LF. `Incomplete` when no LF follows (more input may fix that).
    fn next(&mut self) -> Result<&'a [u8], HeaderError> {
        let rest = &self.input[self.pos..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Err(if self.pos + rest.len() > MAX_HEADER_LEN {
                HeaderError::TooLarge
            } else {
                HeaderError::Incomplete
            });
        };
        self.number += 1;
        self.pos += end + 1;
        if self.pos > MAX_HEADER_LEN {
            return Err(HeaderError::TooLarge);
        }
        let line = &rest[..end];
        if line.last() == Some(&b'\r') {
            return Err(HeaderError::LineEnding { line: self.number });
        }
        Ok(line)
    }
}

/// Parses the header at the start of `input`; bytes after it (the payload) are ignored.
pub(super) fn parse(input: &[u8]) -> Result<Parsed, HeaderError> {
    check_version_prefix(input)?;
    let mut lines = Lines {
        input,
        pos: 0,
        number: 0,
    };
    let version = lines.next()?;
    if version != VERSION_LINE.trim_end().as_bytes() {
        return Err(version_error(version));
    }

    let mut stanzas = Vec::new();
    loop {
        let line_start = lines.pos;
        let line = lines.next()?;
        if let Some(rest) = line.strip_prefix(b"-> ") {
            let (tag, args) = stanza_fields(rest, lines.number)?;
            let body = stanza_body(&mut lines)?;
            stanzas.push(Stanza { tag, args, body });
        } else if line.starts_with(b"---") {
            let mac = mac_line(line, lines.number)?;
            if stanzas.is_empty() {
                return Err(HeaderError::NoStanzas);
            }
            return Ok(Parsed {
                stanzas,
                mac,
                len: lines.pos,
                mac_input_len: line_start + 3,
            });
        } else {
            return Err(HeaderError::StanzaLine { line: lines.number });
        }
    }
}

/// Fails early on input that cannot become an age header, so a reader does not buffer
/// up to the size limit waiting for a line feed that a random file never has.
fn check_version_prefix(input: &[u8]) -> Result<(), HeaderError> {
    const PREFIX: &[u8] = b"age-encryption.org/";
    let n = input.len().min(PREFIX.len());
    if input[..n] != PREFIX[..n] {
        return Err(HeaderError::NotAge);
    }
    Ok(())
}

fn version_error(line: &[u8]) -> HeaderError {
    if line.starts_with(b"age-encryption.org/") {
        HeaderError::UnsupportedVersion
    } else {
        HeaderError::NotAge
    }
}

/// `TAG ARG...` after `-> `: non-empty fields of VCHARs separated by single spaces.
fn stanza_fields(rest: &[u8], line: usize) -> Result<(String, Vec<String>), HeaderError> {
    let mut fields = rest.split(|&b| b == b' ').map(|field| {
        let ok = !field.is_empty() && field.iter().all(|b| (33..=126).contains(b));
        // VCHARs are ASCII, so the conversion cannot fail once `ok` holds.
        ok.then(|| String::from_utf8_lossy(field).into_owned())
            .ok_or(HeaderError::StanzaLine { line })
    });
    let tag = fields.next().ok_or(HeaderError::StanzaLine { line })??;
    let args = fields.collect::<Result<Vec<_>, _>>()?;
    Ok((tag, args))
}

/// Body lines until the first one shorter than 64 columns, decoded.
fn stanza_body(lines: &mut Lines<'_>) -> Result<Vec<u8>, HeaderError> {
    let mut encoded = Vec::new();
    let first_line = lines.number + 1;
    loop {
        let line = lines.next()?;
        if line.len() > 64 {
            return Err(HeaderError::BodyWrapping { line: lines.number });
        }
        if !line.iter().all(|&b| is_base64_char(b)) {
            // Also catches a stanza with no body line at all, whose next line starts
            // with `-> ` or `---`: the spec requires a final short line, even if empty.
            return Err(HeaderError::BodyBase64 { line: lines.number });
        }
        encoded.extend_from_slice(line);
        if line.len() < 64 {
            break;
        }
    }
    // The engine rejects padding and non-zero trailing bits, i.e. non-canonical input.
    BASE64_STANDARD_NO_PAD
        .decode(&encoded)
        .map_err(|_| HeaderError::BodyBase64 { line: first_line })
}

/// `--- ` followed by exactly 43 canonical base64 characters.
fn mac_line(line: &[u8], number: usize) -> Result<[u8; 32], HeaderError> {
    let err = HeaderError::MacLine { line: number };
    let encoded = line.strip_prefix(b"--- ").ok_or(err.clone())?;
    if encoded.len() != ENCODED_MAC_LEN || !encoded.iter().all(|&b| is_base64_char(b)) {
        return Err(err);
    }
    let mut mac = [0u8; 32];
    match BASE64_STANDARD_NO_PAD.decode_slice(encoded, &mut mac) {
        Ok(32) => Ok(mac),
        _ => Err(err),
    }
}

fn is_base64_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &[u8] = b"age-encryption.org/v1\n-> X25519 abc\nAAAA\n--- \
        AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\npayload";

    #[test]
    fn parses_a_minimal_header_and_finds_the_payload() {
        let p = parse(GOOD).unwrap();
        assert_eq!(&GOOD[p.len..], b"payload");
        assert_eq!(p.stanzas.len(), 1);
        assert_eq!(p.stanzas[0].tag, "X25519");
        assert_eq!(p.stanzas[0].args, vec!["abc".to_string()]);
        assert_eq!(p.stanzas[0].body, vec![0, 0, 0]);
        assert_eq!(&GOOD[..p.mac_input_len], &GOOD[..GOOD.len() - 7 - 45]);
    }

    #[test]
    fn every_prefix_is_incomplete_not_wrong() {
        let end = GOOD.len() - "payload".len();
        for n in 0..end {
            assert_eq!(
                parse(&GOOD[..n]).err(),
                Some(HeaderError::Incomplete),
                "{n}"
            );
        }
    }

    #[test]
    fn rejects_malformed_lines() {
        let cases: &[(&[u8], HeaderError)] = &[
            (b"hello world\n", HeaderError::NotAge),
            (b"age-encryption.org/v2\n", HeaderError::UnsupportedVersion),
            (
                b"age-encryption.org/v1\r\n",
                HeaderError::LineEnding { line: 1 },
            ),
            (
                b"age-encryption.org/v1\n->  X\n\n",
                HeaderError::StanzaLine { line: 2 },
            ),
            (
                b"age-encryption.org/v1\n-> X \n\n",
                HeaderError::StanzaLine { line: 2 },
            ),
            (
                b"age-encryption.org/v1\n->\n",
                HeaderError::StanzaLine { line: 2 },
            ),
            (
                b"age-encryption.org/v1\n-> X\nAA==\n",
                HeaderError::BodyBase64 { line: 3 },
            ),
            (
                b"age-encryption.org/v1\n-> X\nAB\n",
                HeaderError::BodyBase64 { line: 3 },
            ),
            (
                b"age-encryption.org/v1\n-> X\n--- x\n",
                HeaderError::BodyBase64 { line: 3 },
            ),
            (
                b"age-encryption.org/v1\n---\n",
                HeaderError::MacLine { line: 2 },
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse(input).err().as_ref(),
                Some(want),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }
}
