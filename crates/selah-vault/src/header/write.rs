//! Encodes stanzas into the canonical age v1 header text and appends the MAC line.

use age_core::format::{Stanza, is_arbitrary_string};
use base64::Engine;
use base64::prelude::BASE64_STANDARD_NO_PAD;

use super::VERSION_LINE;
use crate::error::{Error, Result};

/// Returns the header bytes and the length of the MAC's input. `mac` is given the header
/// up to and including `---` and returns the 32-byte MAC.
pub(super) fn encode(
    stanzas: &[Stanza],
    mac: impl FnOnce(&[u8]) -> [u8; 32],
) -> Result<(Vec<u8>, usize)> {
    let mut out = Vec::with_capacity(64 + stanzas.len() * 128);
    out.extend_from_slice(VERSION_LINE.as_bytes());
    for stanza in stanzas {
        // A recipient plugin could hand us anything; never write a header we would reject.
        if !is_arbitrary_string(&stanza.tag) || !stanza.args.iter().all(is_arbitrary_string) {
            return Err(Error::Recipients(format!(
                "invalid stanza from recipient '{}'",
                stanza.tag
            )));
        }
        out.extend_from_slice(b"-> ");
        out.extend_from_slice(stanza.tag.as_bytes());
        for arg in &stanza.args {
            out.push(b' ');
            out.extend_from_slice(arg.as_bytes());
        }
        out.push(b'\n');
        let body = BASE64_STANDARD_NO_PAD.encode(&stanza.body);
        // Full 64-column lines, then always a shorter final line (empty when the
        // encoding is a multiple of 64), which is how a reader knows the body ended.
        for line in body.as_bytes().chunks(64) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
        if body.len() % 64 == 0 {
            out.push(b'\n');
        }
    }
    out.extend_from_slice(b"---");
    let mac_input_len = out.len();
    let tag = mac(&out);
    out.push(b' ');
    out.extend_from_slice(BASE64_STANDARD_NO_PAD.encode(tag).as_bytes());
    out.push(b'\n');
    Ok((out, mac_input_len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::Header;

    fn stanza(body_len: usize) -> Stanza {
        Stanza {
            tag: "t".into(),
            args: vec!["a".into()],
            body: vec![7; body_len],
        }
    }

    #[test]
    fn bodies_of_every_wrapping_shape_round_trip() {
        // 48 bytes encode to exactly 64 columns, 96 to 128: both need an empty final line.
        for len in [0, 1, 32, 47, 48, 49, 95, 96, 97] {
            let (bytes, _) = encode(&[stanza(len)], |_| [1; 32]).unwrap();
            let parsed = Header::parse(&bytes).unwrap_or_else(|e| panic!("{len}: {e}"));
            assert_eq!(parsed.stanzas()[0].body.len(), len);
            assert_eq!(parsed.len(), bytes.len());
        }
    }

    #[test]
    fn refuses_to_write_invalid_stanza_fields() {
        let bad = Stanza {
            tag: "has space".into(),
            args: vec![],
            body: vec![],
        };
        assert!(encode(&[bad], |_| [0; 32]).is_err());
        let bad = Stanza {
            tag: "t".into(),
            args: vec![String::new()],
            body: vec![],
        };
        assert!(encode(&[bad], |_| [0; 32]).is_err());
    }
}
