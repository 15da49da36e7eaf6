//! Records, chain steps, cases and receipts as a batch writes them: [`BatchTx`], the
//! one write transaction of a pushed batch ([`crate::ingest::push_batch`]) or an
//! imported held-records file ([`crate::held_import::import_held`]), once for both
//! databases. Storage knows nothing of ingest: ingest calls these operations.

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{DateTime, Utc};
use sync_protocol::chain::ChainAnchor;
use sync_protocol::ids::{AttachmentId, AuthorityId, KitId, RecordId, Sha256Hash};
use sync_protocol::record::SignedRecord;

use super::rows::{self, BATCH_KIT_COLUMNS};
use super::sql::{col, finish, reserve_counter, Counter, Dialect, Tx, ROWS_PER_INSERT};
use super::{json_text, kind_name, parse, to_i64, to_u64, EvidenceRow, NewCaseFlag, StoreError};
use pending::{AttachmentRow, CaseRow, FlagRow, LinkRow, Pending, RecordRow};
mod pending;

pub use crate::model::batch::{
    AppendOutcome, Appended, AuthorityArea, AuthorityKey, BatchKit, Bridge, ChainEntry, Restored,
    StoredOutcome,
};

/// A batch's write transaction: what [`crate::ingest`] and [`crate::held_import`] read
/// and write of a kit's chain, all of it committed together by [`BatchTx::commit`] or
/// none of it.
pub struct BatchTx {
    /// The transaction.
    tx: Tx<'static>,
    /// Its database.
    dialect: Dialect,
    /// Authority areas read in this transaction (the routing policy asks for the same
    /// two with every record of a batch).
    areas: HashMap<AuthorityId, Option<AuthorityArea>>,
    /// Sealing keys checked in this transaction (a batch's records name the same few).
    keys: HashMap<(AuthorityId, String), AuthorityKey>,
    /// Log positions reserved for this batch and not yet handed out.
    log_positions: VecDeque<u64>,
    /// How many more appends the batch expects ([`BatchTx::expect_appends`]).
    expected: usize,
    /// Rows appended, written when the batch commits.
    pending: Pending,
    /// Record ids looked up together ([`BatchTx::look_up_record_ids`]), and which of
    /// them were held then.
    looked_up: HashSet<RecordId>,
    held_ids: HashSet<RecordId>,
}

impl BatchTx {
    /// Ends the batch: commits when `result` is `Ok`, rolls back otherwise. Fails with
    /// `result`'s error, or the commit's.
    pub async fn commit<T>(mut self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        let result = match result {
            Ok(value) => self.pending.write(&mut self.tx).await.map(|()| value),
            Err(e) => Err(e),
        };
        finish(self.tx, result).await
    }

    /// Tells the transaction how many records the batch may append, so that their log
    /// positions are reserved with one statement. Positions reserved but not used (a
    /// record answered as duplicate or rejected) are left out of the log: positions are
    /// unique and increasing, not gapless (PROTOCOL.md, receipt `log_position`).
    pub fn expect_appends(&mut self, records: usize) {
        self.expected = records;
    }

    async fn read_area(
        &mut self,
        authority: &AuthorityId,
    ) -> Result<Option<AuthorityArea>, StoreError> {
        let Some(r) = sqlx::query("SELECT ars, kind FROM authorities WHERE id = $1")
            .bind(authority.to_string())
            .fetch_optional(&mut *self.tx)
            .await?
        else {
            return Ok(None);
        };
        rows::authority_area(&r).map(Some)
    }

    async fn execute(
        &mut self,
        q: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<u64, StoreError> {
        Ok(q.execute(&mut *self.tx).await?.rows_affected())
    }

    /// The case of an accepted record: its row, its flags and its manifest's uploads.
    fn insert_case(
        &mut self,
        record: &SignedRecord,
        inbox: &AuthorityId,
        flags: &[NewCaseFlag],
        at: i64,
    ) -> Result<(), StoreError> {
        let rec = &record.record;
        let record_id = rec.record_id.to_string();
        self.pending.case(CaseRow {
            record_id: record_id.clone(),
            authority_id: inbox.to_string(),
            at,
            kit_id: rec.kit_id.to_string(),
            form_id: rec.form_id.to_string(),
            clerk_id: rec.clerk_id.to_string(),
        });
        for flag in flags {
            self.pending.flag(FlagRow {
                record_id: record_id.clone(),
                flag: flag.flag.as_str(),
                reason: flag.reason.clone(),
                at,
            });
        }
        for (position, a) in rec.attachments.iter().enumerate() {
            self.pending.attachment(
                a.id,
                (a.ciphertext_size, a.ciphertext_sha256),
                AttachmentRow {
                    attachment_id: a.id.to_string(),
                    size: to_i64(a.ciphertext_size)?,
                    sha256: a.ciphertext_sha256.0.to_vec(),
                },
            );
            self.pending.link(LinkRow {
                record_id: record_id.clone(),
                attachment_id: a.id.to_string(),
                position: i64::try_from(position)
                    .map_err(|_| StoreError::Corrupt("attachment position".into()))?,
            });
        }
        Ok(())
    }

    async fn write_head(&mut self, kit: String, seq: i64, hash: Vec<u8>) -> Result<(), StoreError> {
        self.execute(
            sqlx::query("UPDATE kits SET head_seq = $1, head_hash = $2 WHERE kit_id = $3")
                .bind(seq)
                .bind(hash)
                .bind(kit),
        )
        .await
        .map(drop)
    }
}

impl BatchTx {
    /// Locks the kit for the rest of the transaction; its status, head, authority and
    /// revocation.
    pub async fn kit_for_update(&mut self, kit: &KitId) -> Result<Option<BatchKit>, StoreError> {
        let lock = self.dialect.for_update();
        let sql = format!("SELECT {BATCH_KIT_COLUMNS} FROM kits WHERE kit_id = $1{lock}");
        // Built from constants only.
        let Some(r) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(kit.to_string())
            .fetch_optional(&mut *self.tx)
            .await?
        else {
            return Ok(None);
        };
        rows::batch_kit(&r).map(Some)
    }

    /// The area of an authority the backend serves.
    pub async fn authority_area(
        &mut self,
        authority: &AuthorityId,
    ) -> Result<Option<AuthorityArea>, StoreError> {
        if let Some(known) = self.areas.get(authority) {
            return Ok(known.clone());
        }
        let area = self.read_area(authority).await?;
        self.areas.insert(authority.clone(), area.clone());
        Ok(area)
    }

    /// The chain entry at `seq`.
    pub async fn chain_entry(
        &mut self,
        kit: &KitId,
        seq: u64,
    ) -> Result<Option<ChainEntry>, StoreError> {
        if let Some(entry) = self.pending.chain_entry(*kit, seq) {
            return Ok(Some(entry));
        }
        let Some(r) = sqlx::query(
            "SELECT hash, outcome, problem, receipt FROM records WHERE kit_id = $1 AND seq = $2
             UNION ALL
             SELECT hash, 'bridged', reason, NULL FROM chain_bridges
             WHERE kit_id = $1 AND seq = $2",
        )
        .bind(kit.to_string())
        .bind(to_i64(seq)?)
        .fetch_optional(&mut *self.tx)
        .await?
        else {
            return Ok(None);
        };
        rows::chain_entry(&r).map(Some)
    }

    /// Whether any chained record has this id.
    pub async fn record_id_held(&mut self, id: &RecordId) -> Result<bool, StoreError> {
        if self.pending.holds_record_id(id) {
            return Ok(true);
        }
        if self.looked_up.contains(id) {
            return Ok(self.held_ids.contains(id));
        }
        let found = sqlx::query("SELECT 1 FROM records WHERE record_id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(found.is_some())
    }

    /// Looks up which of `ids` are held, with one statement per [`ROWS_PER_INSERT`]
    /// ids, for [`BatchTx::record_id_held`] to answer from. A record another batch
    /// stores meanwhile is still refused: by the unique key when this batch writes.
    pub async fn look_up_record_ids(&mut self, ids: &[RecordId]) -> Result<(), StoreError> {
        for chunk in ids.chunks(ROWS_PER_INSERT) {
            let marks: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
            let sql = format!(
                "SELECT record_id FROM records WHERE record_id IN ({})",
                marks.join(", ")
            );
            // Built from a constant and numbered placeholders only.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.to_string());
            }
            for r in q.fetch_all(&mut *self.tx).await? {
                let held: String = col(&r, 0)?;
                self.held_ids.insert(parse("record id", &held)?);
            }
            self.looked_up.extend(chunk.iter().copied());
        }
        Ok(())
    }

    /// Whether `key_id` is a key of `authority`.
    pub async fn authority_key(
        &mut self,
        authority: &AuthorityId,
        key_id: &str,
    ) -> Result<AuthorityKey, StoreError> {
        let cache_key = (authority.clone(), key_id.to_owned());
        if let Some(known) = self.keys.get(&cache_key) {
            return Ok(*known);
        }
        let r = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM authorities WHERE id = $1),
                    (SELECT COUNT(*) FROM authority_keys WHERE authority_id = $1 AND key_id = $2)",
        )
        .bind(authority.to_string())
        .bind(key_id.to_owned())
        .fetch_one(&mut *self.tx)
        .await?;
        let known = match (col::<i64>(&r, 0)? > 0, col::<i64>(&r, 1)? > 0) {
            (false, _) => AuthorityKey::UnknownAuthority,
            (true, false) => AuthorityKey::UnknownKey,
            (true, true) => AuthorityKey::Known,
        };
        self.keys.insert(cache_key, known);
        Ok(known)
    }

    /// `ciphertext_size` and `ciphertext_sha256` of a held attachment.
    pub async fn attachment_held(
        &mut self,
        id: &AttachmentId,
    ) -> Result<Option<(u64, Sha256Hash)>, StoreError> {
        if let Some(facts) = self.pending.attachment_facts(id) {
            return Ok(Some(facts));
        }
        let Some(r) = sqlx::query(
            "SELECT ciphertext_size, ciphertext_sha256 FROM attachments WHERE attachment_id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&mut *self.tx)
        .await?
        else {
            return Ok(None);
        };
        let size: i64 = col(&r, 0)?;
        let hash: Vec<u8> = col(&r, 1)?;
        Ok(Some((to_u64(size)?, rows::hash(&hash)?)))
    }

    /// Whether `original` can take a supplement from `kit`: an accepted application or
    /// correction of that kit, with a case in `authority` (PROTOCOL §4.1).
    pub async fn supplementable(
        &mut self,
        kit: &KitId,
        original: &RecordId,
        authority: &AuthorityId,
    ) -> Result<bool, StoreError> {
        let found = sqlx::query(
            "SELECT 1 FROM records r JOIN cases c ON c.record_id = r.record_id
             WHERE r.record_id = $1 AND r.kit_id = $2 AND r.outcome = 'accepted'
               AND r.kind IN ('application', 'correction') AND c.authority_id = $3",
        )
        .bind(original.to_string())
        .bind(kit.to_string())
        .bind(authority.to_string())
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(found.is_some())
    }

    /// The next position of the append-only log.
    pub async fn next_log_position(&mut self) -> Result<u64, StoreError> {
        if self.log_positions.is_empty() {
            let wanted = self.expected.max(1);
            self.log_positions =
                reserve_counter(&mut self.tx, self.dialect, Counter::LogPosition, wanted)
                    .await?
                    .into();
        }
        self.expected = self.expected.saturating_sub(1);
        self.log_positions
            .pop_front()
            .ok_or_else(|| StoreError::Database("no log position reserved".into()))
    }

    /// Stores the record; for accepted records also the case, the receipt and the
    /// manifest's attachments. The head moves with [`BatchTx::set_head`].
    pub async fn append(
        &mut self,
        appended: &Appended<'_>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let rec = &appended.record.record;
        let seq = to_i64(rec.seq)?;
        let at = at.timestamp_millis();
        let (outcome, problem, receipt, log_position, stored) = match &appended.outcome {
            AppendOutcome::Accepted {
                receipt,
                log_position,
                ..
            } => (
                "accepted",
                None,
                Some(receipt.to_json()),
                Some(to_i64(*log_position)?),
                StoredOutcome::Accepted(receipt.clone()),
            ),
            AppendOutcome::Rejected(p) => (
                "rejected",
                Some(json_text(p)),
                None,
                None,
                StoredOutcome::Rejected(p.clone()),
            ),
        };
        let row = RecordRow {
            kit_id: rec.kit_id.to_string(),
            seq,
            record_id: rec.record_id.to_string(),
            hash: appended.record.hash.0.to_vec(),
            envelope: appended.record.envelope.to_json(),
            outcome,
            problem,
            receipt,
            log_position,
            received_at: at,
            authority_id: rec.authority_id.to_string(),
            form_id: rec.form_id.to_string(),
            form_version: i64::from(rec.form_version),
            kind: kind_name(rec.kind),
            ref_record_id: rec.references.map(|r| r.to_string()),
        };
        let entry = ChainEntry {
            hash: appended.record.hash,
            outcome: stored,
        };
        self.pending
            .record(row, rec.kit_id, rec.seq, rec.record_id, entry);
        let AppendOutcome::Accepted { inbox, flags, .. } = &appended.outcome else {
            return Ok(());
        };
        self.insert_case(appended.record, inbox, flags, at)
    }

    /// Keeps a forking record as evidence (idempotent).
    pub async fn keep_evidence(
        &mut self,
        record: &SignedRecord,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.execute(
            sqlx::query(
                "INSERT INTO fork_evidence (hash, kit_id, seq, record_id, envelope, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hash) DO NOTHING",
            )
            .bind(record.hash.0.to_vec())
            .bind(record.record.kit_id.to_string())
            .bind(to_i64(record.record.seq)?)
            .bind(record.record.record_id.to_string())
            .bind(record.envelope.to_json())
            .bind(at.timestamp_millis()),
        )
        .await
        .map(drop)
    }

    /// Sets the kit's standing to quarantined.
    pub async fn quarantine(&mut self, kit: &KitId) -> Result<(), StoreError> {
        self.execute(
            sqlx::query(
                "UPDATE kits SET status = 'quarantined' WHERE kit_id = $1 AND status = 'active'",
            )
            .bind(kit.to_string()),
        )
        .await
        .map(drop)
    }

    /// Moves the kit's head (once per batch, after its appends: one statement instead of
    /// one per record).
    pub async fn set_head(&mut self, kit: &KitId, head: ChainAnchor) -> Result<(), StoreError> {
        self.write_head(kit.to_string(), to_i64(head.seq)?, head.hash.0.to_vec())
            .await
    }

    /// Bridges a position of the kit's chain (PROTOCOL.md §11.3): keeps the evidence
    /// and moves the head to it.
    pub async fn bridge(&mut self, b: &Bridge<'_>, at: DateTime<Utc>) -> Result<(), StoreError> {
        let seq = to_i64(b.seq)?;
        self.execute(
            sqlx::query(
                "INSERT INTO chain_bridges (kit_id, seq, record_id, hash, reason, kit_state,
                     envelope, receipt, statement_sha256, bridged_by, bridged_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(b.kit_id.to_string())
            .bind(seq)
            .bind(b.record_id.to_string())
            .bind(b.hash.0.to_vec())
            .bind(b.reason.to_owned())
            .bind(b.kit_state.to_owned())
            .bind(b.envelope.clone())
            .bind(b.receipt.clone())
            .bind(b.statement_sha256.0.to_vec())
            .bind(b.by.to_owned())
            .bind(at.timestamp_millis()),
        )
        .await?;
        self.write_head(b.kit_id.to_string(), seq, b.hash.0.to_vec())
            .await
    }

    /// Turns a record chained as rejected into a case, on the backend's own receipt
    /// (§11.3): the receipt as signed then, a new log position, inbox and flags.
    pub async fn accept_chained(
        &mut self,
        r: &Restored<'_>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let rec = &r.record.record;
        let changed = self
            .execute(
                sqlx::query(
                    "UPDATE records SET outcome = 'accepted', problem = NULL, receipt = $1,
                         log_position = $2
                     WHERE kit_id = $3 AND seq = $4 AND outcome = 'rejected' AND hash = $5",
                )
                .bind(r.receipt.to_json())
                .bind(to_i64(r.log_position)?)
                .bind(rec.kit_id.to_string())
                .bind(to_i64(rec.seq)?)
                .bind(r.record.hash.0.to_vec()),
            )
            .await?;
        if changed != 1 {
            return Err(StoreError::Conflict(format!(
                "seq {} is no longer held as rejected",
                rec.seq
            )));
        }
        self.insert_case(r.record, &r.inbox, &r.flags, at.timestamp_millis())
    }
}

impl super::Store {
    /// Opens a batch's write transaction (`BEGIN IMMEDIATE` on SQLite: writers take
    /// turns before reading the chain).
    pub async fn begin_batch(&self) -> Result<BatchTx, StoreError> {
        Ok(BatchTx {
            tx: self.db.begin().await?,
            dialect: self.db.dialect,
            areas: HashMap::new(),
            keys: HashMap::new(),
            log_positions: VecDeque::new(),
            expected: 0,
            pending: Pending::default(),
            looked_up: HashSet::new(),
            held_ids: HashSet::new(),
        })
    }

    /// The fork evidence kept for a kit (PROTOCOL.md §4.9), by seq.
    pub async fn fork_evidence(&self, kit_id: &KitId) -> Result<Vec<EvidenceRow>, StoreError> {
        sqlx::query(
            "SELECT seq, hash, envelope FROM fork_evidence WHERE kit_id = $1 ORDER BY seq, hash",
        )
        .bind(kit_id.to_string())
        .fetch_all(&self.db.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(EvidenceRow {
                kit_id: *kit_id,
                seq: to_u64(col(r, 0)?)?,
                hash: rows::hash(&col::<Vec<u8>>(r, 1)?)?,
                envelope_json: col(r, 2)?,
            })
        })
        .collect()
    }
}
