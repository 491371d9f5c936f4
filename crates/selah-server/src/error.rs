//! The API's one error type. Responses are `{"error":{"code","message"}}` with a stable code
//! and a message meant for people; the underlying detail (SQL, paths, causes) goes to the log
//! only, tagged with the request id, never to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use selah_core::ErrorCode;
use serde::Serialize;
use utoipa::ToSchema;

/// An error returned by a handler or extractor.
#[derive(Debug)]
pub struct ApiError {
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// Message for people; never contains internals.
    pub message: String,
    /// Seconds after which a retry may succeed (sets `Retry-After`).
    pub retry_after: Option<u64>,
}

/// The JSON body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorInner,
}

/// Code and message.
#[derive(Serialize, ToSchema)]
pub struct ErrorInner {
    /// Stable code, e.g. `invalid_credentials`.
    #[schema(value_type = String)]
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400 with a message saying what is wrong with the input.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    /// 422 for a field that failed validation.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Validation, message)
    }

    /// 401.
    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated, "sign in first")
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// 404 (also used for resources outside the caller's scope, so existence does not leak).
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// 409.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    /// 429 or 503 with `Retry-After`.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    /// 500. The detail is logged here and not returned.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(detail = %detail, "internal error");
        Self::new(
            ErrorCode::Internal,
            "something went wrong inside Selah; the server log has the details",
        )
    }

    /// The HTTP status for a code.
    pub fn status(code: ErrorCode) -> StatusCode {
        match code {
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::Validation => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Unauthenticated | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden
            | ErrorCode::CsrfMissing
            | ErrorCode::StepUpRequired
            | ErrorCode::AccountDisabled => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ErrorCode::ChecksumMismatch => {
                StatusCode::from_u16(460).expect("460 is a valid status code")
            }
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorInner {
                code: self.code.as_str(),
                message: self.message,
            },
        };
        let mut res = (Self::status(self.code), axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

impl From<selah_store::StoreError> for ApiError {
    fn from(e: selah_store::StoreError) -> Self {
        match e {
            selah_store::StoreError::Conflict(_) => {
                ApiError::conflict("that conflicts with something that already exists")
            }
            other => ApiError::internal(other),
        }
    }
}

/// Handler result alias.
pub type ApiResult<T> = Result<T, ApiError>;
