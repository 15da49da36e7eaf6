//! JSON bodies of the kit-facing HTTP API (PROTOCOL.md §6). Only shapes live here; the
//! backend's HTTP layer maps them to routes and status codes, the kit's sync engine
//! sends and reads them. Enrolment and provisioning are in `enrolment.rs`, Problem
//! Details in `problem.rs`; everything is re-exported here.

mod enrolment;
mod problem;

pub use enrolment::*;
pub use problem::*;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::chain::ChainAnchor;
use crate::dsse::Envelope;
use crate::ids::{AttachmentId, KitId, RecordId};
use crate::ProtocolError;
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

/// Why a kit's queue stopped at one of its records, as the kit reports it with its
/// outbox on the changes feed (PROTOCOL.md §6.5 `blocked`): the backend misses a record
/// the kit cannot or may not send again, so nothing after it is sent until IT staff act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueBlock {
    /// The kit holds the missing record as rejected or in conflict.
    ChainBroken,
    /// The kit already purged the missing record (e.g. after a backend restore from an
    /// old backup): only its held-records file can bridge the gap.
    CannotResend,
    /// The backend issued a receipt for the record and now refuses it again.
    ResentRecordRefused,
}

impl QueueBlock {
    /// Every reason, in the order PROTOCOL.md lists them.
    pub const ALL: [Self; 3] = [
        Self::ChainBroken,
        Self::CannotResend,
        Self::ResentRecordRefused,
    ];

    /// The reason's name as it travels (`chain_broken`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ChainBroken => "chain_broken",
            Self::CannotResend => "cannot_resend",
            Self::ResentRecordRefused => "resent_record_refused",
        }
    }

    /// The reason a name stands for, if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
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
    /// Protocol version 2: the backend rotated its signing key. Signed by the key it
    /// replaces; the kit trusts `key` from now on and `replaces` until `overlap_until`.
    ServerKey {
        /// The new key.
        key: ServerKey,
        /// The key id of the key it replaces (the one that signed this change).
        replaces: String,
        /// When the replaced key stops being trusted.
        #[serde(with = "crate::time")]
        overlap_until: DateTime<Utc>,
    },
    /// Protocol version 2: the backend will present a new TLS certificate. The kit
    /// trusts `pin` from now on and the pins it trusted before until `overlap_until`.
    TlsPin {
        /// The new certificate's pin.
        pin: TlsPin,
        /// When the pins trusted before stop being trusted.
        #[serde(with = "crate::time")]
        overlap_until: DateTime<Utc>,
    },
}

impl ChangeKind {
    /// Whether a kit of protocol version 1 knows this kind and may be sent it unsigned
    /// (PROTOCOL.md §6.5: `status` and `catalog` only).
    pub fn known_to_v1(&self) -> bool {
        matches!(self, Self::Status { .. } | Self::Catalog { .. })
    }
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
