//! Stable, machine-readable error codes shared by every layer. The HTTP layer maps each to a
//! status; the message shown to the user is kept apart from any detail that goes to the log.

use serde::Serialize;
use utoipa::ToSchema;

/// A stable error code (`"invalid_credentials"`). Clients may match on these; they never change
/// meaning once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request body or parameters are malformed.
    BadRequest,
    /// A field failed validation.
    Validation,
    /// No valid session or token.
    Unauthenticated,
    /// Login failed (unknown user and wrong password look the same).
    InvalidCredentials,
    /// Authenticated but not allowed.
    Forbidden,
    /// A cookie-authenticated change came without the CSRF token.
    CsrfMissing,
    /// The action needs the founder's password again.
    StepUpRequired,
    /// No such resource in the caller's scope.
    NotFound,
    /// The path exists but does not accept this HTTP method.
    MethodNotAllowed,
    /// The resource already exists or the state forbids the change.
    Conflict,
    /// The request body is too large.
    PayloadTooLarge,
    /// The body's type (or an uploaded file's format) is not one this route takes.
    UnsupportedMediaType,
    /// A precondition of the protocol failed (an unsupported `Tus-Resumable` version).
    PreconditionFailed,
    /// The bytes received do not have the checksum the client gave (tus: 460).
    ChecksumMismatch,
    /// Too many requests; see `Retry-After`.
    RateLimited,
    /// The account is disabled.
    AccountDisabled,
    /// A component is overloaded or down; try again later.
    Unavailable,
    /// Something failed inside Selah; the log has the detail.
    Internal,
}

impl ErrorCode {
    /// The code as sent to clients.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Validation => "validation",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::CsrfMissing => "csrf_missing",
            ErrorCode::StepUpRequired => "step_up_required",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::PreconditionFailed => "precondition_failed",
            ErrorCode::ChecksumMismatch => "checksum_mismatch",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::AccountDisabled => "account_disabled",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}
