//! Kits, once for both databases: the nonces of their signed requests, revocation in its
//! three modes, the outbox a draining kit reports, and the wipe that follows an empty
//! one. (Issue 15: enrolment, listing and the kit API's reads move here too.)

use sync_protocol::api::ChangeKind;
use sync_protocol::ids::KitId;

use super::catalogs::add_change;
use super::sql::{col, col_bool, db_err, Db};
use super::{
    revocation_step, rows, to_i64, KitRevocation, RevocationMode, RevocationStep, StoreError,
};

/// How a kit was revoked, for the confirmation pages and the drain.
///
/// # Errors
/// Storage errors.
pub async fn kit_revocation(db: &Db, kit_id: &KitId) -> Result<Option<KitRevocation>, StoreError> {
    let Some(r) = sqlx::query(
        "SELECT revocation_mode, revoked_by, revoked_head_seq, outbox_reported,
                outbox_reported_at FROM kits WHERE kit_id = $1",
    )
    .bind(kit_id.to_string())
    .fetch_optional(&db.pool)
    .await
    .map_err(db_err)?
    else {
        return Ok(None);
    };
    let mode: Option<String> = col(&r, 0)?;
    rows::kit_revocation(
        mode.as_deref(),
        col(&r, 1)?,
        col(&r, 2)?,
        col(&r, 3)?,
        col(&r, 4)?,
    )
    .map(Some)
}

/// Revokes a kit in `mode` (PROTOCOL.md §6.5 "Revocation"); a wipe now queues the
/// kit's wipe change in the same transaction. False for an unknown kit.
///
/// # Errors
/// Storage errors; a mode the kit's standing does not allow.
pub async fn revoke_kit_as(
    db: &Db,
    kit_id: &KitId,
    reason: &str,
    mode: RevocationMode,
    by: &str,
    at: i64,
) -> Result<bool, StoreError> {
    let id = kit_id.to_string();
    let mut tx = db.begin().await?;
    let select = format!(
        "SELECT status FROM kits WHERE kit_id = $1{}",
        db.dialect.for_update()
    );
    // Built from constants only.
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(select))
        .bind(id.clone())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
    else {
        return Ok(false);
    };
    let status: String = col(&row, 0)?;
    let step = revocation_step(&status, mode)?;
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
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    if step == RevocationStep::Wipe {
        let wipe = ChangeKind::Wipe {
            reason: reason.to_owned(),
        };
        add_change(&mut tx, db.dialect, Some(kit_id), &wipe, at).await?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}

/// Stores the number of undelivered applications a kit reports; a draining kit that
/// reports none, with every attachment of its accepted records complete, is revoked
/// and gets its wipe. True when that happened.
///
/// # Errors
/// Storage errors.
pub async fn report_outbox(
    db: &Db,
    kit_id: &KitId,
    outbox: u64,
    at: i64,
) -> Result<bool, StoreError> {
    let id = kit_id.to_string();
    let mut tx = db.begin().await?;
    let Some(row) = sqlx::query(
        "UPDATE kits SET outbox_reported = $1, outbox_reported_at = $2 WHERE kit_id = $3
         RETURNING status, revoked_reason",
    )
    .bind(to_i64(outbox)?)
    .bind(at)
    .bind(id.clone())
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    else {
        return Ok(false);
    };
    let status: String = col(&row, 0)?;
    let reason: Option<String> = col(&row, 1)?;
    if status != "draining" || outbox != 0 {
        tx.commit().await.map_err(db_err)?;
        return Ok(false);
    }
    let pending = sqlx::query(
        "SELECT CAST(EXISTS (SELECT 1 FROM records r
             JOIN record_attachments ra ON ra.record_id = r.record_id
             JOIN attachments a ON a.attachment_id = ra.attachment_id
             WHERE r.kit_id = $1 AND r.outcome = 'accepted' AND NOT a.complete) AS INTEGER)",
    )
    .bind(id.clone())
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    if col_bool(&pending, 0)? {
        tx.commit().await.map_err(db_err)?;
        return Ok(false);
    }
    sqlx::query("UPDATE kits SET status = 'revoked' WHERE kit_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    let wipe = ChangeKind::Wipe {
        reason: reason.unwrap_or_default(),
    };
    add_change(&mut tx, db.dialect, Some(kit_id), &wipe, at).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}

/// Records a request nonce and the kit's last contact; false if the nonce was used
/// before (a replay).
///
/// # Errors
/// Storage errors.
pub async fn use_nonce(db: &Db, kit_id: &KitId, nonce: &str, at: i64) -> Result<bool, StoreError> {
    let kit = kit_id.to_string();
    let mut tx = db.begin().await?;
    let fresh = sqlx::query(
        "INSERT INTO nonces (kit_id, nonce, seen_at) VALUES ($1, $2, $3)
         ON CONFLICT (kit_id, nonce) DO NOTHING",
    )
    .bind(kit.clone())
    .bind(nonce.to_owned())
    .bind(at)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .rows_affected()
        == 1;
    sqlx::query("UPDATE kits SET last_seen_at = $1 WHERE kit_id = $2")
        .bind(at)
        .bind(kit)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(fresh)
}

/// Whether the nonce was used before (checked before the body is read).
///
/// # Errors
/// Storage errors.
pub async fn nonce_used(db: &Db, kit_id: &KitId, nonce: &str) -> Result<bool, StoreError> {
    sqlx::query("SELECT 1 FROM nonces WHERE kit_id = $1 AND nonce = $2")
        .bind(kit_id.to_string())
        .bind(nonce.to_owned())
        .fetch_optional(&db.pool)
        .await
        .map(|r| r.is_some())
        .map_err(db_err)
}

/// Forgets nonces seen before `before`; how many.
///
/// # Errors
/// Storage errors.
pub async fn purge_nonces(db: &Db, before: i64) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM nonces WHERE seen_at < $1")
        .bind(before)
        .execute(&db.pool)
        .await
        .map(|r| r.rows_affected())
        .map_err(db_err)
}
