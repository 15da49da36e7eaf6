//! Errors of the HTTP layer and the ONE place where problem codes become HTTP statuses
//! (PROTOCOL.md §6, "Problem details"). Handlers return [`ApiError`]; per-record
//! problems inside a 200 batch use [`problem`] with the same table.
//!
//! Internal errors are logged with their cause and answered with a fixed detail, so no
//! storage message (which might echo data) reaches a client.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use sync_protocol::api::{Problem, ProblemCode};

use crate::storage::StoreError;

/// The HTTP status and title of each problem code (PROTOCOL.md §6 table).
pub fn status_and_title(code: ProblemCode) -> (u16, &'static str) {
    use ProblemCode as C;
    match code {
        C::MalformedRequest => (400, "Malformed request"),
        C::UnsupportedProtocolVersion => (400, "Unsupported protocol version"),
        C::BadRequestSignature => (401, "Bad request signature"),
        C::ClockSkew => (401, "Clock skew"),
        C::Replay => (401, "Replayed request"),
        C::UnknownKit => (401, "Unknown kit"),
        C::KitRevoked => (403, "Kit revoked"),
        C::KitQuarantined => (403, "Kit quarantined"),
        C::EnrolmentCodeInvalid => (403, "Enrolment code invalid"),
        C::BadRecordSignature => (422, "Bad record signature"),
        C::InvalidRecord => (422, "Invalid record"),
        C::UnknownRouting => (422, "Unknown routing"),
        C::Conflict => (409, "Conflict"),
        C::TooLarge => (413, "Too large"),
        C::OffsetMismatch => (409, "Offset mismatch"),
        C::ChecksumMismatch => (460, "Checksum mismatch"),
        C::AttachmentHashMismatch => (422, "Attachment hash mismatch"),
        C::UnknownAttachment => (404, "Unknown attachment"),
        C::NotFound => (404, "Not found"),
        C::RateLimited => (429, "Rate limited"),
        C::Internal | C::Unknown => (500, "Internal error"),
        C::Unavailable => (503, "Unavailable"),
        C::RequestTimeout => (408, "Request timeout"),
        C::QuotaExceeded => (429, "Quota exceeded"),
    }
}

/// A problem with the standard status and title of its code.
pub fn problem(code: ProblemCode, detail: impl Into<String>) -> Problem {
    let (status, title) = status_and_title(code);
    Problem::new(code, status, title, detail)
}

/// Everything a kit request can fail with. Each variant names its code and status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `unsupported-protocol-version`, with `supported`.
    #[error("Fieldkit-Protocol is missing or not supported")]
    UnsupportedVersion,
    /// 400 `malformed-request`.
    #[error("{0}")]
    Malformed(String),
    /// 412 `malformed-request`: a tus request without `Tus-Resumable: 1.0.0`.
    #[error("Tus-Resumable: 1.0.0 is required")]
    TusVersion,
    /// 415 `malformed-request`: a `PATCH` body of another content type.
    #[error("Content-Type must be application/offset+octet-stream")]
    UnsupportedMediaType,
    /// 405 `malformed-request`: a known path with another method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 413 `too-large`.
    #[error("{0}")]
    TooLarge(String),
    /// 401 `bad-request-signature`.
    #[error("{0}")]
    BadSignature(String),
    /// 401 `clock-skew`, with `server_time`.
    #[error("created is {0} s away from the server clock")]
    ClockSkew(i64),
    /// 401 `replay`.
    #[error("the nonce was already used")]
    Replay,
    /// 401 `unknown-kit`.
    #[error("the keyid names no enrolled kit")]
    UnknownKit,
    /// 403 `kit-revoked`.
    #[error("the kit is revoked")]
    KitRevoked,
    /// 403 `kit-quarantined`.
    #[error("the kit is quarantined after a fork")]
    KitQuarantined,
    /// 403 `enrolment-code-invalid`.
    #[error("the enrolment code is unknown, expired or used")]
    EnrolmentCodeInvalid,
    /// 409 `conflict`.
    #[error("{0}")]
    Conflict(String),
    /// 409 `offset-mismatch`.
    #[error("Upload-Offset {sent} differs from the server's offset {held}")]
    OffsetMismatch {
        /// The offset the kit sent.
        sent: u64,
        /// The offset the server holds.
        held: u64,
    },
    /// 460 `checksum-mismatch`.
    #[error("Upload-Checksum does not match the chunk")]
    ChecksumMismatch,
    /// 422 `attachment-hash-mismatch`.
    #[error("the completed upload does not hash to the manifest's ciphertext_sha256")]
    AttachmentHashMismatch,
    /// 404 `unknown-attachment`.
    #[error("the attachment is not in the manifest of a delivered record of this kit")]
    UnknownAttachment,
    /// 404 `not-found`.
    #[error("{0}")]
    NotFound(String),
    /// 429 `rate-limited`, with `Retry-After` in seconds.
    #[error("too many failed enrolments; retry in {0} s")]
    RateLimited(u64),
    /// 503 `unavailable`.
    #[error("the server is shutting down")]
    Unavailable,
    /// 503 `unavailable`, `Retry-After: 5`: the attachment store failed (unreachable, too
    /// slow, or it answered an error); nothing of the request counts. The cause is
    /// logged, never sent.
    #[error("the attachment storage is unavailable; retry later")]
    StorageUnavailable(String),
    /// 503 `unavailable`: every connection slot is taken; `Retry-After` in seconds.
    #[error("the server is busy; retry in {0} s")]
    Overloaded(u64),
    /// 429 `rate-limited`: the kit already has as many requests in flight as allowed.
    #[error("this kit already has {0} requests in flight; retry shortly")]
    KitBusy(usize),
    /// 408 `request-timeout`: headers or body did not arrive in time.
    #[error("the request did not arrive within the time limit")]
    RequestTimeout,
    /// 429 `quota-exceeded`: nothing was rejected; retry after `retry_after` seconds.
    #[error("{detail}")]
    QuotaExceeded {
        /// Which quota, in words for IT staff.
        detail: String,
        /// Seconds until retrying makes sense.
        retry_after: u64,
    },
    /// 500 `internal`; the cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Self::Unavailable,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl ApiError {
    /// The problem code of this error.
    pub fn code(&self) -> ProblemCode {
        use ProblemCode as C;
        match self {
            Self::UnsupportedVersion => C::UnsupportedProtocolVersion,
            Self::Malformed(_)
            | Self::TusVersion
            | Self::UnsupportedMediaType
            | Self::MethodNotAllowed => C::MalformedRequest,
            Self::TooLarge(_) => C::TooLarge,
            Self::BadSignature(_) => C::BadRequestSignature,
            Self::ClockSkew(_) => C::ClockSkew,
            Self::Replay => C::Replay,
            Self::UnknownKit => C::UnknownKit,
            Self::KitRevoked => C::KitRevoked,
            Self::KitQuarantined => C::KitQuarantined,
            Self::EnrolmentCodeInvalid => C::EnrolmentCodeInvalid,
            Self::Conflict(_) => C::Conflict,
            Self::OffsetMismatch { .. } => C::OffsetMismatch,
            Self::ChecksumMismatch => C::ChecksumMismatch,
            Self::AttachmentHashMismatch => C::AttachmentHashMismatch,
            Self::UnknownAttachment => C::UnknownAttachment,
            Self::NotFound(_) => C::NotFound,
            Self::RateLimited(_) => C::RateLimited,
            Self::Unavailable | Self::StorageUnavailable(_) | Self::Overloaded(_) => C::Unavailable,
            Self::KitBusy(_) => C::RateLimited,
            Self::RequestTimeout => C::RequestTimeout,
            Self::QuotaExceeded { .. } => C::QuotaExceeded,
            Self::Internal(_) => C::Internal,
        }
    }

    /// The HTTP status: the code's status, except for the three tus/HTTP cases that
    /// PROTOCOL.md answers with `malformed-request` under another status.
    pub fn status(&self) -> u16 {
        match self {
            Self::TusVersion => 412,
            Self::UnsupportedMediaType => 415,
            Self::MethodNotAllowed => 405,
            other => status_and_title(other.code()).0,
        }
    }

    /// The problem body.
    pub fn to_problem(&self) -> Problem {
        let (_, title) = status_and_title(self.code());
        let detail = match self {
            Self::Internal(_) => "the server failed; retry later".to_owned(),
            other => other.to_string(),
        };
        let mut p = Problem::new(self.code(), self.status(), title, detail);
        match self {
            Self::UnsupportedVersion => {
                p.supported = Some(sync_protocol::SUPPORTED_PROTOCOL_VERSIONS.to_vec());
            }
            Self::ClockSkew(_) => p.server_time = Some(Utc::now()),
            _ => {}
        }
        p
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(cause) => tracing::error!(error = %cause, "request failed"),
            Self::StorageUnavailable(cause) => {
                tracing::warn!(error = %cause, "attachment storage failed; answered 503");
            }
            _ => {}
        }
        let problem = self.to_problem();
        let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        let retry_after = match self {
            Self::Unavailable | Self::StorageUnavailable(_) => Some(5),
            Self::RateLimited(secs)
            | Self::Overloaded(secs)
            | Self::QuotaExceeded {
                retry_after: secs, ..
            } => Some(secs),
            Self::KitBusy(_) | Self::RequestTimeout => Some(1),
            _ => None,
        };
        if let Some(secs) = retry_after {
            headers.insert(
                axum::http::header::RETRY_AFTER,
                HeaderValue::from(secs.max(1)),
            );
        }
        response.extensions_mut().insert(problem.code);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_reports_the_status_of_its_problem() {
        let all = [
            ApiError::UnsupportedVersion,
            ApiError::Malformed("x".into()),
            ApiError::TusVersion,
            ApiError::UnsupportedMediaType,
            ApiError::TooLarge("x".into()),
            ApiError::ClockSkew(400),
            ApiError::ChecksumMismatch,
            ApiError::RequestTimeout,
            ApiError::Overloaded(2),
            ApiError::KitBusy(4),
            ApiError::QuotaExceeded {
                detail: "x".into(),
                retry_after: 60,
            },
            ApiError::Internal("db exploded: secret".into()),
            ApiError::StorageUnavailable("s3 said secret".into()),
        ];
        for e in all {
            let p = e.to_problem();
            assert_eq!(p.status, e.status());
            assert!(
                !p.detail.contains("secret"),
                "internal causes stay in the log"
            );
        }
        assert_eq!(ApiError::TusVersion.status(), 412);
        assert_eq!(ApiError::ChecksumMismatch.status(), 460);
        assert_eq!(ApiError::RequestTimeout.status(), 408);
        assert_eq!(ApiError::Overloaded(1).status(), 503);
        assert_eq!(ApiError::KitBusy(1).status(), 429);
        assert_eq!(ApiError::StorageUnavailable(String::new()).status(), 503);
        for retryable in [
            ApiError::StorageUnavailable("down".into()),
            ApiError::RequestTimeout,
            ApiError::Overloaded(1),
            ApiError::KitBusy(1),
            ApiError::QuotaExceeded {
                detail: "x".into(),
                retry_after: 1,
            },
        ] {
            assert!(retryable.to_problem().retryable, "{retryable}");
            let response = retryable.into_response();
            assert!(response.headers().contains_key("retry-after"));
        }
        assert!(ApiError::UnsupportedVersion
            .to_problem()
            .supported
            .is_some());
        assert!(ApiError::ClockSkew(1).to_problem().server_time.is_some());
    }
}
