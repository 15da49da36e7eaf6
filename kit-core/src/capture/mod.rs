//! Capture: drafts (saved as often as the UI likes), attachments (encrypted the moment
//! they are imported, hashed while streaming — `attach.rs`), and finalize — validate,
//! route, seal, sign, chain and commit in one transaction (`finalize.rs`). A finalized
//! record is never changed; corrections and withdrawals are new records that reference
//! it (`amend.rs`).
//!
//! Form data is kept in Unicode normalization form C, as DIN 91379 requires: every string
//! in it is normalized on each save (`nfc`), and again when a draft is read, checked or
//! finalized, so a name typed or pasted decomposed (`Nguye` + U+0302 + U+0303 + `n`) is
//! stored, validated and sealed as `Nguyễn`, also in a draft saved before this rule.

mod amend;
mod attach;
mod check;
mod finalize;
mod label;
mod sign;
mod supplement;

pub use check::DraftCheck;
pub use sign::{SignedPrintout, SIGNED_PRINTOUT_FILE_NAME};
pub use supplement::MAX_ANSWER_CHARS;

use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use serde_json::Value;
use sync_protocol::record::{AttachmentEntry, Purpose, RecordKind};
use sync_protocol::seal::AttachmentKey;
use uuid::Uuid;

use crate::kit::{now_text, Session};
use crate::KitError;

/// The longest withdrawal reason.
pub const MAX_REASON_CHARS: usize = 500;

/// A draft as listed.
#[derive(Debug, Clone, Serialize)]
pub struct DraftSummary {
    /// Draft id.
    pub id: String,
    /// Service.
    pub service_id: String,
    /// Application, correction or withdrawal.
    pub kind: String,
    /// Who started it.
    pub clerk_id: String,
    /// Created.
    pub created_at: String,
    /// Last saved.
    pub updated_at: String,
    /// For a correction, withdrawal or answer: the record it refers to.
    pub references_record: Option<String>,
}

/// An imported attachment.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentInfo {
    /// Attachment id (also the upload id later).
    pub id: String,
    /// The catalog's attachment id, e.g. `signed-printout`.
    pub spec_id: String,
    /// Media type.
    pub media_type: String,
    /// Plaintext bytes.
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: String,
    /// The picked file's name, sanitized; `None` for files the kit made.
    pub file_name: Option<String>,
}

/// What the clerk keeps for the day list and the citizen's receipt.
#[derive(Debug, Clone, Serialize)]
pub struct Finalized {
    /// Record id.
    pub record_id: String,
    /// Position in the kit's chain.
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
    /// Whom it is for ("Hildegard Schulze (+1)"), if the form names a person.
    pub display_label: Option<String>,
}

pub(crate) fn parse_kind(kind: &str) -> Result<RecordKind, KitError> {
    match kind {
        "application" => Ok(RecordKind::Application),
        "correction" => Ok(RecordKind::Correction),
        "withdrawal" => Ok(RecordKind::Withdrawal),
        "supplement" => Ok(RecordKind::Supplement),
        other => Err(KitError::Corrupted(format!("unknown draft kind {other}"))),
    }
}

pub(crate) fn kind_text(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Application => "application",
        RecordKind::Correction => "correction",
        RecordKind::Withdrawal => "withdrawal",
        RecordKind::Supplement => "supplement",
    }
}

pub(crate) fn purpose_text(p: Purpose) -> &'static str {
    match p {
        Purpose::Form => "form",
        Purpose::Attachment => "attachment",
        Purpose::Report => "report",
    }
}

pub(crate) fn parse_purpose(p: &str) -> Result<Purpose, KitError> {
    match p {
        "form" => Ok(Purpose::Form),
        "attachment" => Ok(Purpose::Attachment),
        "report" => Ok(Purpose::Report),
        other => Err(KitError::Corrupted(format!("unknown purpose {other}"))),
    }
}

/// `data` with every string (object keys excepted) in Unicode normalization form C.
pub(crate) fn nfc(data: &Value) -> Value {
    let mut data = data.clone();
    fieldkit_catalog::din91379::normalize_nfc_json(&mut data);
    data
}

pub(crate) struct StoredAttachment {
    pub(crate) entry: AttachmentEntry,
    pub(crate) spec_id: String,
    pub(crate) file_name: Option<String>,
    /// For a printout (purpose `form`): [`data_digest`] of the data it shows.
    pub(crate) printed_data_sha256: Option<String>,
    pub(crate) key: AttachmentKey,
}

impl StoredAttachment {
    /// A printout that no longer shows `data`: signed (or scanned) before a change.
    pub(crate) fn is_outdated_printout(&self, data: &Value) -> bool {
        self.printed_data_sha256
            .as_ref()
            .is_some_and(|printed| *printed != data_digest(data))
    }
}

/// The attachment kinds (catalog ids) of printouts that no longer show `data`, each once.
pub(crate) fn outdated_printout_kinds(
    attachments: &[StoredAttachment],
    data: &Value,
) -> Vec<String> {
    let mut kinds: Vec<String> = attachments
        .iter()
        .filter(|a| a.is_outdated_printout(data))
        .map(|a| a.spec_id.clone())
        .collect();
    kinds.dedup();
    kinds
}

/// SHA-256 (hex) of the draft's data as the kit stores and seals it (NFC, object keys
/// sorted): what a signed printout is bound to.
pub(crate) fn data_digest(data: &Value) -> String {
    let bytes = serde_json::to_vec(data).expect("a JSON value serializes");
    sync_protocol::ids::Sha256Hash::of(&bytes).to_hex()
}

impl Session {
    /// Starts a draft for a service. Drafts may be incomplete; nothing is validated yet.
    /// Every string in `data` is stored in Unicode normalization form C.
    ///
    /// # Errors
    /// [`KitError::NoCatalog`], unknown service, service not available offline,
    /// [`KitError::Conflict`] if `data` is not a JSON object.
    pub fn create_draft(&mut self, service_id: &str, data: &Value) -> Result<String, KitError> {
        self.create_draft_of_kind(service_id, data, RecordKind::Application, None)
    }

    pub(super) fn create_draft_of_kind(
        &mut self,
        service_id: &str,
        data: &Value,
        kind: RecordKind,
        references: Option<&str>,
    ) -> Result<String, KitError> {
        let clerk = self.require_clerk()?;
        let service = self.catalog()?.service(service_id)?;
        if !service.availability.offline {
            return Err(fieldkit_catalog::CatalogError::NotAvailableOffline {
                service: service_id.to_owned(),
                reason: service
                    .availability
                    .reason
                    .as_ref()
                    .map_or_else(String::new, |r| r.de.clone()),
            }
            .into());
        }
        if !data.is_object() {
            return Err(KitError::Conflict("form data must be a JSON object".into()));
        }
        let data = nfc(data);
        let id = Uuid::new_v4().to_string();
        let now = now_text();
        self.conn.execute(
            "INSERT INTO drafts (id, service_id, kind, references_record, data, clerk_id, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            params![id, service_id, kind_text(kind), references, data.to_string(), clerk.as_str(), now],
        )?;
        Ok(id)
    }

    /// Saves new form data for a draft (autosave), every string in Unicode normalization
    /// form C.
    ///
    /// # Errors
    /// [`KitError::NotFound`]; [`KitError::Conflict`] if `data` is not an object.
    pub fn update_draft(&mut self, draft_id: &str, data: &Value) -> Result<(), KitError> {
        if !data.is_object() {
            return Err(KitError::Conflict("form data must be a JSON object".into()));
        }
        let data = nfc(data);
        let changed = self.conn.execute(
            "UPDATE drafts SET data = ?2, updated_at = ?3 WHERE id = ?1",
            params![draft_id, data.to_string(), now_text()],
        )?;
        if changed == 0 {
            return Err(KitError::NotFound(format!("draft {draft_id}")));
        }
        Ok(())
    }

    /// A draft's form data, every string in Unicode normalization form C (also for a
    /// draft stored before kit-core normalized on save).
    ///
    /// # Errors
    /// [`KitError::NotFound`].
    pub fn draft_data(&self, draft_id: &str) -> Result<Value, KitError> {
        let text: String = self
            .conn
            .query_row("SELECT data FROM drafts WHERE id = ?1", [draft_id], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| KitError::NotFound(format!("draft {draft_id}")))?;
        let mut data: Value =
            serde_json::from_str(&text).map_err(|e| KitError::Corrupted(e.to_string()))?;
        fieldkit_catalog::din91379::normalize_nfc_json(&mut data);
        Ok(data)
    }

    /// All drafts, newest first.
    ///
    /// # Errors
    /// Database errors.
    pub fn drafts(&self) -> Result<Vec<DraftSummary>, KitError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, service_id, kind, clerk_id, created_at, updated_at, references_record
             FROM drafts ORDER BY updated_at DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DraftSummary {
                id: r.get(0)?,
                service_id: r.get(1)?,
                kind: r.get(2)?,
                clerk_id: r.get(3)?,
                created_at: r.get(4)?,
                updated_at: r.get(5)?,
                references_record: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Discards a draft and its attachment files.
    ///
    /// # Errors
    /// [`KitError::NotFound`].
    pub fn discard_draft(&mut self, draft_id: &str) -> Result<(), KitError> {
        let files = self.draft_attachment_ids(draft_id)?;
        let deleted = self
            .conn
            .execute("DELETE FROM drafts WHERE id = ?1", [draft_id])?;
        if deleted == 0 {
            return Err(KitError::NotFound(format!("draft {draft_id}")));
        }
        for id in files {
            let _ = std::fs::remove_file(self.home.attachment(&id));
        }
        Ok(())
    }

    fn draft_attachment_ids(&self, draft_id: &str) -> Result<Vec<String>, KitError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM draft_attachments WHERE draft_id = ?1")?;
        let ids = stmt.query_map([draft_id], |r| r.get(0))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }
}
