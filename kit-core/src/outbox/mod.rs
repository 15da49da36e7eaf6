//! The outbox: every finalized record and where it stands — pending → delivered (a
//! verified receipt stored in the same transaction) → complete (every attachment
//! uploaded), or rejected with the backend's reason. Listing pending work reads a
//! partial index, so it costs O(pending), not O(all records).

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use sync_protocol::dsse::Envelope;
use sync_protocol::receipt::Receipt;
use sync_protocol::record::SignedRecord;

use crate::kit::{now_text, sync_protocol_time, Session};

mod verify;

use crate::KitError;
pub use verify::{ChainReport, RecordAttachment};

/// Where a record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordState {
    /// Finalized, not yet acknowledged by the backend.
    Pending,
    /// Acknowledged with a verified receipt; attachments still uploading.
    Delivered,
    /// Acknowledged and every attachment uploaded.
    Complete,
    /// Refused by the backend for good; `rejection` says why.
    Rejected,
    /// Complete and past retention: sealed data and files deleted, metadata kept.
    Purged,
}

impl RecordState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Complete => "complete",
            Self::Rejected => "rejected",
            Self::Purged => "purged",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, KitError> {
        Ok(match s {
            "pending" => Self::Pending,
            "delivered" => Self::Delivered,
            "complete" => Self::Complete,
            "rejected" => Self::Rejected,
            "purged" => Self::Purged,
            other => return Err(KitError::Corrupted(format!("unknown record state {other}"))),
        })
    }
}

/// A record as listed (metadata only; never form data).
#[derive(Debug, Clone, Serialize)]
pub struct RecordSummary {
    /// Chain position.
    pub seq: u64,
    /// Record id.
    pub record_id: String,
    /// Case number.
    pub case_number: String,
    /// Verification code.
    pub verification_code: String,
    /// Service.
    pub service_id: String,
    /// Application, correction or withdrawal.
    pub kind: String,
    /// The record it corrects or withdraws.
    pub references_record: Option<String>,
    /// Handling authority.
    pub authority_id: String,
    /// Visit date.
    pub visit_date: String,
    /// Capturing clerk.
    pub clerk_id: String,
    /// When it was finalized (device time).
    pub finalized_at: String,
    /// Outbox state.
    pub state: RecordState,
    /// Server time of receipt, once delivered.
    pub received_at: Option<String>,
    /// Why the backend refused it.
    pub rejection: Option<String>,
    /// The back office's latest status.
    pub case_status: Option<String>,
    /// The back office's latest comment.
    pub case_comment: Option<String>,
    /// Whom it is for ("Hildegard Schulze (+1)"); kit-only, cleared when purged.
    pub display_label: Option<String>,
}

/// A record waiting to be sent.
#[derive(Debug, Clone)]
pub struct PendingRecord {
    /// Chain position.
    pub seq: u64,
    /// Record id.
    pub record_id: String,
    /// The envelope exactly as signed.
    pub envelope: Envelope,
}

/// An attachment of a delivered record still to upload.
#[derive(Debug, Clone, Serialize)]
pub struct PendingUpload {
    /// The record.
    pub record_id: String,
    /// The attachment (and upload) id.
    pub attachment_id: String,
    /// The encrypted file to upload.
    pub path: std::path::PathBuf,
    /// Its size.
    pub ciphertext_size: u64,
    /// Its SHA-256, as in the signed manifest.
    pub ciphertext_sha256: String,
}

/// Counts and facts for `fieldkit status`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Kit id once enrolled.
    pub kit_id: Option<String>,
    /// Installed catalog version.
    pub catalog_version: Option<String>,
    /// Open drafts.
    pub drafts: u64,
    /// Records per state.
    pub pending: u64,
    /// Delivered, uploads open.
    pub delivered: u64,
    /// Delivered and uploaded.
    pub complete: u64,
    /// Refused.
    pub rejected: u64,
    /// Purged after retention.
    pub purged: u64,
    /// Last successful sync (server time), once the sync engine has run.
    pub last_sync: Option<String>,
    /// Kit clock minus server clock at the last sync, in seconds.
    pub clock_skew_secs: Option<i64>,
}

const SUMMARY_COLUMNS: &str = "seq, record_id, case_number, verification_code, service_id, kind,
    references_record, authority_id, visit_date, clerk_id, finalized_at, state, received_at,
    rejection, case_status, case_comment, display_label";

fn summary(r: &Row<'_>) -> rusqlite::Result<(RecordSummary, String)> {
    Ok((
        RecordSummary {
            seq: r.get(0)?,
            record_id: r.get(1)?,
            case_number: r.get(2)?,
            verification_code: r.get(3)?,
            service_id: r.get(4)?,
            kind: r.get(5)?,
            references_record: r.get(6)?,
            authority_id: r.get(7)?,
            visit_date: r.get(8)?,
            clerk_id: r.get(9)?,
            finalized_at: r.get(10)?,
            state: RecordState::Pending,
            received_at: r.get(12)?,
            rejection: r.get(13)?,
            case_status: r.get(14)?,
            case_comment: r.get(15)?,
            display_label: r.get(16)?,
        },
        r.get(11)?,
    ))
}

impl Session {
    /// Records, newest first, optionally of one state.
    ///
    /// # Errors
    /// Database errors.
    pub fn records(
        &self,
        state: Option<RecordState>,
        limit: usize,
    ) -> Result<Vec<RecordSummary>, KitError> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM records WHERE (?1 IS NULL OR state = ?1) ORDER BY seq DESC LIMIT ?2"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(
            params![state.map(RecordState::as_str), limit as i64],
            summary,
        )?;
        rows.map(|row| {
            let (mut s, state) = row?;
            s.state = RecordState::parse(&state)?;
            Ok(s)
        })
        .collect()
    }

    /// One record by record id or case number.
    ///
    /// # Errors
    /// [`KitError::NotFound`].
    pub fn record(&self, id_or_case_number: &str) -> Result<RecordSummary, KitError> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM records WHERE record_id = ?1 OR case_number = ?1"
        );
        let (mut s, state) = self
            .conn
            .query_row(&sql, [id_or_case_number], summary)
            .optional()?
            .ok_or_else(|| KitError::NotFound(format!("record {id_or_case_number}")))?;
        s.state = RecordState::parse(&state)?;
        Ok(s)
    }

    /// The oldest pending records, in seq order — what the sync engine sends next.
    ///
    /// # Errors
    /// Database errors; [`KitError::Corrupted`] for an unreadable stored envelope.
    pub fn pending_records(&self, limit: usize) -> Result<Vec<PendingRecord>, KitError> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, record_id, envelope FROM records WHERE state = 'pending' ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, u64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (seq, record_id, json) = row?;
            Ok(PendingRecord {
                seq,
                record_id,
                envelope: Envelope::from_json(json.as_bytes())?,
            })
        })
        .collect()
    }

    fn stored_record(&self, record_id: &str) -> Result<(SignedRecord, bool), KitError> {
        let (json, has_attachments): (Option<String>, bool) = self
            .conn
            .query_row(
                "SELECT envelope, EXISTS (SELECT 1 FROM record_attachments a WHERE a.record_seq = r.seq)
                 FROM records r WHERE record_id = ?1",
                [record_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| KitError::NotFound(format!("record {record_id}")))?;
        let json =
            json.ok_or_else(|| KitError::Conflict(format!("record {record_id} is purged")))?;
        let envelope = Envelope::from_json(json.as_bytes())?;
        let kit_id = self.require_enrolment()?.kit_id;
        Ok((
            SignedRecord::verify(&envelope, kit_id, &self.kit_public_key())?,
            has_attachments,
        ))
    }

    /// Marks a record delivered with the server's receipt — only if the receipt verifies
    /// against a trusted server key and names exactly this record. Receipt and state
    /// change are one transaction. A record without attachments is complete at once.
    ///
    /// # Errors
    /// Protocol errors for a receipt that does not verify or names another record
    /// (then nothing changes: a captive portal's 200 is never a delivery).
    pub fn mark_delivered(&mut self, record_id: &str, receipt: &Envelope) -> Result<(), KitError> {
        let (record, has_attachments) = self.stored_record(record_id)?;
        let parsed = Receipt::verify(receipt, &self.trusted_server_keys()?)?;
        parsed.require_matches(&record)?;
        let now = now_text();
        let receipt_json =
            String::from_utf8(receipt.to_json()).map_err(|e| KitError::Corrupted(e.to_string()))?;
        let next = if has_attachments {
            "delivered"
        } else {
            "complete"
        };
        self.conn.execute(
            "UPDATE records SET state = ?2, receipt = ?3, received_at = ?4, delivered_at = ?5,
                 completed_at = CASE WHEN ?2 = 'complete' THEN ?5 ELSE NULL END
             WHERE record_id = ?1 AND state IN ('pending', 'rejected')",
            params![
                record_id,
                next,
                receipt_json,
                sync_protocol_time(parsed.received_at),
                now
            ],
        )?;
        Ok(())
    }

    /// Marks a record rejected for good, with the backend's reason. Whether the records
    /// after it can still be chained is the backend's business (PROTOCOL.md §6.3): a
    /// record rejected after chaining does not hold them up; one the backend never
    /// chained stops the kit's later records (the sync planner reports that).
    ///
    /// # Errors
    /// [`KitError::NotFound`].
    pub fn mark_rejected(&mut self, record_id: &str, reason: &str) -> Result<(), KitError> {
        let n = self.conn.execute(
            "UPDATE records SET state = 'rejected', rejection = ?2 WHERE record_id = ?1 AND state = 'pending'",
            params![record_id, reason],
        )?;
        if n == 0 {
            self.record(record_id)?;
        }
        Ok(())
    }

    /// Attachments of delivered records that still need uploading.
    ///
    /// # Errors
    /// Database errors.
    pub fn pending_uploads(&self, limit: usize) -> Result<Vec<PendingUpload>, KitError> {
        let mut stmt = self.conn.prepare(
            "SELECT r.record_id, a.attachment_id, a.ciphertext_size, a.ciphertext_sha256
             FROM record_attachments a JOIN records r ON r.seq = a.record_seq
             WHERE a.uploaded = 0 AND r.state = 'delivered' ORDER BY a.record_seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u64>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (record_id, attachment_id, ciphertext_size, ciphertext_sha256) = row?;
            Ok(PendingUpload {
                path: self.home.attachment(&attachment_id),
                record_id,
                attachment_id,
                ciphertext_size,
                ciphertext_sha256,
            })
        })
        .collect()
    }

    /// Marks an attachment uploaded; the record becomes complete with its last one.
    ///
    /// # Errors
    /// [`KitError::NotFound`].
    pub fn mark_uploaded(&mut self, attachment_id: &str) -> Result<(), KitError> {
        let tx = self.conn.transaction()?;
        let seq: u64 = tx
            .query_row(
                "UPDATE record_attachments SET uploaded = 1 WHERE attachment_id = ?1 RETURNING record_seq",
                [attachment_id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| KitError::NotFound(format!("attachment {attachment_id}")))?;
        tx.execute(
            "UPDATE records SET state = 'complete', completed_at = ?2
             WHERE seq = ?1 AND state = 'delivered'
               AND NOT EXISTS (SELECT 1 FROM record_attachments WHERE record_seq = ?1 AND uploaded = 0)",
            params![seq, now_text()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Stores the back office's latest status and comment for a record.
    ///
    /// # Errors
    /// [`KitError::NotFound`].
    pub fn apply_case_status(
        &mut self,
        record_id: &str,
        status: &str,
        comment: Option<&str>,
    ) -> Result<(), KitError> {
        let n = self.conn.execute(
            "UPDATE records SET case_status = ?2, case_comment = ?3 WHERE record_id = ?1",
            params![record_id, status, comment],
        )?;
        if n == 0 {
            return Err(KitError::NotFound(format!("record {record_id}")));
        }
        Ok(())
    }

    /// Counts per state and the facts `fieldkit status` shows.
    ///
    /// # Errors
    /// Database errors.
    pub fn status(&self) -> Result<Status, KitError> {
        let count = |sql: &str| -> Result<u64, KitError> {
            Ok(self.conn.query_row(sql, [], |r| r.get(0))?)
        };
        let per_state =
            |s: &str| count(&format!("SELECT count(*) FROM records WHERE state = '{s}'"));
        Ok(Status {
            kit_id: self.enrolment()?.map(|e| e.kit_id.to_string()),
            catalog_version: self.installed_version()?,
            drafts: count("SELECT count(*) FROM drafts")?,
            pending: per_state("pending")?,
            delivered: per_state("delivered")?,
            complete: per_state("complete")?,
            rejected: per_state("rejected")?,
            purged: per_state("purged")?,
            last_sync: self.meta("last_sync")?,
            clock_skew_secs: self.meta("clock_skew_secs")?.and_then(|s| s.parse().ok()),
        })
    }
}
