//! The way out of a blocked queue (issue 13, PROTOCOL.md §11): with IT's recovery
//! secret, the kit writes everything it holds from the blocked position on into a
//! held-records file — its signed statement of every position, each record envelope it
//! still has and each receipt it got — which IT imports at the backend
//! (`fieldkit-backend admin kit import-held`). Nothing on the kit changes but its IT log:
//! once the backend has bridged or taken the blocked positions, the next sync goes on.

use rusqlite::params;
use serde::Serialize;
use sync_protocol::dsse::Envelope;
use sync_protocol::held::{
    HeldEntry, HeldFile, HeldRecord, HeldState, HeldStatement, MAX_HELD_ENTRIES,
};
use sync_protocol::ids::Sha256Hash;

use crate::kit::{now_text, Session};
use crate::outbox::RecordState;
use crate::KitError;

/// Meta key: the seq the planner last stopped at (set when a sync blocks).
pub(crate) const BLOCKED_SEQ: &str = "sync.blocked_seq";
/// Meta key: why (the planner's reason).
pub(crate) const BLOCKED_REASON: &str = "sync.blocked_reason";

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldExport {
    /// The file's JSON.
    #[serde(skip)]
    pub file: Vec<u8>,
    /// First position in the file.
    pub from_seq: u64,
    /// Last position in the file.
    pub to_seq: u64,
    /// Positions whose envelope the file carries.
    pub envelopes: usize,
    /// Positions whose receipt it carries.
    pub receipts: usize,
    /// SHA-256 of the file, as the IT log keeps it.
    pub file_sha256: String,
}

/// One entry of the kit's IT log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItLogEntry {
    /// When (kit clock).
    pub at: String,
    /// What was done (`export-held`).
    pub action: String,
    /// What exactly.
    pub detail: String,
}

fn held_state(state: RecordState) -> HeldState {
    match state {
        RecordState::Pending => HeldState::Pending,
        RecordState::Delivered => HeldState::Delivered,
        RecordState::Complete => HeldState::Complete,
        RecordState::Rejected => HeldState::Rejected,
        RecordState::Purged => HeldState::Purged,
    }
}

impl Session {
    /// Where the last sync stopped, if it stopped at a record.
    ///
    /// # Errors
    /// Store errors.
    pub fn blocked_at(&self) -> Result<Option<(u64, String)>, KitError> {
        let seq = self.meta(BLOCKED_SEQ)?.and_then(|s| s.parse().ok());
        let reason = self.meta(BLOCKED_REASON)?.unwrap_or_default();
        Ok(seq.map(|s| (s, reason)))
    }

    /// Writes the held-records file from `from` (default: where the last sync stopped)
    /// to the newest record, and notes it in the IT log. Needs the recovery secret's
    /// session: a clerk cannot hand the queue out of the kit.
    ///
    /// # Errors
    /// [`KitError::Conflict`] in a clerk session, when no sync stopped and `from` is not
    /// given, when `from` names no record, or past [`MAX_HELD_ENTRIES`] positions.
    pub fn export_held(&mut self, from: Option<u64>) -> Result<HeldExport, KitError> {
        if self.clerk.is_some() {
            return Err(KitError::Conflict(
                "exporting the queue for IT needs the recovery secret (FIELDKIT_RECOVERY_SECRET), not a clerk's PIN".into(),
            ));
        }
        let enrolment = self.enrolment()?.ok_or_else(|| {
            KitError::Conflict("this kit is not enrolled: it holds no chain to export".into())
        })?;
        let (from, blocked) = match (from, self.blocked_at()?) {
            (Some(seq), blocked) => (seq, blocked.map_or_else(|| "it-export".to_owned(), |b| b.1)),
            (None, Some((seq, reason))) => (seq, reason),
            (None, None) => {
                return Err(KitError::Conflict(
                    "no sync has stopped at a record; name the first position with --from".into(),
                ))
            }
        };
        let rows = self.held_rows(from)?;
        if rows.is_empty() || rows[0].0.seq != from {
            return Err(KitError::Conflict(format!(
                "this kit holds no record at seq {from}"
            )));
        }
        if rows.len() > MAX_HELD_ENTRIES {
            return Err(KitError::Conflict(format!(
                "{} positions from seq {from}: one file holds at most {MAX_HELD_ENTRIES}; export in steps with --from",
                rows.len()
            )));
        }
        let to_seq = rows[rows.len() - 1].0.seq;
        let envelopes = rows.iter().filter(|r| r.1.envelope.is_some()).count();
        let receipts = rows.iter().filter(|r| r.1.receipt.is_some()).count();
        let (entries, records): (Vec<HeldEntry>, Vec<HeldRecord>) = rows.into_iter().unzip();
        let statement = HeldStatement {
            v: 1,
            kit_id: enrolment.kit_id,
            created_at: chrono::Utc::now(),
            blocked,
            entries,
        };
        let file: HeldFile = statement.sign_file(&self.kit_key, records)?;
        let bytes = serde_json::to_vec_pretty(&file)
            .map_err(|e| KitError::Corrupted(format!("held-records file: {e}")))?;
        let export = HeldExport {
            file_sha256: Sha256Hash::of(&bytes).to_hex(),
            file: bytes,
            from_seq: from,
            to_seq,
            envelopes,
            receipts,
        };
        self.conn.execute(
            "INSERT INTO it_log (at, action, detail) VALUES (?1, 'export-held', ?2)",
            params![
                now_text(),
                format!(
                    "seq {from}..={to_seq}, {envelopes} envelope(s), {receipts} receipt(s), file sha256 {}",
                    export.file_sha256
                )
            ],
        )?;
        Ok(export)
    }

    /// The kit's IT log, newest first.
    ///
    /// # Errors
    /// Store errors.
    pub fn it_log(&self) -> Result<Vec<ItLogEntry>, KitError> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, action, detail FROM it_log ORDER BY id DESC")?;
        let rows = stmt.query_map([], |r| {
            Ok(ItLogEntry {
                at: r.get(0)?,
                action: r.get(1)?,
                detail: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn held_rows(&self, from: u64) -> Result<Vec<(HeldEntry, HeldRecord)>, KitError> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, record_id, hash, state, rejection, envelope, receipt FROM records
             WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
        )?;
        let limit = i64::try_from(MAX_HELD_ENTRIES + 1).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![from, limit], |r| {
            Ok((
                r.get::<_, u64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        let corrupt = |seq: u64, what: &str, e: String| {
            KitError::Corrupted(format!("record {seq}: {what}: {e}"))
        };
        let mut out = Vec::new();
        for row in rows {
            let (seq, record_id, hash, state, problem, envelope, receipt) = row?;
            let envelope = envelope
                .map(|e| Envelope::from_json(e.as_bytes()))
                .transpose()
                .map_err(|e| corrupt(seq, "envelope", e.to_string()))?;
            let receipt = receipt
                .map(|e| Envelope::from_json(e.as_bytes()))
                .transpose()
                .map_err(|e| corrupt(seq, "receipt", e.to_string()))?;
            out.push((
                HeldEntry {
                    seq,
                    record_id: record_id
                        .parse()
                        .map_err(|e: sync_protocol::ProtocolError| {
                            corrupt(seq, "record id", e.to_string())
                        })?,
                    hash: Sha256Hash::try_from(hash)
                        .map_err(|e| corrupt(seq, "hash", e.to_string()))?,
                    state: held_state(RecordState::parse(&state)?),
                    problem,
                },
                HeldRecord {
                    seq,
                    envelope,
                    receipt,
                },
            ));
        }
        Ok(out)
    }
}
