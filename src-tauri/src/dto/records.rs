//! The records side of the IPC boundary: what the receipt shows after finalize, the
//! queue's records with their delivery and back-office state, a record's history and
//! files, and the queue's counts.

use serde::Serialize;
use ts_rs::TS;

/// What the receipt shows.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct FinalizedDto {
    /// Record id.
    pub record_id: String,
    /// Chain position.
    #[ts(type = "number")]
    pub seq: u64,
    /// Case number to read out.
    pub case_number: String,
    /// Code for the citizen's receipt.
    pub verification_code: String,
    /// Service.
    pub service_id: String,
    /// Authority that will handle it.
    pub authority_id: String,
    /// Visit date.
    pub visit_date: String,
    /// Whom it is for, if the form names a person.
    pub display_label: Option<String>,
}

impl From<kit_core::Finalized> for FinalizedDto {
    fn from(f: kit_core::Finalized) -> Self {
        Self {
            record_id: f.record_id,
            seq: f.seq,
            case_number: f.case_number,
            verification_code: f.verification_code,
            service_id: f.service_id,
            authority_id: f.authority_id,
            visit_date: f.visit_date,
            display_label: f.display_label,
        }
    }
}

/// A finalized record in the queue.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct RecordDto {
    /// Chain position.
    #[ts(type = "number")]
    pub seq: u64,
    /// Record id.
    pub record_id: String,
    /// Case number.
    pub case_number: String,
    /// Verification code.
    pub verification_code: String,
    /// Service.
    pub service_id: String,
    /// `application`, `correction` or `withdrawal`.
    pub kind: String,
    /// Handling authority.
    pub authority_id: String,
    /// Visit date.
    pub visit_date: String,
    /// Capturing clerk.
    pub clerk_id: String,
    /// Finalized (device time, RFC 3339).
    pub finalized_at: String,
    /// `pending`, `delivered`, `complete`, `rejected` or `purged`.
    pub state: String,
    /// Server time of receipt.
    pub received_at: Option<String>,
    /// Why the backend refused it.
    pub rejection: Option<String>,
    /// The back office's latest status.
    pub case_status: Option<String>,
    /// The back office's latest comment.
    pub case_comment: Option<String>,
    /// Whom it is for ("Hildegard Schulze (+1)"); kept on the kit until the record is
    /// purged.
    pub display_label: Option<String>,
}

impl From<kit_core::RecordSummary> for RecordDto {
    fn from(r: kit_core::RecordSummary) -> Self {
        Self {
            seq: r.seq,
            record_id: r.record_id,
            case_number: r.case_number,
            verification_code: r.verification_code,
            service_id: r.service_id,
            kind: r.kind,
            authority_id: r.authority_id,
            visit_date: r.visit_date,
            clerk_id: r.clerk_id,
            finalized_at: r.finalized_at,
            state: r.state.as_str().to_owned(),
            received_at: r.received_at,
            rejection: r.rejection,
            case_status: r.case_status,
            case_comment: r.case_comment,
            display_label: r.display_label,
        }
    }
}

/// A status change from the back office.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CaseUpdateDto {
    /// The status.
    pub status: String,
    /// The reviewer's comment.
    pub comment: Option<String>,
    /// When (server time).
    pub at: String,
}

/// A record's file and whether the backend holds it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct RecordAttachmentDto {
    /// Attachment id.
    pub attachment_id: String,
    /// The catalog's attachment id.
    pub spec_id: String,
    /// Encrypted size.
    #[ts(type = "number")]
    pub size: u64,
    /// The backend holds all of it.
    pub uploaded: bool,
}

/// One record with its history.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct RecordDetailDto {
    /// The record.
    pub record: RecordDto,
    /// Status changes, oldest first.
    pub history: Vec<CaseUpdateDto>,
    /// Its files.
    pub attachments: Vec<RecordAttachmentDto>,
}

/// The queue in numbers.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct QueueStatusDto {
    /// Open drafts.
    #[ts(type = "number")]
    pub drafts: u64,
    /// Waiting to be sent.
    #[ts(type = "number")]
    pub pending: u64,
    /// Delivered, files still uploading.
    #[ts(type = "number")]
    pub delivered: u64,
    /// Delivered with every file.
    #[ts(type = "number")]
    pub complete: u64,
    /// Refused by the backend.
    #[ts(type = "number")]
    pub rejected: u64,
    /// Last successful sync (server time).
    pub last_sync: Option<String>,
    /// Kit clock minus server clock at the last sync.
    #[ts(type = "number | null")]
    pub clock_skew_secs: Option<i64>,
    /// Whether the backend answers, and what sync is doing.
    pub connectivity: crate::events::ConnectivityDto,
}

impl From<kit_core::Status> for QueueStatusDto {
    fn from(s: kit_core::Status) -> Self {
        Self {
            drafts: s.drafts,
            pending: s.pending,
            delivered: s.delivered,
            complete: s.complete,
            rejected: s.rejected,
            last_sync: s.last_sync,
            clock_skew_secs: s.clock_skew_secs,
            connectivity: crate::events::ConnectivityDto::default(),
        }
    }
}
