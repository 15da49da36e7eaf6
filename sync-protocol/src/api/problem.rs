//! RFC 9457 Problem Details and the protocol's problem codes (PROTOCOL.md §6).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Machine-readable problem codes (the last segment of a problem's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemCode {
    /// The request is not what the endpoint accepts (JSON shape, headers).
    MalformedRequest,
    /// `Fieldkit-Protocol` is missing or not supported.
    UnsupportedProtocolVersion,
    /// The request signature is missing, malformed or does not verify.
    BadRequestSignature,
    /// `created` is outside the window; `server_time` tells the kit the offset.
    ClockSkew,
    /// The nonce was already used.
    Replay,
    /// The kit is not known.
    UnknownKit,
    /// The kit is revoked.
    KitRevoked,
    /// The kit is quarantined after a fork.
    KitQuarantined,
    /// The enrolment code is unknown, expired or used.
    EnrolmentCodeInvalid,
    /// A record envelope's signature does not verify.
    BadRecordSignature,
    /// A record breaks a rule of the record model.
    InvalidRecord,
    /// The record names an authority, service or form the backend does not know.
    UnknownRouting,
    /// Different bytes for a record id or seq already held.
    Conflict,
    /// A body or upload is larger than allowed.
    TooLarge,
    /// The upload offset does not match the server's.
    OffsetMismatch,
    /// `Upload-Checksum` does not match the chunk.
    ChecksumMismatch,
    /// The completed upload does not hash to the manifest's ciphertext hash.
    AttachmentHashMismatch,
    /// The upload is not in a delivered record's manifest.
    UnknownAttachment,
    /// The resource does not exist.
    NotFound,
    /// Too many requests; honour `Retry-After`.
    RateLimited,
    /// The server failed; retry with backoff.
    Internal,
    /// The server is shutting down or overloaded; retry with backoff.
    Unavailable,
    /// The request (headers or body) did not arrive within the server's time limits;
    /// retry with backoff.
    RequestTimeout,
    /// The kit is over one of its quotas (records per day, bytes of pending uploads);
    /// nothing was rejected: retry after `Retry-After`, and tell IT staff if it lasts.
    QuotaExceeded,
    /// A code this build does not know (sent by a newer backend). Read so that one new
    /// code never makes a whole response unreadable; treated as not retryable unless the
    /// problem's own `retryable` says otherwise.
    #[serde(other)]
    Unknown,
}

impl ProblemCode {
    /// Whether a client may retry the same request later.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            Self::ClockSkew
                | Self::RateLimited
                | Self::Internal
                | Self::Unavailable
                | Self::RequestTimeout
                | Self::QuotaExceeded
                | Self::OffsetMismatch
                | Self::ChecksumMismatch
        )
    }
}

/// An RFC 9457 Problem Details body (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// `urn:fieldkit:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A short, fixed English summary of the code.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong in this case; never personal data or secrets.
    pub detail: String,
    /// The code, for programs.
    pub code: ProblemCode,
    /// Whether retrying the same request can succeed.
    pub retryable: bool,
    /// For gaps: the first seq the server is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend_from: Option<u64>,
    /// For clock problems: the server's clock.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::time::opt"
    )]
    pub server_time: Option<DateTime<Utc>>,
    /// For version problems: the versions the server accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported: Option<Vec<u32>>,
}

impl Problem {
    /// A problem with the standard type URI and retry flag for `code`.
    pub fn new(code: ProblemCode, status: u16, title: &str, detail: impl Into<String>) -> Self {
        let slug = serde_json::to_value(code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Self {
            type_uri: format!("urn:fieldkit:problem:{slug}"),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            code,
            retryable: code.retryable(),
            resend_from: None,
            server_time: None,
            supported: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_type_uri_carries_the_kebab_case_code() {
        let p = Problem::new(
            ProblemCode::ClockSkew,
            401,
            "Clock skew",
            "created is 400 s old",
        );
        assert_eq!(p.type_uri, "urn:fieldkit:problem:clock-skew");
        assert!(p.retryable);
        let json = serde_json::to_value(&p).expect("serializes");
        assert_eq!(json["type"], "urn:fieldkit:problem:clock-skew");
        assert!(json.get("resend_from").is_none());
    }
}
