//! The one error type of the protocol crate. Every variant is data a caller can act on;
//! none carries secret material or personal data.

use thiserror::Error;

/// Everything that can be wrong with protocol input. Verification failures are
/// deliberately coarse (an attacker learns nothing from which check failed), while
/// format errors say exactly which field is wrong so that implementers can fix them.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// A field is not in the encoding the protocol requires.
    #[error("malformed {field}: {reason}")]
    Malformed {
        /// Which field (a JSON path or header name).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The input is larger than the protocol allows.
    #[error("{what} is {actual} bytes, the limit is {limit}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        actual: usize,
        /// The limit from PROTOCOL.md.
        limit: usize,
    },
    /// The envelope's `payloadType` is not the one expected here.
    #[error("payload type {found:?} where {expected:?} was expected")]
    WrongPayloadType {
        /// The type this verifier accepts.
        expected: &'static str,
        /// The type found in the envelope.
        found: String,
    },
    /// The signature does not verify with the key it was checked against.
    #[error("signature does not verify")]
    BadSignature,
    /// The signature names another key than the one it was checked against, or the
    /// signed content names another signer than the one whose key verified it.
    #[error("key id {found:?} where {expected:?} was expected")]
    WrongKeyId {
        /// The key id the verifier expected.
        expected: String,
        /// The key id found.
        found: String,
    },
    /// The content parsed but breaks a rule of the record model.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// Which rule it breaks.
        reason: String,
    },
    /// Decryption failed: wrong key, wrong associated data, or altered ciphertext.
    #[error("decryption failed")]
    DecryptionFailed,
    /// An attachment stream ended before its final chunk.
    #[error("attachment ciphertext is truncated")]
    Truncated,
    /// A request signature is outside its validity window.
    #[error("request signature created at {created} is outside the window around {now}")]
    Stale {
        /// The signature's `created` parameter (UNIX seconds).
        created: i64,
        /// The verifier's clock (UNIX seconds).
        now: i64,
    },
    /// A content digest does not match the body.
    #[error("content digest does not match the body")]
    DigestMismatch,
    /// Sealing failed inside the HPKE library (an invalid public key).
    #[error("sealing failed: {0}")]
    Seal(String),
}

impl ProtocolError {
    pub(crate) fn malformed(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Malformed {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
