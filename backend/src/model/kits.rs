//! Kits: their lifecycle state, enrolment, the chain state the sync protocol reports,
//! fork evidence and revocation.

use chrono::{DateTime, Utc};
use sync_protocol::api::{PendingUpload, QueueBlock};
use sync_protocol::chain::ChainAnchor;
use sync_protocol::ids::{AuthorityId, KitId, Sha256Hash};

/// A kit's lifecycle state at the backend.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
    strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum KitStatus {
    /// Provisioned, not yet enrolled.
    Provisioned,
    /// Enrolled and in good standing.
    Active,
    /// A fork was seen.
    Quarantined,
    /// Revoked by IT staff in drain or stolen mode: it may still push what it
    /// finalized, and is wiped when it reports an empty outbox.
    Draining,
    /// Revoked by IT staff; its wipe is queued.
    Revoked,
}

/// A kit as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitRow {
    /// Its id (assigned at provisioning, revealed at enrolment).
    pub kit_id: KitId,
    /// The authority it belongs to.
    pub authority_id: AuthorityId,
    /// The name IT staff gave it.
    pub name: String,
    /// The name the kit reported at enrolment.
    pub reported_name: Option<String>,
    /// Its ed25519 public key, once enrolled.
    pub public_key: Option<[u8; 32]>,
    /// Lifecycle state.
    pub status: KitStatus,
    /// Why it was revoked.
    pub revoked_reason: Option<String>,
    /// When it was provisioned.
    pub created_at: DateTime<Utc>,
    /// When its enrolment code expires.
    pub code_expires_at: DateTime<Utc>,
    /// When it enrolled.
    pub enrolled_at: Option<DateTime<Utc>>,
    /// Its last authenticated request.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// The last record of its chain the backend holds.
    pub head: Option<ChainAnchor>,
    /// What it last reported about its queue (PROTOCOL.md §6.5), if it ever did.
    pub queue: Option<QueueReport>,
}

/// A kit's last report of its queue, sent with every request for its changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct QueueReport {
    /// Finalized records it still has to send.
    pub outbox: u64,
    /// When it reported.
    pub reported_at: DateTime<Utc>,
    /// Where its queue stopped, if it did.
    pub blocked: Option<BlockedQueue>,
}

/// A queue stopped at a record the backend misses and the kit cannot or may not send
/// again: nothing after it reaches the backend until IT staff act (OPERATIONS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BlockedQueue {
    /// Why.
    pub reason: QueueBlock,
    /// The record it stopped at.
    pub seq: u64,
    /// Since when the kit reports this stop (the first report of this reason and seq).
    pub since: DateTime<Utc>,
}

/// A kit to provision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKit {
    /// The id it will get.
    pub kit_id: KitId,
    /// Its authority.
    pub authority_id: AuthorityId,
    /// The name IT staff gave it.
    pub name: String,
    /// SHA-256 of the normalized one-time code (the code itself is never stored).
    pub code_hash: [u8; 32],
    /// When the code expires.
    pub code_expires_at: DateTime<Utc>,
    /// Now.
    pub created_at: DateTime<Utc>,
}

/// What an enrolment attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrolOutcome {
    /// The code was consumed now.
    Enrolled(KitRow),
    /// The code was consumed before by this same public key (idempotent repeat).
    Repeated(KitRow),
    /// Unknown, expired or used by another key.
    CodeInvalid,
    /// The public key is already enrolled for another kit.
    KeyConflict,
}

/// What `GET /v1/state` reports besides the kit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitStateRow {
    /// Incomplete uploads of delivered records, oldest first.
    pub pending_uploads: Vec<PendingUpload>,
    /// The current catalog version.
    pub catalog_version: Option<String>,
}

/// What a kit has used of its quotas (PROTOCOL.md §6.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KitUsage {
    /// Records of the kit received since the given time (any outcome).
    pub records_since: u64,
    /// Ciphertext bytes of the kit's delivered attachments not yet completely uploaded.
    pub pending_upload_bytes: u64,
}

/// A record kept as fork evidence (outside the chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRow {
    /// The kit.
    pub kit_id: KitId,
    /// The contested seq.
    pub seq: u64,
    /// The evidence record's hash.
    pub hash: Sha256Hash,
    /// Its envelope as received.
    pub envelope_json: Vec<u8>,
}

/// How a kit was revoked (PROTOCOL.md §6.5 "Revocation").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::VariantArray,
)]
#[strum(serialize_all = "kebab-case")]
pub enum RevocationMode {
    /// The kit may push what it finalized (flagged `revoked-kit`); the wipe follows
    /// when it reports an empty outbox.
    Drain,
    /// Like drain, but every record pushed after the revocation is `held` for a
    /// second person's review.
    Stolen,
    /// The wipe is queued at once.
    WipeNow,
}

/// A kit's revocation and its last outbox report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitRevocation {
    /// How it was revoked; `None` if it is not revoked (or was before version 5).
    pub mode: Option<RevocationMode>,
    /// Who revoked it.
    pub revoked_by: Option<String>,
    /// Its head seq at revocation.
    pub head_seq_at_revocation: Option<u64>,
    /// Records the kit last reported as undelivered, and when.
    pub outbox: Option<(u64, DateTime<Utc>)>,
}

super::stored_names!(KitStatus, RevocationMode);
