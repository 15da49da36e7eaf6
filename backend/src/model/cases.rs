//! Cases as the back office works them: the case row, its flags, attachments and
//! uploads, its history and the decryption log.

use chrono::{DateTime, Utc};
use sync_protocol::api::CaseStatus;
use sync_protocol::ids::{AttachmentId, AuthorityId, FormId, KitId, RecordId, Sha256Hash};
use sync_protocol::record::RecordKind;

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
    /// The record's position in its kit's chain (with the kit, its case number).
    pub seq: u64,
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

/// What a case-history entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseEventKind {
    /// A workflow transition into the entry's status.
    Status,
    /// An assignment (the status is the case's status at that time).
    Assignment,
    /// A flag was resolved (forwarded, refused, released); the comment says how.
    Flag,
}

/// An attachment of a case as the back office needs it: whether its ciphertext has
/// arrived and verified, and under which content address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttachment {
    /// The attachment.
    pub attachment_id: sync_protocol::ids::AttachmentId,
    /// Uploaded completely and checked against the manifest's ciphertext hash.
    pub complete: bool,
    /// The ciphertext hash the upload was checked against (its file name).
    pub ciphertext_sha256: Sha256Hash,
    /// The ciphertext size.
    pub ciphertext_size: u64,
}

/// What the case view needs besides the case row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseDetail {
    /// The case.
    pub case: CaseRow,
    /// Its position in the kit's chain.
    pub seq: u64,
    /// The record hash.
    pub hash: Sha256Hash,
    /// The signed envelope as received.
    pub envelope_json: Vec<u8>,
    /// The server's signed receipt.
    pub receipt_json: Option<Vec<u8>>,
    /// The capturing kit's public key.
    pub kit_public_key: Option<[u8; 32]>,
    /// The kit's name given by IT staff.
    pub kit_name: String,
}

/// One entry of a case's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEventRow {
    /// The status set.
    pub status: CaseStatus,
    /// The comment given.
    pub comment: Option<String>,
    /// Who (login).
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// A transition or an assignment.
    pub kind: CaseEventKind,
    /// For an assignment: the reviewer assigned (`None`: the assignment was removed).
    pub assigned_to: Option<String>,
}

/// One decryption of a case, logged before its content is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptionEntry {
    /// The case.
    pub record_id: RecordId,
    /// The authority whose key opened it.
    pub authority_id: AuthorityId,
    /// Who (login).
    pub actor: String,
    /// Why (`view`).
    pub purpose: String,
    /// When.
    pub at: DateTime<Utc>,
}

super::stored_names!(CaseFlag);
