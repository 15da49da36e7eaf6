//! The values the [`super::Store`] takes and returns: authorities and their keys,
//! users, kits and enrolment, catalogs, cases, uploads and fork evidence.

use chrono::{DateTime, Utc};
use fieldkit_catalog::AuthorityKind;
use sync_protocol::api::{CaseStatus, PendingUpload};
use sync_protocol::chain::ChainAnchor;
use sync_protocol::ids::{Ars, AttachmentId, AuthorityId, FormId, KitId, RecordId, Sha256Hash};
use sync_protocol::record::RecordKind;

use crate::keys::SealedAuthorityKey;

/// A new authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuthority {
    /// Its id (slug).
    pub id: AuthorityId,
    /// Official name.
    pub name: String,
    /// Regionalschlüssel; none for federal offices.
    pub ars: Option<Ars>,
    /// Level.
    pub kind: AuthorityKind,
}

/// An authority as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityRow {
    /// Id, name, ARS and kind.
    pub authority: NewAuthority,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// One HPKE key of an authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityKeyRow {
    /// The authority.
    pub authority_id: AuthorityId,
    /// The key.
    pub key: SealedAuthorityKey,
    /// When it stopped being current; `None` for the current key.
    pub retired_at: Option<DateTime<Utc>>,
}

/// A back-office role.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    clap::ValueEnum,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Role {
    /// Works the cases of their authority.
    Reviewer,
    /// Manages users of their authority.
    AuthorityAdmin,
    /// Provisions kits and runs the service.
    ItOperator,
    /// Reads the audit trail.
    Auditor,
}

/// A back-office user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// Login name.
    pub login: String,
    /// The authority they act for.
    pub authority_id: AuthorityId,
    /// Their role.
    pub role: Role,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Disabled users cannot log in.
    pub disabled: bool,
    /// When added.
    pub created_at: DateTime<Utc>,
    /// The password was set by someone else (an admin, the CLI): it only lets the user
    /// set their own.
    pub must_change_password: bool,
}

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

/// A published catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedCatalog {
    /// The catalog's version (`meta.version`).
    pub version: String,
    /// The signed DSSE envelope as JSON, served as is.
    pub envelope_json: Vec<u8>,
    /// Entity tag (quoted) for conditional requests.
    pub etag: String,
    /// When it was published.
    pub published_at: DateTime<Utc>,
}

/// Whether publishing changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishOutcome {
    /// Stored as the new current version, and announced in the changes feed.
    Published,
    /// This exact version and content was published before; nothing changed.
    Unchanged,
}

/// A case in an authority's inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    /// The record.
    pub record_id: RecordId,
    /// The kit that captured it.
    pub kit_id: KitId,
    /// The authority whose inbox it is in.
    pub authority_id: AuthorityId,
    /// The form.
    pub form_id: FormId,
    /// The form version.
    pub form_version: u32,
    /// Application, correction or withdrawal.
    pub kind: RecordKind,
    /// The record it corrects or withdraws.
    pub references: Option<RecordId>,
    /// Current status.
    pub status: CaseStatus,
    /// The receipt's `received_at`.
    pub received_at: DateTime<Utc>,
    /// The receipt's log position.
    pub log_position: u64,
    /// The capturing clerk (from the signed, unsealed record; `None` for cases received
    /// before schema version 3).
    pub clerk_id: Option<String>,
    /// The reviewer (login) the case is assigned to.
    pub assigned_to: Option<String>,
}

/// An attachment as far as uploading it is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRow {
    /// The attachment (and upload) id.
    pub attachment_id: AttachmentId,
    /// A delivered record of the asking kit that lists it.
    pub record_id: RecordId,
    /// `ciphertext_size` from the manifest.
    pub length: u64,
    /// `ciphertext_sha256` from the manifest.
    pub ciphertext_sha256: Sha256Hash,
    /// Whether tus creation happened.
    pub created: bool,
    /// Bytes held.
    pub offset: u64,
    /// Whether the whole file is held and verified.
    pub complete: bool,
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

/// What a reviewer must see about how a case arrived, before working it as usual
/// (PROTOCOL.md §6.3 "Flags").
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[strum(serialize_all = "kebab-case")]
pub enum CaseFlag {
    /// Received from a kit revoked in drain mode; the reason names the revocation.
    RevokedKit,
    /// Received from a kit reported stolen, above its head at revocation: held for a
    /// second person's review.
    Held,
    /// The authority the record was routed to is no longer in the current catalog.
    NeedsRouting,
    /// The kit's authority may not route cases to the record's authority.
    OutsidePolicy,
}

impl CaseFlag {
    /// Whether the way out is forwarding to another authority.
    pub fn forwardable(self) -> bool {
        matches!(self, Self::NeedsRouting | Self::OutsidePolicy)
    }
}

/// A flag raised on a case as it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCaseFlag {
    /// Which.
    pub flag: CaseFlag,
    /// Why, for the reviewer (ids and reasons; never case data).
    pub reason: String,
}

/// A flag of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFlagRow {
    /// Which.
    pub flag: CaseFlag,
    /// Why it was raised.
    pub reason: String,
    /// When.
    pub raised_at: DateTime<Utc>,
    /// How it was resolved, by whom and when; `None` while open.
    pub resolved: Option<FlagResolution>,
}

/// How a flag was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagResolution {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (login).
    pub by: String,
    /// `forwarded:<authority>`, `refused` or `released`.
    pub resolution: String,
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

super::stored_names!(Role, KitStatus, CaseFlag, RevocationMode);
