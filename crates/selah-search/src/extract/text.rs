//! Plain text: choosing the encoding. UTF-8 (a byte order mark is dropped), UTF-16 with a byte
//! order mark (or with the unmistakable zero-byte pattern of ASCII in UTF-16), and otherwise
//! Windows-1252, the usual encoding of old Western text files, but only when the bytes look like
//! text; anything else is refused rather than stored as mojibake.

use super::{ExtractError, Extracted, normalize::normalize};
use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};
use std::borrow::Cow;

pub(crate) fn extract(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let text = decode(bytes)?;
    Ok(Extracted {
        text: normalize(&text),
        title: None,
    })
}

/// The message for bytes that are no text we know how to read.
pub(crate) const NOT_TEXT: &str = "the file is not valid UTF-8 text and not a known encoding";

/// Decodes a text file's bytes; see the module documentation for the rules.
pub(crate) fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, ExtractError> {
    let encoding = sniff(bytes).ok_or_else(|| ExtractError::Corrupt(NOT_TEXT.into()))?;
    Ok(decode_with(encoding, bytes))
}

/// Decodes with `encoding`, honouring (and dropping) any byte order mark, which wins.
/// Valid UTF-8 is borrowed, not copied.
pub(crate) fn decode_with<'a>(encoding: &'static Encoding, bytes: &'a [u8]) -> Cow<'a, str> {
    encoding.decode(bytes).0
}

/// The encoding of `bytes` if they look like text. Also used on the first bytes of an upload to
/// tell text from binary, so a truncated last character is not held against them.
pub(crate) fn sniff(bytes: &[u8]) -> Option<&'static Encoding> {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return Some(encoding);
    }
    if let Some(encoding) = utf16_without_bom(bytes) {
        return Some(encoding);
    }
    if bytes.contains(&0) {
        return None;
    }
    if is_utf8(bytes) {
        return Some(UTF_8);
    }
    looks_like_windows_1252(bytes).then_some(WINDOWS_1252)
}

/// Valid UTF-8, allowing a character cut at the end of a sample.
fn is_utf8(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && bytes.len() - e.valid_up_to() < 4,
    }
}

/// ASCII text in UTF-16 has a zero in every other byte; binary files do not keep that up.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(4096)];
    let pairs = sample.len() / 2;
    if pairs < 2 {
        return None;
    }
    let zeros_at = |parity: usize| {
        sample
            .chunks_exact(2)
            .filter(|pair| pair[parity] == 0)
            .count()
    };
    let (even, odd) = (zeros_at(0), zeros_at(1));
    if odd * 10 >= pairs * 7 && even * 50 <= pairs {
        Some(UTF_16LE)
    } else if even * 10 >= pairs * 7 && odd * 50 <= pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Windows-1252 text has no NUL, almost no C0 controls other than whitespace and ESC, and none
/// of the five bytes the encoding leaves undefined.
fn looks_like_windows_1252(bytes: &[u8]) -> bool {
    let suspicious = bytes
        .iter()
        .filter(|&&b| {
            matches!(b, 0x00..=0x08 | 0x0e..=0x1a | 0x1c..=0x1f | 0x7f | 0x81 | 0x8d | 0x8f | 0x90 | 0x9d)
        })
        .count();
    // A stray control character in a long file is tolerated; a binary file has them everywhere.
    suspicious * 200 <= bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        extract(bytes).unwrap().text
    }

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(text(b"\xef\xbb\xbfcaf\xc3\xa9\r\n"), "café\n");
        assert_eq!(text("naïve 日本".as_bytes()), "naïve 日本\n");
        assert_eq!(text(b""), "");
    }

    #[test]
    fn utf16_with_bom_and_by_pattern() {
        let le: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain("héllo\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(text(&le), "héllo\n");
        let be: Vec<u8> = [0xfe, 0xff]
            .into_iter()
            .chain("wörld".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(text(&be), "wörld\n");
        let bare: Vec<u8> = "plain ascii text"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(text(&bare), "plain ascii text\n");
    }

    #[test]
    fn windows_1252_fallback() {
        assert_eq!(
            text(b"caf\xe9 \x93quoted\x94 \x80 5"),
            "café “quoted” € 5\n"
        );
    }

    #[test]
    fn binary_is_refused() {
        let err = extract(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x02\x00>\x00").unwrap_err();
        assert!(
            matches!(&err, ExtractError::Corrupt(m) if m == NOT_TEXT),
            "{err:?}"
        );
        let noise: Vec<u8> = (0..2048u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert!(extract(&noise).is_err());
    }

    #[test]
    fn sniff_tolerates_a_cut_character() {
        let head = &"ab€".as_bytes()[..4];
        assert_eq!(sniff(head), Some(UTF_8));
    }
}
