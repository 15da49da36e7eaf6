//! SQLite: the [`BatchTx`] operations of [`crate::ingest::run_batch`] on an open
//! `BEGIN IMMEDIATE` transaction. The methods are `async` only to fit the shared
//! algorithm; they complete at once on the blocking thread that holds the connection.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};
use sync_protocol::ids::{AttachmentId, AuthorityId, KitId, RecordId, Sha256Hash};
use sync_protocol::record::SignedRecord;

use super::{db_err, next_counter};
use crate::ingest::{
    AppendOutcome, Appended, AuthorityArea, AuthorityKey, BatchKit, BatchTx, Bridge, ChainEntry,
    Restored,
};
use crate::storage::rows;
use crate::storage::NewCaseFlag;
use crate::storage::{json_text, kind_name, to_i64, to_u64, StoreError};

/// An open SQLite transaction seen as a [`BatchTx`].
pub struct SqliteTx<'a, 'c> {
    pub tx: &'a Transaction<'c>,
}

impl BatchTx for SqliteTx<'_, '_> {
    async fn kit_for_update(&mut self, kit: &KitId) -> Result<Option<BatchKit>, StoreError> {
        type Raw = (
            String,
            Option<i64>,
            Option<Vec<u8>>,
            String,
            Option<String>,
            Option<String>,
        );
        let raw: Option<Raw> = self
            .tx
            .prepare_cached(&format!(
                "SELECT {} FROM kits WHERE kit_id = ?1",
                rows::BATCH_KIT_COLUMNS
            ))
            .and_then(|mut s| {
                s.query_row([kit.to_string()], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })
                .optional()
            })
            .map_err(db_err)?;
        raw.map(|(status, seq, hash, authority, mode, reason)| {
            rows::batch_kit(
                &status,
                seq,
                hash.as_deref(),
                &authority,
                mode.as_deref(),
                reason,
            )
        })
        .transpose()
    }

    async fn authority_area(
        &mut self,
        authority: &AuthorityId,
    ) -> Result<Option<AuthorityArea>, StoreError> {
        let raw: Option<(Option<String>, String)> = self
            .tx
            .prepare_cached("SELECT ars, kind FROM authorities WHERE id = ?1")
            .and_then(|mut s| {
                s.query_row([authority.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(db_err)?;
        raw.map(|(ars, kind)| rows::authority_area(ars.as_deref(), &kind))
            .transpose()
    }

    async fn chain_entry(
        &mut self,
        kit: &KitId,
        seq: u64,
    ) -> Result<Option<ChainEntry>, StoreError> {
        type Raw = (Vec<u8>, String, Option<String>, Option<Vec<u8>>);
        let raw: Option<Raw> = self
            .tx
            .prepare_cached(
                "SELECT hash, outcome, problem, receipt FROM records WHERE kit_id = ?1 AND seq = ?2
                 UNION ALL
                 SELECT hash, 'bridged', reason, NULL FROM chain_bridges WHERE kit_id = ?1 AND seq = ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![kit.to_string(), to_i64(seq).unwrap_or(-1)], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()
            })
            .map_err(db_err)?;
        raw.map(|(h, o, p, r)| rows::chain_entry(&h, &o, p.as_deref(), r.as_deref()))
            .transpose()
    }

    async fn record_id_held(&mut self, id: &RecordId) -> Result<bool, StoreError> {
        self.tx
            .prepare_cached("SELECT 1 FROM records WHERE record_id = ?1")
            .and_then(|mut s| s.query_row([id.to_string()], |_| Ok(())).optional())
            .map(|o| o.is_some())
            .map_err(db_err)
    }

    async fn authority_key(
        &mut self,
        authority: &AuthorityId,
        key_id: &str,
    ) -> Result<AuthorityKey, StoreError> {
        let (authority_known, key_known): (bool, bool) = self
            .tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM authorities WHERE id = ?1),
                        EXISTS (SELECT 1 FROM authority_keys WHERE authority_id = ?1 AND key_id = ?2)",
            )
            .and_then(|mut s| {
                s.query_row(params![authority.as_str(), key_id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
            })
            .map_err(db_err)?;
        Ok(match (authority_known, key_known) {
            (false, _) => AuthorityKey::UnknownAuthority,
            (true, false) => AuthorityKey::UnknownKey,
            (true, true) => AuthorityKey::Known,
        })
    }

    async fn attachment_held(
        &mut self,
        id: &AttachmentId,
    ) -> Result<Option<(u64, Sha256Hash)>, StoreError> {
        let raw: Option<(i64, Vec<u8>)> = self
            .tx
            .prepare_cached(
                "SELECT ciphertext_size, ciphertext_sha256 FROM attachments WHERE attachment_id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(db_err)?;
        raw.map(|(size, hash)| Ok((to_u64(size)?, rows::hash(&hash)?)))
            .transpose()
    }

    async fn next_log_position(&mut self) -> Result<u64, StoreError> {
        next_counter(self.tx, "log_position")
    }

    async fn append(
        &mut self,
        appended: &Appended<'_>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let rec = &appended.record.record;
        let record_id = rec.record_id.to_string();
        let kit_id = rec.kit_id.to_string();
        let seq = to_i64(rec.seq)?;
        let at = at.timestamp_millis();
        let (outcome, problem, receipt, log_position) = match &appended.outcome {
            AppendOutcome::Accepted {
                receipt,
                log_position,
                ..
            } => (
                "accepted",
                None,
                Some(receipt.to_json()),
                Some(to_i64(*log_position)?),
            ),
            AppendOutcome::Rejected(p) => ("rejected", Some(json_text(p)), None, None),
        };
        self.tx
            .prepare_cached(
                "INSERT INTO records (kit_id, seq, record_id, hash, envelope, outcome, problem,
                     receipt, log_position, received_at, authority_id, form_id, form_version,
                     kind, ref_record_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    kit_id,
                    seq,
                    record_id,
                    appended.record.hash.0.as_slice(),
                    appended.record.envelope.to_json(),
                    outcome,
                    problem,
                    receipt,
                    log_position,
                    at,
                    rec.authority_id.as_str(),
                    rec.form_id.as_str(),
                    i64::from(rec.form_version),
                    kind_name(rec.kind),
                    rec.references.map(|r| r.to_string()),
                ])
            })
            .map_err(db_err)?;
        self.tx
            .prepare_cached("UPDATE kits SET head_seq = ?1, head_hash = ?2 WHERE kit_id = ?3")
            .and_then(|mut s| s.execute(params![seq, appended.record.hash.0.as_slice(), kit_id]))
            .map_err(db_err)?;
        let AppendOutcome::Accepted { inbox, flags, .. } = &appended.outcome else {
            return Ok(());
        };
        insert_case(self.tx, appended.record, inbox, flags, at)
    }

    async fn keep_evidence(
        &mut self,
        record: &SignedRecord,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO fork_evidence (hash, kit_id, seq, record_id, envelope, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (hash) DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![
                    record.hash.0.as_slice(),
                    record.record.kit_id.to_string(),
                    to_i64(record.record.seq).unwrap_or(i64::MAX),
                    record.record.record_id.to_string(),
                    record.envelope.to_json(),
                    at.timestamp_millis()
                ])
            })
            .map(drop)
            .map_err(db_err)
    }

    async fn quarantine(&mut self, kit: &KitId) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE kits SET status = 'quarantined' WHERE kit_id = ?1 AND status = 'active'",
                [kit.to_string()],
            )
            .map(drop)
            .map_err(db_err)
    }

    async fn bridge(&mut self, b: &Bridge<'_>, at: DateTime<Utc>) -> Result<(), StoreError> {
        let (kit_id, seq) = (b.kit_id.to_string(), to_i64(b.seq)?);
        self.tx
            .execute(
                "INSERT INTO chain_bridges (kit_id, seq, record_id, hash, reason, kit_state,
                     envelope, receipt, statement_sha256, bridged_by, bridged_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    kit_id,
                    seq,
                    b.record_id.to_string(),
                    b.hash.0.as_slice(),
                    b.reason,
                    b.kit_state,
                    b.envelope,
                    b.receipt,
                    b.statement_sha256.0.as_slice(),
                    b.by,
                    at.timestamp_millis()
                ],
            )
            .map_err(db_err)?;
        self.tx
            .execute(
                "UPDATE kits SET head_seq = ?1, head_hash = ?2 WHERE kit_id = ?3",
                params![seq, b.hash.0.as_slice(), kit_id],
            )
            .map(drop)
            .map_err(db_err)
    }

    async fn accept_chained(
        &mut self,
        r: &Restored<'_>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let rec = &r.record.record;
        let changed = self
            .tx
            .execute(
                "UPDATE records SET outcome = 'accepted', problem = NULL, receipt = ?1,
                     log_position = ?2
                 WHERE kit_id = ?3 AND seq = ?4 AND outcome = 'rejected' AND hash = ?5",
                params![
                    r.receipt.to_json(),
                    to_i64(r.log_position)?,
                    rec.kit_id.to_string(),
                    to_i64(rec.seq)?,
                    r.record.hash.0.as_slice()
                ],
            )
            .map_err(db_err)?;
        if changed != 1 {
            return Err(StoreError::Conflict(format!(
                "seq {} is no longer held as rejected",
                rec.seq
            )));
        }
        insert_case(self.tx, r.record, &r.inbox, &r.flags, at.timestamp_millis())
    }
}

/// The case of an accepted record: its row, its flags and its manifest's uploads.
fn insert_case(
    tx: &Transaction<'_>,
    record: &SignedRecord,
    inbox: &AuthorityId,
    flags: &[NewCaseFlag],
    at: i64,
) -> Result<(), StoreError> {
    let rec = &record.record;
    let record_id = rec.record_id.to_string();
    let kit_id = rec.kit_id.to_string();
    tx.prepare_cached(
        "INSERT INTO cases (record_id, authority_id, status, updated_at, kit_id, form_id,
                                    received_at, clerk_id)
                 VALUES (?1, ?2, 'received', ?3, ?4, ?5, ?3, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            record_id,
            inbox.as_str(),
            at,
            kit_id,
            rec.form_id.as_str(),
            rec.clerk_id.as_str()
        ])
    })
    .map_err(db_err)?;
    for flag in flags {
        tx.prepare_cached(
            "INSERT INTO case_flags (record_id, flag, reason, raised_at)
                     VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut s| s.execute(params![record_id, flag.flag.as_str(), flag.reason, at]))
        .map_err(db_err)?;
    }
    for (position, a) in rec.attachments.iter().enumerate() {
        let id = a.id.to_string();
        tx.prepare_cached(
            "INSERT INTO attachments (attachment_id, ciphertext_size, ciphertext_sha256,
                         created, upload_offset, complete)
                     VALUES (?1, ?2, ?3, FALSE, 0, FALSE) ON CONFLICT (attachment_id) DO NOTHING",
        )
        .and_then(|mut s| {
            s.execute(params![
                id,
                to_i64(a.ciphertext_size).unwrap_or(i64::MAX),
                a.ciphertext_sha256.0.as_slice()
            ])
        })
        .map_err(db_err)?;
        tx.prepare_cached(
            "INSERT INTO record_attachments (record_id, attachment_id, position)
                     VALUES (?1, ?2, ?3)",
        )
        .and_then(|mut s| s.execute(params![record_id, id, position as i64]))
        .map_err(db_err)?;
    }
    Ok(())
}
