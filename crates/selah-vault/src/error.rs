//! Errors of the vault format: one enum for callers, with the header and payload problems
//! split out so a caller (or a test) can tell exactly what was wrong.
//!
//! Messages are meant to be shown to a user as they are. None of them ever contains key
//! material, a passphrase or plaintext.

use std::fmt;
use std::io;

/// Why an age header was rejected while parsing or writing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// The input ended before the `--- ` MAC line.
    Incomplete,
    /// The first line is not `age-encryption.org/v1`.
    NotAge,
    /// The first line names an age version other than v1.
    UnsupportedVersion,
    /// A line does not end with a bare LF (for example it ends with CR LF).
    LineEnding {
        /// 1-based line number.
        line: usize,
    },
    /// A stanza line is not `-> TAG [ARG ...]` with arguments of printable ASCII
    /// separated by single spaces.
    StanzaLine {
        /// 1-based line number.
        line: usize,
    },
    /// A stanza body line is too long, or the body does not end with a line shorter
    /// than 64 columns.
    BodyWrapping {
        /// 1-based line number.
        line: usize,
    },
    /// A stanza body is not canonical, unpadded base64.
    BodyBase64 {
        /// 1-based line number.
        line: usize,
    },
    /// The `--- ` line is missing, malformed, or its MAC is not 43 canonical base64
    /// characters.
    MacLine {
        /// 1-based line number.
        line: usize,
    },
    /// The header has no recipient stanza.
    NoStanzas,
    /// The header is larger than the limit this library accepts.
    TooLarge,
    /// An `scrypt` stanza is not alone in its header (the spec requires that).
    ScryptNotAlone,
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Incomplete => write!(f, "the header ends before its MAC line"),
            Self::NotAge => write!(f, "not an age file (missing 'age-encryption.org/v1')"),
            Self::UnsupportedVersion => write!(f, "unsupported age format version"),
            Self::LineEnding { line } => write!(f, "line {line} does not end with a bare LF"),
            Self::StanzaLine { line } => write!(f, "line {line} is not a valid stanza line"),
            Self::BodyWrapping { line } => {
                write!(f, "stanza body at line {line} is not wrapped at 64 columns")
            }
            Self::BodyBase64 { line } => {
                write!(f, "stanza body at line {line} is not canonical base64")
            }
            Self::MacLine { line } => write!(f, "line {line} is not a valid '--- MAC' line"),
            Self::NoStanzas => write!(f, "the header has no recipient stanza"),
            Self::TooLarge => write!(
                f,
                "the header is larger than {} bytes",
                crate::header::MAX_HEADER_LEN
            ),
            Self::ScryptNotAlone => write!(
                f,
                "a passphrase (scrypt) stanza must be alone in the header"
            ),
        }
    }
}

impl std::error::Error for HeaderError {}

/// Why the encrypted payload (the STREAM after the header) was rejected.
///
/// The reader returns these inside an [`io::Error`] (kind `InvalidData`, or
/// `UnexpectedEof` for a truncated payload); [`StreamError::from_io`] gets them back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamError {
    /// The payload is shorter than its 16-byte nonce.
    ShortNonce,
    /// A chunk did not authenticate: its bytes were changed, chunks were dropped or
    /// reordered, or the payload belongs to another header.
    ChunkAuth {
        /// 0-based index of the chunk.
        index: u64,
    },
    /// The payload ended without a final chunk: the file is truncated.
    Truncated {
        /// How many chunks authenticated before the end.
        chunks: u64,
    },
    /// There are bytes after the final chunk.
    TrailingData,
    /// The final chunk is empty although the plaintext is not (the spec forbids that).
    EmptyLastChunk {
        /// 0-based index of the chunk.
        index: u64,
    },
    /// More chunks than the 88-bit counter can number (unreachable in practice).
    TooLong,
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ShortNonce => write!(f, "payload is shorter than its 16-byte nonce"),
            Self::ChunkAuth { index } => write!(
                f,
                "chunk {index} failed authentication: it was modified, chunks were dropped or \
                 reordered, or the payload belongs to another file"
            ),
            Self::Truncated { chunks } => {
                write!(
                    f,
                    "payload is truncated: no final chunk after {chunks} chunk(s)"
                )
            }
            Self::TrailingData => write!(f, "unexpected data after the final chunk"),
            Self::EmptyLastChunk { index } => {
                write!(f, "final chunk {index} is empty but the payload is not")
            }
            Self::TooLong => write!(f, "payload has more chunks than the format allows"),
        }
    }
}

impl std::error::Error for StreamError {}

impl StreamError {
    /// Wraps the error in an [`io::Error`] of the matching kind.
    pub fn into_io(self) -> io::Error {
        let kind = match self {
            Self::Truncated { .. } | Self::ShortNonce => io::ErrorKind::UnexpectedEof,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, self)
    }

    /// Gets a payload error back out of an [`io::Error`], if it is one.
    pub fn from_io(err: &io::Error) -> Option<&StreamError> {
        err.get_ref().and_then(|e| e.downcast_ref::<StreamError>())
    }
}

/// Any error of this crate.
#[derive(Debug)]
pub enum Error {
    /// The header is malformed.
    Header(HeaderError),
    /// None of the given identities can open the header.
    NoMatchingIdentity,
    /// An identity recognised a stanza but it was invalid (age's own message).
    Stanza(String),
    /// The header MAC does not match: the header was modified.
    HeaderMac,
    /// The payload is damaged, truncated or does not belong to the header.
    Payload(StreamError),
    /// The vault passphrase is wrong.
    WrongPassphrase,
    /// The scrypt work factor of a passphrase file is above the accepted limit.
    ExcessiveWork {
        /// The file's work factor (log2 N).
        required: u8,
    },
    /// The recipients cannot be combined or wrapping failed (age's own message).
    Recipients(String),
    /// A key string could not be parsed.
    InvalidKey(&'static str),
    /// Reading or writing failed.
    Io(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Header(e) => write!(f, "invalid age header: {e}"),
            Self::NoMatchingIdentity => write!(f, "no identity matches any recipient of this file"),
            Self::Stanza(e) => write!(f, "invalid recipient stanza: {e}"),
            Self::HeaderMac => write!(f, "header MAC mismatch: the header was modified"),
            Self::Payload(e) => write!(f, "invalid payload: {e}"),
            Self::WrongPassphrase => write!(f, "wrong vault passphrase"),
            Self::ExcessiveWork { required } => write!(
                f,
                "passphrase work factor 2^{required} is above the accepted limit"
            ),
            Self::Recipients(e) => write!(f, "cannot encrypt to these recipients: {e}"),
            Self::InvalidKey(what) => write!(f, "invalid {what}"),
            Self::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Header(e) => Some(e),
            Self::Payload(e) => Some(e),
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<HeaderError> for Error {
    fn from(e: HeaderError) -> Self {
        Self::Header(e)
    }
}

impl From<StreamError> for Error {
    fn from(e: StreamError) -> Self {
        Self::Payload(e)
    }
}

impl From<io::Error> for Error {
    /// Payload errors travel through `io::Read` as `io::Error`; unwrap them again.
    fn from(e: io::Error) -> Self {
        match StreamError::from_io(&e) {
            Some(s) => Self::Payload(s.clone()),
            None => Self::Io(e),
        }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
