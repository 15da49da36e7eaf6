//! Answering a Rückfrage: when the back office asks for something (the case status
//! `needs_information`), the clerk answers from the kit with a note and the documents
//! the citizen supplies — a **supplement** record that references the original, sealed to
//! the same authority, which the backend adds to the same case (PROTOCOL §4.1).
//!
//! [`Session::start_answer`] opens a draft for it; documents are attached like any other
//! (kinds of the original's service, never its signed printout); `finalize` seals it with
//! the original's service, form version, authority and ARS.

use fieldkit_catalog::din91379::{self, DataType};
use rusqlite::OptionalExtension;
use serde_json::{json, Value};
use sync_protocol::record::RecordKind;

use crate::kit::Session;
use crate::KitError;

/// The longest answer, in characters (PROTOCOL §4.1).
pub const MAX_ANSWER_CHARS: usize = 2000;

/// The case status in which the back office waits for an answer.
const NEEDS_INFORMATION: &str = "needs_information";

impl Session {
    /// Starts the answer to the Rückfrage on `record_id` (a record id or case number):
    /// a draft of kind supplement holding `note`, to which documents are attached; it is
    /// sent once finalized.
    ///
    /// # Errors
    /// [`KitError::NotFound`] for an unknown record; [`KitError::Conflict`] when the
    /// record's case is not waiting for information (no Rückfrage open), the record is
    /// itself a withdrawal or supplement, or the note is empty, too long or has a
    /// character outside DIN 91379.
    pub fn start_answer(&mut self, record_id: &str, note: &str) -> Result<String, KitError> {
        let note = answer_text(note)?;
        let (record_id, service_id, kind, status): (String, String, String, Option<String>) = self
            .conn
            .query_row(
                "SELECT record_id, service_id, kind, case_status FROM records
                 WHERE record_id = ?1 OR case_number = ?1",
                [record_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?
            .ok_or_else(|| KitError::NotFound(format!("record {record_id}")))?;
        if kind == "withdrawal" || kind == "supplement" {
            return Err(KitError::Conflict(format!(
                "a {kind} has no case of its own to answer for"
            )));
        }
        let waiting: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM records
                 WHERE references_record = ?1 AND kind = 'supplement' AND state = 'pending')",
            [&record_id],
            |r| r.get(0),
        )?;
        if waiting {
            return Err(KitError::Conflict(format!(
                "an answer to the Rückfrage on {record_id} is already waiting to be sent"
            )));
        }
        if status.as_deref() != Some(NEEDS_INFORMATION) {
            return Err(KitError::Conflict(format!(
                "the back office asked nothing about {record_id} (its case is {}): there is no Rückfrage to answer",
                status.as_deref().unwrap_or("not decided on yet")
            )));
        }
        self.create_draft_of_kind(
            &service_id,
            &json!({ "answer": note }),
            RecordKind::Supplement,
            Some(&record_id),
        )
    }
}

/// The note as it is sealed: trimmed, NFC, 1–[`MAX_ANSWER_CHARS`] characters of DIN
/// 91379 text (type C: letters, digits, punctuation, line breaks).
///
/// # Errors
/// [`KitError::Conflict`] saying what is wrong.
pub(crate) fn answer_text(note: &str) -> Result<String, KitError> {
    // Spacing typed by hand is tidied (DIN 91379 text has no runs of spaces and no space
    // at a line's ends); everything else is kept as typed.
    let tidy: Vec<String> = note
        .trim()
        .lines()
        .map(|line| {
            line.split(' ')
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let note = din91379::normalize_nfc(&tidy.join("\n"));
    let chars = note.chars().count();
    if chars == 0 || chars > MAX_ANSWER_CHARS {
        return Err(KitError::Conflict(format!(
            "an answer needs a note of 1 to {MAX_ANSWER_CHARS} characters (it has {chars})"
        )));
    }
    din91379::check(&note, DataType::C)
        .map_err(|r| KitError::Conflict(format!("the note cannot be sent: {}", r.message().en)))?;
    Ok(note)
}

/// The sealed data of a supplement draft, checked as [`answer_text`] checks it.
///
/// # Errors
/// As [`answer_text`]; a draft without a note.
pub(crate) fn answer_data(data: &Value) -> Result<Value, KitError> {
    let note = data
        .get("answer")
        .and_then(Value::as_str)
        .ok_or_else(|| KitError::Conflict("an answer needs a note".into()))?;
    Ok(json!({ "answer": answer_text(note)? }))
}
