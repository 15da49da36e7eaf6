//! The sync engine's reads and writes of the kit store: the planner's candidates, the
//! batch bodies exactly as signed, applying a batch's checked results (see `response`)
//! in one transaction, the change cursor with the changes it covers, the case history
//! the clerk sees, and the wipe.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use sync_protocol::api::{Change, ChangeKind};
use sync_protocol::dsse::Envelope;
use sync_protocol::ids::Sha256Hash;

use super::plan::Candidate;
use super::response::{Applied, SentRecord};
use crate::kit::{now_text, sync_protocol_time, Session};
use crate::outbox::RecordState;
use crate::KitError;

/// A status the back office set on one of this kit's cases, as the clerk sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseUpdate {
    /// The record (the case's original application).
    pub record_id: String,
    /// The status.
    pub status: String,
    /// The reviewer's comment.
    pub comment: Option<String>,
    /// When (server time).
    pub at: String,
}

impl Session {
    /// What the planner looks at: pending records and every record after `head`, in
    /// seq order, at most `limit`. Two index range reads merged here — one `OR` query
    /// would scan (and decrypt) the whole table for every batch.
    pub(crate) fn sync_candidates(
        &self,
        head: u64,
        limit: usize,
    ) -> Result<Vec<Candidate>, KitError> {
        let read = |sql: &str, param: Option<u64>| -> Result<Vec<Candidate>, KitError> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let map = |r: &rusqlite::Row<'_>| {
                Ok((
                    r.get::<_, u64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<u64>>(2)?,
                ))
            };
            let rows = match param {
                Some(head) => stmt.query_map(params![head, limit as i64], map)?,
                None => stmt.query_map(params![limit as i64], map)?,
            };
            rows.map(|row| {
                let (seq, state, len) = row?;
                Ok(Candidate {
                    seq,
                    state: RecordState::parse(&state)?,
                    envelope_len: len.map(|l| l as usize),
                })
            })
            .collect()
        };
        let pending = read(
            "SELECT seq, state, length(envelope) FROM records
             WHERE state = 'pending' ORDER BY seq LIMIT ?1",
            None,
        )?;
        let after_head = read(
            "SELECT seq, state, length(envelope) FROM records
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            Some(head),
        )?;
        let mut merged: Vec<Candidate> = pending.into_iter().chain(after_head).collect();
        merged.sort_by_key(|c| c.seq);
        merged.dedup_by_key(|c| c.seq);
        merged.truncate(limit);
        Ok(merged)
    }

    /// The batch body for `seqs` (ascending), built from the stored envelope JSON, and
    /// what the response must be checked against.
    pub(crate) fn batch_body(&self, seqs: &[u64]) -> Result<(Vec<u8>, Vec<SentRecord>), KitError> {
        let (Some(&first), Some(&last)) = (seqs.first(), seqs.last()) else {
            return Err(KitError::Conflict("empty batch".into()));
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, record_id, case_number, hash, envelope FROM records
             WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
        )?;
        let mut body = Vec::from(&b"{\"envelopes\":["[..]);
        let mut sent = Vec::with_capacity(seqs.len());
        let rows = stmt.query_map(params![first, last], |r| {
            Ok((
                r.get::<_, u64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        for row in rows {
            let (seq, record_id, case_number, hash, envelope) = row?;
            if seqs.binary_search(&seq).is_err() {
                continue;
            }
            let envelope =
                envelope.ok_or_else(|| KitError::Conflict(format!("record {seq} is purged")))?;
            if !sent.is_empty() {
                body.push(b',');
            }
            body.extend_from_slice(envelope.as_bytes());
            sent.push(SentRecord {
                seq,
                record_id,
                case_number,
                hash: Sha256Hash::try_from(hash)
                    .map_err(|e| KitError::Corrupted(format!("record {seq}: {e}")))?,
            });
        }
        body.extend_from_slice(b"]}");
        Ok((body, sent))
    }

    /// Stores a checked batch result in one transaction: receipts with the delivered
    /// mark (complete at once without attachments), rejections with their reason.
    /// Records already delivered keep their first receipt; one the backend accepted
    /// anew (it lost it: a restored backup) gets its attachments uploaded again, back in
    /// `delivered` until they are. Says, per result, whether it changed the record (a
    /// newly delivered or newly rejected record).
    pub(crate) fn apply_push(&mut self, applied: &[Applied]) -> Result<Vec<bool>, KitError> {
        let now = now_text();
        let mut changed = Vec::with_capacity(applied.len());
        let tx = self.conn.transaction()?;
        {
            let mut deliver = tx.prepare_cached(
                "UPDATE records SET
                     state = CASE WHEN EXISTS (SELECT 1 FROM record_attachments a
                                               WHERE a.record_seq = records.seq AND a.uploaded = 0)
                                  THEN 'delivered' ELSE 'complete' END,
                     receipt = ?2, received_at = ?3, delivered_at = ?4, rejection = NULL,
                     completed_at = CASE WHEN EXISTS (SELECT 1 FROM record_attachments a
                                               WHERE a.record_seq = records.seq AND a.uploaded = 0)
                                  THEN NULL ELSE ?4 END
                 WHERE seq = ?1 AND state IN ('pending', 'rejected')",
            )?;
            let mut reupload = tx.prepare_cached(
                "UPDATE record_attachments SET uploaded = 0 WHERE record_seq = ?1 AND uploaded = 1
                   AND EXISTS (SELECT 1 FROM records
                               WHERE seq = ?1 AND state IN ('delivered', 'complete'))",
            )?;
            let mut reopen = tx.prepare_cached(
                "UPDATE records SET state = 'delivered', completed_at = NULL
                 WHERE seq = ?1 AND state = 'complete'
                   AND EXISTS (SELECT 1 FROM record_attachments
                               WHERE record_seq = ?1 AND uploaded = 0)",
            )?;
            let mut reject = tx.prepare_cached(
                "UPDATE records SET state = 'rejected', rejection = ?2 WHERE seq = ?1 AND state = 'pending'",
            )?;
            for a in applied {
                let n = match a {
                    Applied::Delivered {
                        seq,
                        receipt_json,
                        received_at,
                        fresh,
                    } => {
                        if *fresh && reupload.execute([seq])? > 0 {
                            reopen.execute([seq])?;
                        }
                        deliver.execute(params![seq, receipt_json, received_at, now])?
                    }
                    Applied::Rejected {
                        seq, code, detail, ..
                    } => reject.execute(params![seq, format!("{code}: {detail}")])?,
                    Applied::Waiting => 0,
                };
                changed.push(n > 0);
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Records pending now.
    pub(crate) fn pending_count(&self) -> Result<u64, KitError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM records WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?)
    }

    /// Records delivered whose attachments are still uploading.
    pub(crate) fn uploads_open_count(&self) -> Result<u64, KitError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM records WHERE state = 'delivered'",
            [],
            |r| r.get(0),
        )?)
    }

    /// The case number of a record, if the kit has it.
    pub(crate) fn case_number_of(&self, record_id: &str) -> Result<Option<String>, KitError> {
        Ok(self
            .conn
            .query_row(
                "SELECT case_number FROM records WHERE record_id = ?1",
                [record_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The cursor of the changes feed (0 before the first change).
    pub(crate) fn changes_cursor(&self) -> Result<u64, KitError> {
        Ok(self
            .meta("changes_cursor")?
            .and_then(|c| c.parse().ok())
            .unwrap_or(0))
    }

    /// Applies one page of verified changes — statuses, and the trust state the page's
    /// rollovers left — and stores `next_cursor` in the same transaction (§6.5: a crash
    /// re-delivers, never loses). Applying twice is harmless. Statuses for records this
    /// kit does not hold (purged long ago) are kept in the history only.
    pub(crate) fn apply_changes(
        &mut self,
        changes: &[Change],
        next_cursor: u64,
        trust: Option<&crate::trust::TrustState>,
    ) -> Result<(), KitError> {
        let tx = self.conn.transaction()?;
        if let Some(trust) = trust {
            Session::store_trust(&tx, trust)?;
        }
        for change in changes {
            if let ChangeKind::Status {
                record_id,
                status,
                comment,
            } = &change.change
            {
                let status = super::wire_name(status);
                let id = record_id.to_string();
                tx.execute(
                    "INSERT INTO case_updates (cursor, record_id, status, comment, at)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(cursor) DO NOTHING",
                    params![
                        change.cursor,
                        id,
                        status,
                        comment,
                        sync_protocol_time(change.at)
                    ],
                )?;
                tx.execute(
                    "UPDATE records SET case_status = ?2, case_comment = ?3 WHERE record_id = ?1",
                    params![id, status, comment],
                )?;
            }
        }
        Session::set_meta(&tx, "changes_cursor", &next_cursor.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// The back office's statuses for one record, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub fn case_history(&self, record_id: &str) -> Result<Vec<CaseUpdate>, KitError> {
        let mut stmt = self.conn.prepare(
            "SELECT record_id, status, comment, at FROM case_updates WHERE record_id = ?1 ORDER BY cursor",
        )?;
        let rows = stmt.query_map([record_id], |r| {
            Ok(CaseUpdate {
                record_id: r.get(0)?,
                status: r.get(1)?,
                comment: r.get(2)?,
                at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores kit-clock-minus-server-clock (used for signing) when it changed.
    pub(crate) fn store_clock_skew(&self, skew_secs: i64) -> Result<(), KitError> {
        let current: Option<i64> = self.meta("clock_skew_secs")?.and_then(|s| s.parse().ok());
        if current != Some(skew_secs) {
            Session::set_meta(&self.conn, "clock_skew_secs", &skew_secs.to_string())?;
        }
        Ok(())
    }

    /// Records the end of a successful run (server time).
    pub(crate) fn store_last_sync(&self, server_time: &str) -> Result<(), KitError> {
        Session::set_meta(&self.conn, "last_sync", server_time)
    }

    /// Deletes everything this kit holds, on the backend's order (§6.5 `wipe`): the key
    /// slots first — without them the database key is gone and the store can never be
    /// opened again — then the rows (with `secure_delete` on, SQLite overwrites them),
    /// the encrypted attachment files and the database files. The session is left on
    /// an empty in-memory database: every later call fails; drop it.
    ///
    /// # Errors
    /// I/O errors removing files; the key slots are removed before any of them.
    pub fn wipe(&mut self) -> Result<(), KitError> {
        let home = self.home.clone();
        let slots = home.keyslots();
        // The live file and a replacement an interrupted write may have left behind.
        for file in [slots.clone(), slots.with_extension("tmp")] {
            if file.exists() {
                std::fs::remove_file(&file)
                    .map_err(KitError::io(format!("removing {}", file.display())))?;
            }
        }
        crate::home::sync_dir(home.root())?;
        // The keys in memory go too (the old ones are zeroized on drop).
        *self.db_key = [0; 32];
        self.kit_key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        let tables: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?;
            let names = stmt.query_map([], |r| r.get(0))?;
            names.collect::<Result<_, _>>()?
        };
        for table in tables {
            // Names come from sqlite_master, not from input.
            let _ = self.conn.execute(&format!("DELETE FROM \"{table}\""), []);
        }
        let memory = rusqlite::Connection::open_in_memory()?;
        drop(std::mem::replace(&mut self.conn, memory));
        self.catalog = None;
        self.validators.clear();
        let attachments = home.attachments();
        if attachments.exists() {
            std::fs::remove_dir_all(&attachments)
                .map_err(KitError::io(format!("removing {}", attachments.display())))?;
        }
        for suffix in ["", "-wal", "-shm", "-journal", ".tmp"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", home.database().display()));
            if file.exists() {
                std::fs::remove_file(&file)
                    .map_err(KitError::io(format!("removing {}", file.display())))?;
            }
        }
        crate::home::sync_dir(home.root())
    }

    /// The receipt stored for a record, if delivered.
    ///
    /// # Errors
    /// Database errors; [`KitError::Corrupted`] for an unreadable stored receipt.
    pub fn receipt(&self, record_id: &str) -> Result<Option<Envelope>, KitError> {
        let json: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT receipt FROM records WHERE record_id = ?1",
                [record_id],
                |r| r.get(0),
            )
            .optional()?;
        json.flatten()
            .map(|j| Envelope::from_json(j.as_bytes()).map_err(KitError::from))
            .transpose()
    }
}
