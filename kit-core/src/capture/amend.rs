//! Corrections and withdrawals: a finalized record is never changed; both are new
//! records that reference the original.

use rusqlite::OptionalExtension;
use serde_json::Value;
use sync_protocol::record::RecordKind;

use super::{Finalized, MAX_REASON_CHARS};
use crate::kit::Session;
use crate::KitError;

impl Session {
    /// Starts a correction of a finalized record: a new draft with the corrected data,
    /// finalized like an application, that references the original.
    ///
    /// # Errors
    /// [`KitError::NotFound`] for an unknown record.
    pub fn start_correction(&mut self, record_id: &str, data: &Value) -> Result<String, KitError> {
        let service_id = self.record_service(record_id)?;
        self.create_draft_of_kind(&service_id, data, RecordKind::Correction, Some(record_id))
    }

    /// Withdraws a finalized record: a new, finalized record that references it and
    /// carries the reason, sealed to the same authority.
    ///
    /// # Errors
    /// [`KitError::NotFound`]; [`KitError::Conflict`] for an empty or over-long reason or
    /// a record that is itself a withdrawal.
    pub fn withdraw(&mut self, record_id: &str, reason: &str) -> Result<Finalized, KitError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(KitError::Conflict(format!(
                "a withdrawal needs a reason of 1 to {MAX_REASON_CHARS} characters"
            )));
        }
        let kind: String = self
            .conn
            .query_row(
                "SELECT kind FROM records WHERE record_id = ?1",
                [record_id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| KitError::NotFound(format!("record {record_id}")))?;
        if kind == "withdrawal" {
            return Err(KitError::Conflict(
                "a withdrawal cannot be withdrawn".into(),
            ));
        }
        let service_id = self.record_service(record_id)?;
        let draft = self.create_draft_of_kind(
            &service_id,
            &serde_json::json!({ "withdrawal_reason": reason }),
            RecordKind::Withdrawal,
            Some(record_id),
        )?;
        self.finalize(&draft)
    }

    fn record_service(&self, record_id: &str) -> Result<String, KitError> {
        self.conn
            .query_row(
                "SELECT service_id FROM records WHERE record_id = ?1",
                [record_id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| KitError::NotFound(format!("record {record_id}")))
    }
}
