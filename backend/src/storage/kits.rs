//! Kits, once for both databases: enrolment, the lookup of every kit request, the nonces
//! of their signed requests, usage and state, revocation in its three modes, the queue a
//! kit reports (its outbox, where it stopped) and the wipe that follows a draining kit's
//! empty outbox.

use chrono::{DateTime, Utc};
use sqlx::Any;
use sync_protocol::api::{ChangeKind, QueueBlock};
use sync_protocol::ids::KitId;

use super::catalogs::add_change;
use super::rows::{pending_uploads, KIT_COLUMNS};
use super::sql::{col, col_bool, exists, lock_row, write_tx, Tx};
use super::{
    rows, to_i64, to_ms, to_u64, EnrolOutcome, KitRevocation, KitRow, KitStateRow, KitStatus,
    KitUsage, NewKit, RevocationMode, StoreError,
};

impl super::Store {
    /// Provisions a kit: its row with the hash of its one-time code. [`StoreError::NotFound`]
    /// for an unknown authority, [`StoreError::AlreadyExists`] for a known kit id.
    pub async fn provision_kit(&self, k: &NewKit) -> Result<(), StoreError> {
        write_tx!(self.db, async |tx| {
            super::authorities::require_authority(tx, &k.authority_id).await?;
            sqlx::query(
                "INSERT INTO kits (kit_id, authority_id, name, status, code_hash,
                         code_expires_at, created_at)
                     VALUES ($1, $2, $3, 'provisioned', $4, $5, $6)",
            )
            .bind(k.kit_id.to_string())
            .bind(k.authority_id.to_string())
            .bind(k.name.clone())
            .bind(k.code_hash.to_vec())
            .bind(to_ms(k.code_expires_at))
            .bind(to_ms(k.created_at))
            .execute(&mut **tx)
            .await
            .map_err(exists(format!("kit {}", k.kit_id)))?;
            Ok(())
        })
    }

    /// Enrols a kit with its one-time code's hash (PROTOCOL.md §6.1): the same key again is
    /// a repeated enrolment; a used, expired or unknown code, or a key another kit holds, is
    /// refused.
    pub async fn enrol(
        &self,
        code_hash: &[u8; 32],
        public_key: &[u8; 32],
        reported_name: &str,
        at: DateTime<Utc>,
    ) -> Result<EnrolOutcome, StoreError> {
        let at = to_ms(at);
        let lock = self.db.dialect.for_update();
        write_tx!(self.db, async |tx| {
            let sql = format!("SELECT {KIT_COLUMNS} FROM kits WHERE code_hash = $1{lock}");
            // Built from constants only.
            let found = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(code_hash.to_vec())
                .fetch_optional(&mut **tx)
                .await?;
            let Some(kit) = found.map(|r| rows::kit(&r)).transpose()? else {
                return Ok(EnrolOutcome::CodeInvalid);
            };
            if let Some(enrolled) = kit.public_key {
                return Ok(if enrolled == *public_key {
                    EnrolOutcome::Repeated(kit)
                } else {
                    EnrolOutcome::CodeInvalid
                });
            }
            if kit.status != KitStatus::Provisioned || to_ms(kit.code_expires_at) <= at {
                return Ok(EnrolOutcome::CodeInvalid);
            }
            let updated = sqlx::query(
                "UPDATE kits SET public_key = $1, reported_name = $2, status = 'active',
                         enrolled_at = $3
                     WHERE kit_id = $4",
            )
            .bind(public_key.to_vec())
            .bind(reported_name.to_owned())
            .bind(at)
            .bind(kit.kit_id.to_string())
            .execute(&mut **tx)
            .await;
            // The key is enrolled for another kit: the unique key decides, also between
            // two enrolments racing with two codes.
            match updated.map_err(StoreError::from) {
                Err(StoreError::AlreadyExists(_)) => return Ok(EnrolOutcome::KeyConflict),
                other => other?,
            };
            let enrolled = kit_via(&mut **tx, &kit.kit_id, "").await?;
            enrolled
                .map(EnrolOutcome::Enrolled)
                .ok_or_else(|| StoreError::Database("enrolled kit vanished".into()))
        })
    }

    /// A kit (the lookup of every kit request).
    pub async fn kit(&self, kit_id: &KitId) -> Result<Option<KitRow>, StoreError> {
        kit_via(&self.db.pool, kit_id, "").await
    }

    /// Every kit, newest first.
    pub async fn kits(&self) -> Result<Vec<KitRow>, StoreError> {
        let sql = format!("SELECT {KIT_COLUMNS} FROM kits ORDER BY created_at DESC, kit_id");
        // Built from constants only.
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(rows::kit)
            .collect()
    }

    /// Revokes a kit at once (403 from now on) and queues its wipe; false for an unknown
    /// kit. A revoked kit stays revoked without a second wipe.
    pub async fn revoke_kit(
        &self,
        kit_id: &KitId,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let lock = self.db.dialect.for_update();
        write_tx!(self.db, async |tx| {
            let Some(row) = kit_via(&mut **tx, kit_id, lock).await? else {
                return Ok(false);
            };
            if row.status != KitStatus::Revoked {
                sqlx::query(
                    "UPDATE kits SET status = 'revoked', revoked_reason = $1 WHERE kit_id = $2",
                )
                .bind(reason.to_owned())
                .bind(kit_id.to_string())
                .execute(&mut **tx)
                .await?;
                wipe(tx, self.db.dialect, kit_id, reason.to_owned(), to_ms(at)).await?;
            }
            Ok(true)
        })
    }

    /// Lifts a quarantine; false if the kit is not quarantined.
    pub async fn clear_quarantine(&self, kit_id: &KitId) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE kits SET status = 'active' WHERE kit_id = $1 AND status = 'quarantined'",
        )
        .bind(kit_id.to_string())
        .execute(&self.db.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records a request nonce and the kit's last contact; false if the nonce was used
    /// before (a replay).
    pub async fn use_nonce(
        &self,
        kit_id: &KitId,
        nonce: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (at, kit) = (to_ms(at), kit_id.to_string());
        write_tx!(self.db, async |tx| {
            let inserted = sqlx::query(
                "INSERT INTO nonces (kit_id, nonce, seen_at) VALUES ($1, $2, $3)
                     ON CONFLICT (kit_id, nonce) DO NOTHING",
            )
            .bind(kit.clone())
            .bind(nonce.to_owned())
            .bind(at)
            .execute(&mut **tx)
            .await?;
            sqlx::query("UPDATE kits SET last_seen_at = $1 WHERE kit_id = $2")
                .bind(at)
                .bind(kit)
                .execute(&mut **tx)
                .await?;
            Ok(inserted.rows_affected() == 1)
        })
    }

    /// What a kit has used of its quotas: records received since `since`, and bytes of
    /// attachments still to be uploaded.
    pub async fn kit_usage(
        &self,
        kit_id: &KitId,
        since: DateTime<Utc>,
    ) -> Result<KitUsage, StoreError> {
        let row = sqlx::query(
            "SELECT
            (SELECT COUNT(*) FROM records WHERE kit_id = $1 AND received_at >= $2),
            (SELECT CAST(COALESCE(SUM(a.ciphertext_size), 0) AS BIGINT)
             FROM attachments a
             WHERE NOT a.complete AND a.attachment_id IN (
                 SELECT ra.attachment_id FROM record_attachments ra
                 JOIN records r ON r.record_id = ra.record_id WHERE r.kit_id = $1))",
        )
        .bind(kit_id.to_string())
        .bind(to_ms(since))
        .fetch_one(&self.db.pool)
        .await?;
        Ok(KitUsage {
            records_since: to_u64(col(&row, 0)?)?,
            pending_upload_bytes: to_u64(col(&row, 1)?)?,
        })
    }

    /// Whether the nonce was used before (checked before the body is read).
    pub async fn nonce_used(&self, kit_id: &KitId, nonce: &str) -> Result<bool, StoreError> {
        let found = sqlx::query("SELECT 1 FROM nonces WHERE kit_id = $1 AND nonce = $2")
            .bind(kit_id.to_string())
            .bind(nonce.to_owned())
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(found.is_some())
    }

    /// Forgets nonces seen before `before`; how many.
    pub async fn purge_nonces(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM nonces WHERE seen_at < $1")
            .bind(to_ms(before))
            .execute(&self.db.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Pending uploads (up to `limit`) and the catalog version for `GET /v1/state`.
    pub async fn kit_state(&self, kit_id: &KitId, limit: usize) -> Result<KitStateRow, StoreError> {
        let found = sqlx::query(
            "SELECT r.record_id, a.attachment_id, a.upload_offset, a.ciphertext_size
             FROM records r
             JOIN record_attachments ra ON ra.record_id = r.record_id
             JOIN attachments a ON a.attachment_id = ra.attachment_id
             WHERE r.kit_id = $1 AND r.outcome = 'accepted' AND NOT a.complete
             ORDER BY r.log_position, ra.position
             LIMIT $2",
        )
        .bind(kit_id.to_string())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.db.pool)
        .await?;
        let raw = found
            .iter()
            .map(|r| Ok((col(r, 0)?, col(r, 1)?, col(r, 2)?, col(r, 3)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(KitStateRow {
            pending_uploads: pending_uploads(raw)?,
            catalog_version: self.current_catalog_version().await?,
        })
    }

    /// Revokes a kit in `mode` (PROTOCOL.md §6.5 "Revocation"); a wipe now queues the
    /// kit's wipe change in the same transaction. False for an unknown kit;
    /// [`StoreError::Conflict`] for a mode the kit's standing does not allow.
    pub async fn revoke_kit_as(
        &self,
        kit_id: &KitId,
        reason: &str,
        mode: RevocationMode,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (dialect, id) = (self.db.dialect, kit_id.to_string());
        write_tx!(self.db, async |tx| {
            let select = "SELECT status FROM kits WHERE kit_id = $1";
            let Some(row) = lock_row(tx, dialect, select, id.clone()).await? else {
                return Ok(false);
            };
            let step = revocation_step(&col::<String>(&row, 0)?, mode)?;
            let new_status = match step {
                RevocationStep::Nothing => return Ok(true),
                RevocationStep::Drain => "draining",
                RevocationStep::Wipe => "revoked",
            };
            sqlx::query(
                "UPDATE kits SET status = $1, revoked_reason = $2, revocation_mode = $3,
                         revoked_by = $4, revoked_head_seq = COALESCE(revoked_head_seq, head_seq)
                     WHERE kit_id = $5",
            )
            .bind(new_status)
            .bind(reason.to_owned())
            .bind(mode.as_str())
            .bind(by.to_owned())
            .bind(id)
            .execute(&mut **tx)
            .await?;
            if step == RevocationStep::Wipe {
                wipe(tx, dialect, kit_id, reason.to_owned(), to_ms(at)).await?;
            }
            Ok(true)
        })
    }

    /// Stores what a kit reports of its queue: the number of undelivered applications
    /// and where its queue stopped, if it did (a stop keeps the time it was first
    /// reported). A draining kit that reports none, with every attachment of its
    /// accepted records complete, is revoked and gets its wipe. True when that happened.
    pub async fn report_queue(
        &self,
        kit_id: &KitId,
        outbox: u64,
        blocked: Option<(QueueBlock, u64)>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (at, id) = (to_ms(at), kit_id.to_string());
        write_tx!(self.db, async |tx| {
            let Some(row) = sqlx::query(
                "UPDATE kits SET outbox_reported = $1, outbox_reported_at = $2,
                        blocked_since = CASE WHEN $3 IS NULL THEN NULL
                            WHEN blocked_reason = $3 AND blocked_seq = $4 THEN blocked_since
                            ELSE $2 END,
                        blocked_reason = $3, blocked_seq = $4
                     WHERE kit_id = $5 RETURNING status, revoked_reason",
            )
            .bind(to_i64(outbox)?)
            .bind(at)
            .bind(blocked.map(|(reason, _)| reason.as_str()))
            .bind(blocked.map(|(_, seq)| to_i64(seq)).transpose()?)
            .bind(id.clone())
            .fetch_optional(&mut **tx)
            .await?
            else {
                return Ok(false);
            };
            if col::<String>(&row, 0)? != "draining" || outbox != 0 {
                return Ok(false);
            }
            let pending = sqlx::query(
                "SELECT CAST(EXISTS (SELECT 1 FROM records r
                     JOIN record_attachments ra ON ra.record_id = r.record_id
                     JOIN attachments a ON a.attachment_id = ra.attachment_id
                     WHERE r.kit_id = $1 AND r.outcome = 'accepted' AND NOT a.complete)
                     AS INTEGER)",
            )
            .bind(id.clone())
            .fetch_one(&mut **tx)
            .await?;
            if col_bool(&pending, 0)? {
                return Ok(false);
            }
            sqlx::query("UPDATE kits SET status = 'revoked' WHERE kit_id = $1")
                .bind(id)
                .execute(&mut **tx)
                .await?;
            let reason = col::<Option<String>>(&row, 1)?.unwrap_or_default();
            wipe(tx, self.db.dialect, kit_id, reason, at).await?;
            Ok(true)
        })
    }

    /// How a kit was revoked, for the confirmation pages and the drain.
    pub async fn kit_revocation(
        &self,
        kit_id: &KitId,
    ) -> Result<Option<KitRevocation>, StoreError> {
        let Some(r) = sqlx::query(
            "SELECT revocation_mode, revoked_by, revoked_head_seq, outbox_reported,
                outbox_reported_at FROM kits WHERE kit_id = $1",
        )
        .bind(kit_id.to_string())
        .fetch_optional(&self.db.pool)
        .await?
        else {
            return Ok(None);
        };
        rows::kit_revocation(&r).map(Some)
    }
}

/// A kit, through `ex` (the pool, or an open transaction with `lock` set to the
/// dialect's `FOR UPDATE`).
pub(crate) async fn kit_via<'e, E>(
    ex: E,
    kit_id: &KitId,
    lock: &'static str,
) -> Result<Option<KitRow>, StoreError>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let sql = format!("SELECT {KIT_COLUMNS} FROM kits WHERE kit_id = $1{lock}");
    // Built from constants only.
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(kit_id.to_string())
        .fetch_optional(ex)
        .await?
        .map(|r| rows::kit(&r))
        .transpose()
}

/// Queues the wipe of a kit just revoked, in the revocation's transaction.
async fn wipe(
    tx: &mut Tx<'_>,
    dialect: super::sql::Dialect,
    kit_id: &KitId,
    reason: String,
    at: i64,
) -> Result<(), StoreError> {
    add_change(tx, dialect, Some(kit_id), &ChangeKind::Wipe { reason }, at).await
}

/// What revoking a kit in `mode` does to a kit in `status` .
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RevocationStep {
    /// Already revoked: nothing.
    Nothing,
    /// Into `draining` (drain or stolen): pushes still accepted, flagged.
    Drain,
    /// Into `revoked` with the wipe queued.
    Wipe,
}

/// The [`RevocationStep`] for a stored kit status: [`StoreError::Conflict`] for draining a
/// quarantined kit (its fork is under investigation: release it first, or wipe now).
fn revocation_step(status: &str, mode: RevocationMode) -> Result<RevocationStep, StoreError> {
    match (status, mode) {
        ("revoked", _) => Ok(RevocationStep::Nothing),
        (_, RevocationMode::WipeNow) | ("provisioned", _) => Ok(RevocationStep::Wipe),
        ("quarantined", _) => Err(StoreError::Conflict(
            "a quarantined kit cannot drain; release it after the investigation, or wipe it now"
                .into(),
        )),
        _ => Ok(RevocationStep::Drain),
    }
}
