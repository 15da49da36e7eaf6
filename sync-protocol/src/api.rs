//! JSON bodies of the kit-facing HTTP API (PROTOCOL.md §6). Only shapes live here; the
//! backend's HTTP layer maps them to routes and status codes, the kit's sync engine
//! sends and reads them.

use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::chain::ChainAnchor;
use crate::dsse::{self, Envelope};
use crate::ids::{AttachmentId, AuthorityId, KitId, RecordId};
use crate::{b64, ProtocolError};

/// `payloadType` of an enrolment request.
pub const ENROL_PAYLOAD_TYPE: &str = "application/vnd.fieldkit.enrol.v1+json";
/// `payloadType` of a catalog published by the backend.
pub const CATALOG_PAYLOAD_TYPE: &str = "application/vnd.fieldkit.catalog.v1+json";
/// The most envelopes in one `POST /v1/records`.
pub const MAX_BATCH_RECORDS: usize = 100;
/// The largest request body of `POST /v1/records`.
pub const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;
/// The largest `PATCH` body of an upload.
pub const MAX_UPLOAD_CHUNK_BYTES: usize = 4 * 1024 * 1024;
/// The most changes in one page of the changes feed.
pub const MAX_CHANGES_PAGE: u32 = 500;

/// The signed content of an enrolment request: proof that the new kit holds the
/// private key of `kit_public_key`, bound to a one-time code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    /// Protocol version; 1.
    pub v: u32,
    /// The one-time enrolment code IT staff handed out.
    pub code: String,
    /// The kit's new ed25519 public key, base64 (32 bytes).
    pub kit_public_key: String,
    /// A name for the kit as the kit knows it (e.g. its host name).
    pub kit_name: String,
    /// The kit's clock.
    #[serde(with = "crate::time")]
    pub device_time: DateTime<Utc>,
}

impl EnrolRequest {
    /// Signs the request with the new kit key. The envelope's key id is the public key
    /// in lower-case hex, because the kit has no id yet.
    pub fn sign(&self, key: &SigningKey) -> Envelope {
        let payload = serde_json::to_vec(self).unwrap_or_default();
        dsse::sign(
            ENROL_PAYLOAD_TYPE,
            &payload,
            &hex::encode(key.verifying_key().as_bytes()),
            key,
        )
    }

    /// Verifies an enrolment envelope: the key named by the key id must verify it and
    /// be the key the request enrols.
    ///
    /// # Errors
    /// Format errors, [`ProtocolError::BadSignature`] or [`ProtocolError::WrongKeyId`].
    pub fn verify(envelope: &Envelope) -> Result<(Self, VerifyingKey), ProtocolError> {
        let keyid = envelope.claimed_keyid()?;
        let key_bytes = crate::b64::hex32::decode("signatures[0].keyid", keyid)?;
        let key = VerifyingKey::from_bytes(&key_bytes)
            .map_err(|_| ProtocolError::malformed("signatures[0].keyid", "not an ed25519 key"))?;
        let verified = envelope.verify(ENROL_PAYLOAD_TYPE, &key)?;
        let req: Self = serde_json::from_slice(&verified.payload)
            .map_err(|e| ProtocolError::malformed("enrol", e.to_string()))?;
        if b64::decode_array::<32>("kit_public_key", &req.kit_public_key)? != key_bytes {
            return Err(ProtocolError::WrongKeyId {
                expected: keyid.to_owned(),
                found: req.kit_public_key,
            });
        }
        if req.v != crate::PROTOCOL_VERSION || req.kit_name.is_empty() || req.kit_name.len() > 128 {
            return Err(ProtocolError::invalid(
                "enrol",
                "version or kit_name out of range",
            ));
        }
        Ok((req, key))
    }
}

/// A server signing key as published to kits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerKey {
    /// [`crate::receipt::ed25519_key_id`] of the key.
    pub key_id: String,
    /// The ed25519 public key, base64.
    pub public_key: String,
}

impl ServerKey {
    /// Publishes a key.
    pub fn from_key(key: &VerifyingKey) -> Self {
        Self {
            key_id: crate::receipt::ed25519_key_id(key),
            public_key: b64::encode(key.as_bytes()),
        }
    }

    /// Reads a published key, checking that its id is the one derived from it.
    ///
    /// # Errors
    /// [`ProtocolError::Malformed`] for a bad key, [`ProtocolError::WrongKeyId`] for an id
    /// that does not belong to it.
    pub fn to_key(&self) -> Result<VerifyingKey, ProtocolError> {
        let bytes = b64::decode_array::<32>("public_key", &self.public_key)?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| ProtocolError::malformed("public_key", "not an ed25519 key"))?;
        let derived = crate::receipt::ed25519_key_id(&key);
        if derived != self.key_id {
            return Err(ProtocolError::WrongKeyId {
                expected: derived,
                found: self.key_id.clone(),
            });
        }
        Ok(key)
    }
}

/// The `format` of provisioning files (PROTOCOL.md §6.1.1).
pub const PROVISIONING_FORMAT: &str = "fieldkit-provisioning/1";

/// What a kit pins to trust the backend's TLS certificate: either hash may match, so a
/// renewed certificate with the same key keeps working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsPin {
    /// SHA-256 of the leaf certificate's DER SubjectPublicKeyInfo, lower-case hex.
    pub spki_sha256: String,
    /// SHA-256 of the leaf certificate's DER encoding, lower-case hex.
    pub cert_sha256: String,
}

/// The provisioning file IT staff hand out with a kit. Not secret: the one-time
/// enrolment code travels separately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provisioning {
    /// Always [`PROVISIONING_FORMAT`].
    pub format: String,
    /// The public base URL of the backend (scheme and authority).
    pub backend_url: String,
    /// The authority the kit belongs to.
    pub authority_id: AuthorityId,
    /// The name IT staff gave the kit.
    pub kit_name: String,
    /// When the enrolment code expires (timestamp, §1.3).
    pub code_expires_at: String,
    /// The keys that sign receipts and catalogs; the enrolment answer must carry the same.
    pub server_keys: Vec<ServerKey>,
    /// The backend's TLS certificate pin; `null` only for plain HTTP on loopback.
    pub tls_pin: Option<TlsPin>,
}

impl Provisioning {
    /// Parses and checks a provisioning file.
    ///
    /// # Errors
    /// [`ProtocolError::Malformed`] naming what is wrong (another format version, no
    /// or malformed server keys, a bad timestamp).
    pub fn from_json(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let p: Self = serde_json::from_slice(bytes)
            .map_err(|e| ProtocolError::malformed("provisioning", e.to_string()))?;
        if p.format != PROVISIONING_FORMAT {
            return Err(ProtocolError::malformed(
                "provisioning.format",
                format!("{:?} is not {PROVISIONING_FORMAT:?}", p.format),
            ));
        }
        if p.server_keys.is_empty() {
            return Err(ProtocolError::malformed(
                "provisioning.server_keys",
                "no server key",
            ));
        }
        for key in &p.server_keys {
            key.to_key()?;
        }
        if crate::time::parse(&p.code_expires_at).is_none() {
            return Err(ProtocolError::malformed(
                "provisioning.code_expires_at",
                "not a timestamp",
            ));
        }
        Ok(p)
    }
}

/// Response of `POST /v1/enrol`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolResponse {
    /// The id the backend assigned to the kit.
    pub kit_id: KitId,
    /// The authority the kit belongs to.
    pub authority_id: AuthorityId,
    /// The name IT staff gave the kit when provisioning.
    pub kit_name: String,
    /// Keys that sign receipts, catalogs and changes.
    pub server_keys: Vec<ServerKey>,
    /// The server's clock.
    #[serde(with = "crate::time")]
    pub server_time: DateTime<Utc>,
}

/// A kit's standing at the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KitStanding {
    /// May send.
    Active,
    /// A fork was seen; records are refused until IT staff clear it.
    Quarantined,
    /// Revoked; the kit must wipe itself.
    Revoked,
}

/// An attachment of a delivered record that the backend does not fully hold yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingUpload {
    /// The record it belongs to.
    pub record_id: RecordId,
    /// The attachment.
    pub attachment_id: AttachmentId,
    /// Bytes the backend holds; upload resumes here.
    pub offset: u64,
    /// The ciphertext size from the manifest.
    pub length: u64,
}

/// Response of `GET /v1/state`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KitState {
    /// The kit asking.
    pub kit_id: KitId,
    /// Its standing.
    pub standing: KitStanding,
    /// The last record the backend holds from this kit, if any.
    pub head: Option<ChainAnchor>,
    /// Up to 1000 incomplete uploads of delivered records, oldest first.
    pub pending_uploads: Vec<PendingUpload>,
    /// The current catalog version, for the kit to compare with its own.
    pub catalog_version: Option<String>,
    /// Protocol versions the backend accepts.
    pub protocol_versions: Vec<u32>,
    /// The server's clock.
    #[serde(with = "crate::time")]
    pub server_time: DateTime<Utc>,
}

/// Body of `POST /v1/records`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushBatch {
    /// 1 to [`MAX_BATCH_RECORDS`] record envelopes in ascending seq order.
    pub envelopes: Vec<Envelope>,
}

impl PushBatch {
    /// Parses a batch body, enforcing the body limit, the envelope count and the
    /// per-envelope size limit before any signature work.
    ///
    /// # Errors
    /// [`ProtocolError::TooLarge`] or [`ProtocolError::Malformed`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, ProtocolError> {
        if bytes.len() > MAX_BATCH_BYTES {
            return Err(ProtocolError::TooLarge {
                what: "batch",
                actual: bytes.len(),
                limit: MAX_BATCH_BYTES,
            });
        }
        let batch: Self = serde_json::from_slice(bytes)
            .map_err(|e| ProtocolError::malformed("batch", e.to_string()))?;
        if batch.envelopes.is_empty() {
            return Err(ProtocolError::malformed(
                "envelopes",
                "at least one envelope",
            ));
        }
        if batch.envelopes.len() > MAX_BATCH_RECORDS {
            return Err(ProtocolError::TooLarge {
                what: "batch (envelopes)",
                actual: batch.envelopes.len(),
                limit: MAX_BATCH_RECORDS,
            });
        }
        for env in &batch.envelopes {
            let size = env.to_json().len();
            if size > crate::dsse::MAX_ENVELOPE_BYTES {
                return Err(ProtocolError::TooLarge {
                    what: "envelope",
                    actual: size,
                    limit: crate::dsse::MAX_ENVELOPE_BYTES,
                });
            }
        }
        Ok(batch)
    }
}

/// What happened to one envelope of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Stored now; `receipt` is set.
    Accepted,
    /// Stored before; `receipt` is the original one.
    Duplicate,
    /// Not stored: records before it are missing; resend from `resend_from`.
    Gap,
    /// Not stored, never will be: `problem` says why. The kit marks it rejected.
    Rejected,
    /// Not stored: different bytes for a record id or seq the backend already holds
    /// (a fork). Both are kept as evidence and the kit is quarantined.
    Conflict,
}

/// The result for one envelope of a batch, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordResult {
    /// Position in the request's `envelopes`.
    pub index: usize,
    /// The record id, when the envelope verified far enough to have one.
    pub record_id: Option<RecordId>,
    /// What happened.
    pub outcome: Outcome,
    /// For `accepted` and `duplicate`: the signed receipt.
    pub receipt: Option<Envelope>,
    /// For `gap`: the first seq the backend is missing.
    pub resend_from: Option<u64>,
    /// For `rejected` and `conflict`: why.
    pub problem: Option<Problem>,
}

/// Response of `POST /v1/records`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushBatchResponse {
    /// One result per envelope, in request order.
    pub results: Vec<RecordResult>,
    /// The kit's head after the batch.
    pub head: Option<ChainAnchor>,
    /// The server's clock.
    #[serde(with = "crate::time")]
    pub server_time: DateTime<Utc>,
}

/// A case's state in the back office (PROTOCOL.md §6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Stored, nobody has looked at it yet.
    Received,
    /// A reviewer is working on it.
    InReview,
    /// The citizen has to supply something; the comment says what.
    NeedsInformation,
    /// Decided in favour.
    Approved,
    /// Decided against.
    Rejected,
    /// Handed off and closed.
    Completed,
}

/// One entry of the changes feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChangeKind {
    /// A case captured by this kit changed status.
    Status {
        /// The record (the case's original application).
        record_id: RecordId,
        /// The new status.
        status: CaseStatus,
        /// A comment for the clerk; personal data must not be put here by reviewers.
        comment: Option<String>,
    },
    /// A new catalog version is published; fetch `GET /v1/catalog/current`.
    Catalog {
        /// The version.
        version: String,
    },
    /// IT staff revoked this kit: delete all local data now.
    Wipe {
        /// The reason IT staff gave.
        reason: String,
    },
}

/// A change with its feed position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// Position in this kit's feed; strictly increasing.
    pub cursor: u64,
    /// When the change happened (server time).
    #[serde(with = "crate::time")]
    pub at: DateTime<Utc>,
    /// What changed.
    pub change: ChangeKind,
}

/// Response of `GET /v1/changes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangesPage {
    /// Changes with `cursor > after`, ascending, at most `limit`.
    pub changes: Vec<Change>,
    /// The cursor to pass as `after` next time (unchanged when the page is empty).
    pub next_cursor: u64,
    /// Whether more changes are waiting.
    pub more: bool,
}

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

    #[test]
    fn an_enrolment_for_another_key_than_the_signing_one_is_refused() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let other = SigningKey::from_bytes(&[4; 32]);
        let req = EnrolRequest {
            v: 1,
            code: "ABCD-EFGH".into(),
            kit_public_key: b64::encode(other.verifying_key().as_bytes()),
            kit_name: "kit".into(),
            device_time: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
        };
        assert!(matches!(
            EnrolRequest::verify(&req.sign(&key)),
            Err(ProtocolError::WrongKeyId { .. })
        ));
        let good = EnrolRequest {
            kit_public_key: b64::encode(key.verifying_key().as_bytes()),
            ..req
        };
        let (back, vk) = EnrolRequest::verify(&good.sign(&key)).expect("verifies");
        assert_eq!(back, good);
        assert_eq!(vk, key.verifying_key());
    }

    #[test]
    fn provisioning_files_are_checked_before_a_kit_trusts_them() {
        let key = ServerKey::from_key(&SigningKey::from_bytes(&[5; 32]).verifying_key());
        let good = Provisioning {
            format: PROVISIONING_FORMAT.into(),
            backend_url: "https://fieldkit.musterstadt.example".into(),
            authority_id: AuthorityId::parse("gemeinde-musterstadt").expect("id"),
            kit_name: "Bürgerkoffer 1".into(),
            code_expires_at: "2026-11-24T09:00:00.000Z".into(),
            server_keys: vec![key.clone()],
            tls_pin: None,
        };
        let json = |p: &Provisioning| serde_json::to_vec(p).expect("json");
        assert_eq!(
            Provisioning::from_json(&json(&good)).ok(),
            Some(good.clone())
        );
        let bad = [
            Provisioning {
                format: "fieldkit-provisioning/2".into(),
                ..good.clone()
            },
            Provisioning {
                server_keys: vec![],
                ..good.clone()
            },
            Provisioning {
                server_keys: vec![ServerKey {
                    key_id: "0000000000000000".into(),
                    ..key
                }],
                ..good.clone()
            },
            Provisioning {
                code_expires_at: "next week".into(),
                ..good.clone()
            },
        ];
        for p in bad {
            assert!(Provisioning::from_json(&json(&p)).is_err(), "{p:?}");
        }
        let mut extra: serde_json::Value = serde_json::to_value(&good).expect("value");
        extra["enrolment_code"] = "7KQ4-M2XP".into();
        assert!(Provisioning::from_json(&serde_json::to_vec(&extra).expect("json")).is_err());
    }

    #[test]
    fn a_server_key_with_a_foreign_id_is_refused() {
        let key = SigningKey::from_bytes(&[5; 32]).verifying_key();
        let mut published = ServerKey::from_key(&key);
        assert_eq!(published.to_key().ok(), Some(key));
        published.key_id = "0000000000000000".into();
        assert!(published.to_key().is_err());
    }
}
