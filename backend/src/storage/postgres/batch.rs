//! PostgreSQL: the [`BatchTx`] operations of [`crate::ingest::run_batch`] on an open
//! transaction. `kit_for_update` takes the kit's row lock, so batches of one kit run one
//! after another even across backend processes; other kits proceed in parallel.

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use sync_protocol::ids::{AttachmentId, AuthorityId, KitId, RecordId, Sha256Hash};
use sync_protocol::record::SignedRecord;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::db_err;
use crate::ingest::{
    AppendOutcome, Appended, AuthorityArea, AuthorityKey, BatchKit, BatchTx, Bridge, ChainEntry,
    Restored,
};
use crate::storage::rows;
use crate::storage::NewCaseFlag;
use crate::storage::{json_text, kind_name, to_i64, to_u64, StoreError};

/// An open PostgreSQL transaction seen as a [`BatchTx`]. Statements are prepared once
/// per pooled connection (deadpool's statement cache): a batch runs several statements
/// per record, and preparing each again would double the round trips.
pub struct PgTx<'a, 't> {
    pub tx: &'a Transaction<'t>,
}

impl PgTx<'_, '_> {
    async fn opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        let stmt = self.tx.prepare_cached(sql).await.map_err(db_err)?;
        self.tx.query_opt(&stmt, params).await.map_err(db_err)
    }

    async fn one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, StoreError> {
        let stmt = self.tx.prepare_cached(sql).await.map_err(db_err)?;
        self.tx.query_one(&stmt, params).await.map_err(db_err)
    }

    async fn exec(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let stmt = self.tx.prepare_cached(sql).await.map_err(db_err)?;
        self.tx.execute(&stmt, params).await.map_err(db_err)
    }

    /// The case of an accepted record: its row, its flags and its manifest's uploads.
    async fn insert_case(
        &self,
        record: &SignedRecord,
        inbox: &AuthorityId,
        flags: &[NewCaseFlag],
        at: i64,
    ) -> Result<(), StoreError> {
        let rec = &record.record;
        let record_id = rec.record_id.to_string();
        let kit_id = rec.kit_id.to_string();
        self.exec(
            "INSERT INTO cases (record_id, authority_id, status, updated_at, kit_id, form_id,
                                received_at, clerk_id)
                 VALUES ($1, $2, 'received', $3, $4, $5, $3, $6)",
            &[
                &record_id,
                &inbox.as_str(),
                &at,
                &kit_id,
                &rec.form_id.as_str(),
                &rec.clerk_id.as_str(),
            ],
        )
        .await?;
        for flag in flags {
            self.exec(
                "INSERT INTO case_flags (record_id, flag, reason, raised_at)
                     VALUES ($1, $2, $3, $4)",
                &[&record_id, &flag.flag.as_str(), &flag.reason, &at],
            )
            .await?;
        }
        for (position, a) in rec.attachments.iter().enumerate() {
            let id = a.id.to_string();
            self.exec(
                "INSERT INTO attachments (attachment_id, ciphertext_size, ciphertext_sha256,
                         created, upload_offset, complete)
                     VALUES ($1, $2, $3, FALSE, 0, FALSE) ON CONFLICT (attachment_id) DO NOTHING",
                &[
                    &id,
                    &to_i64(a.ciphertext_size)?,
                    &a.ciphertext_sha256.0.as_slice(),
                ],
            )
            .await?;
            self.exec(
                "INSERT INTO record_attachments (record_id, attachment_id, position)
                     VALUES ($1, $2, $3)",
                &[&record_id, &id, &(position as i64)],
            )
            .await?;
        }
        Ok(())
    }
}

impl BatchTx for PgTx<'_, '_> {
    async fn kit_for_update(&mut self, kit: &KitId) -> Result<Option<BatchKit>, StoreError> {
        let Some(r) = self
            .opt(
                &format!(
                    "SELECT {} FROM kits WHERE kit_id = $1 FOR UPDATE",
                    rows::BATCH_KIT_COLUMNS
                ),
                &[&kit.to_string()],
            )
            .await?
        else {
            return Ok(None);
        };
        let status: String = r.try_get(0).map_err(db_err)?;
        let seq: Option<i64> = r.try_get(1).map_err(db_err)?;
        let hash: Option<Vec<u8>> = r.try_get(2).map_err(db_err)?;
        let authority: String = r.try_get(3).map_err(db_err)?;
        let mode: Option<String> = r.try_get(4).map_err(db_err)?;
        let reason: Option<String> = r.try_get(5).map_err(db_err)?;
        rows::batch_kit(
            &status,
            seq,
            hash.as_deref(),
            &authority,
            mode.as_deref(),
            reason,
        )
        .map(Some)
    }

    async fn authority_area(
        &mut self,
        authority: &AuthorityId,
    ) -> Result<Option<AuthorityArea>, StoreError> {
        let Some(r) = self
            .opt(
                "SELECT ars, kind FROM authorities WHERE id = $1",
                &[&authority.as_str()],
            )
            .await?
        else {
            return Ok(None);
        };
        let ars: Option<String> = r.try_get(0).map_err(db_err)?;
        let kind: String = r.try_get(1).map_err(db_err)?;
        rows::authority_area(ars.as_deref(), &kind).map(Some)
    }

    async fn chain_entry(
        &mut self,
        kit: &KitId,
        seq: u64,
    ) -> Result<Option<ChainEntry>, StoreError> {
        let Some(r) = self
            .opt(
                "SELECT hash, outcome, problem, receipt FROM records WHERE kit_id = $1 AND seq = $2
                 UNION ALL
                 SELECT hash, 'bridged', reason, NULL FROM chain_bridges
                 WHERE kit_id = $1 AND seq = $2",
                &[&kit.to_string(), &to_i64(seq)?],
            )
            .await?
        else {
            return Ok(None);
        };
        let hash: Vec<u8> = r.try_get(0).map_err(db_err)?;
        let outcome: String = r.try_get(1).map_err(db_err)?;
        let problem: Option<String> = r.try_get(2).map_err(db_err)?;
        let receipt: Option<Vec<u8>> = r.try_get(3).map_err(db_err)?;
        rows::chain_entry(&hash, &outcome, problem.as_deref(), receipt.as_deref()).map(Some)
    }

    async fn record_id_held(&mut self, id: &RecordId) -> Result<bool, StoreError> {
        self.opt(
            "SELECT 1 FROM records WHERE record_id = $1",
            &[&id.to_string()],
        )
        .await
        .map(|r| r.is_some())
    }

    async fn authority_key(
        &mut self,
        authority: &AuthorityId,
        key_id: &str,
    ) -> Result<AuthorityKey, StoreError> {
        let r = self.one(
                "SELECT EXISTS (SELECT 1 FROM authorities WHERE id = $1),
                        EXISTS (SELECT 1 FROM authority_keys WHERE authority_id = $1 AND key_id = $2)",
                &[&authority.as_str(), &key_id],
            )
            .await?;
        let authority_known: bool = r.try_get(0).map_err(db_err)?;
        let key_known: bool = r.try_get(1).map_err(db_err)?;
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
        let Some(r) = self.opt(
                "SELECT ciphertext_size, ciphertext_sha256 FROM attachments WHERE attachment_id = $1",
                &[&id.to_string()],
            )
            .await?
        else {
            return Ok(None);
        };
        let size: i64 = r.try_get(0).map_err(db_err)?;
        let hash: Vec<u8> = r.try_get(1).map_err(db_err)?;
        Ok(Some((to_u64(size)?, rows::hash(&hash)?)))
    }

    async fn next_log_position(&mut self) -> Result<u64, StoreError> {
        let v: i64 = self
            .one("SELECT nextval('log_position_seq')", &[])
            .await?
            .try_get(0)
            .map_err(db_err)?;
        to_u64(v)
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
        self.exec(
            "INSERT INTO records (kit_id, seq, record_id, hash, envelope, outcome, problem,
                     receipt, log_position, received_at, authority_id, form_id, form_version,
                     kind, ref_record_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            &[
                &kit_id,
                &seq,
                &record_id,
                &appended.record.hash.0.as_slice(),
                &appended.record.envelope.to_json(),
                &outcome,
                &problem,
                &receipt,
                &log_position,
                &at,
                &rec.authority_id.as_str(),
                &rec.form_id.as_str(),
                &i64::from(rec.form_version),
                &kind_name(rec.kind),
                &rec.references.map(|r| r.to_string()),
            ],
        )
        .await?;
        self.exec(
            "UPDATE kits SET head_seq = $1, head_hash = $2 WHERE kit_id = $3",
            &[&seq, &appended.record.hash.0.as_slice(), &kit_id],
        )
        .await?;
        let AppendOutcome::Accepted { inbox, flags, .. } = &appended.outcome else {
            return Ok(());
        };
        self.insert_case(appended.record, inbox, flags, at).await
    }

    async fn keep_evidence(
        &mut self,
        record: &SignedRecord,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO fork_evidence (hash, kit_id, seq, record_id, envelope, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hash) DO NOTHING",
            &[
                &record.hash.0.as_slice(),
                &record.record.kit_id.to_string(),
                &to_i64(record.record.seq)?,
                &record.record.record_id.to_string(),
                &record.envelope.to_json(),
                &at.timestamp_millis(),
            ],
        )
        .await
        .map(drop)
    }

    async fn quarantine(&mut self, kit: &KitId) -> Result<(), StoreError> {
        self.exec(
            "UPDATE kits SET status = 'quarantined' WHERE kit_id = $1 AND status = 'active'",
            &[&kit.to_string()],
        )
        .await
        .map(drop)
    }

    async fn bridge(&mut self, b: &Bridge<'_>, at: DateTime<Utc>) -> Result<(), StoreError> {
        let (kit_id, seq) = (b.kit_id.to_string(), to_i64(b.seq)?);
        self.exec(
            "INSERT INTO chain_bridges (kit_id, seq, record_id, hash, reason, kit_state,
                 envelope, receipt, statement_sha256, bridged_by, bridged_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &kit_id,
                &seq,
                &b.record_id.to_string(),
                &b.hash.0.as_slice(),
                &b.reason,
                &b.kit_state,
                &b.envelope,
                &b.receipt,
                &b.statement_sha256.0.as_slice(),
                &b.by,
                &at.timestamp_millis(),
            ],
        )
        .await?;
        self.exec(
            "UPDATE kits SET head_seq = $1, head_hash = $2 WHERE kit_id = $3",
            &[&seq, &b.hash.0.as_slice(), &kit_id],
        )
        .await
        .map(drop)
    }

    async fn accept_chained(
        &mut self,
        r: &Restored<'_>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let rec = &r.record.record;
        let changed = self
            .exec(
                "UPDATE records SET outcome = 'accepted', problem = NULL, receipt = $1,
                     log_position = $2
                 WHERE kit_id = $3 AND seq = $4 AND outcome = 'rejected' AND hash = $5",
                &[
                    &r.receipt.to_json(),
                    &to_i64(r.log_position)?,
                    &rec.kit_id.to_string(),
                    &to_i64(rec.seq)?,
                    &r.record.hash.0.as_slice(),
                ],
            )
            .await?;
        if changed != 1 {
            return Err(StoreError::Conflict(format!(
                "seq {} is no longer held as rejected",
                rec.seq
            )));
        }
        self.insert_case(r.record, &r.inbox, &r.flags, at.timestamp_millis())
            .await
    }
}
