//! PostgreSQL: what the kit API reads and writes outside of record batches — enrolment,
//! nonces, state, uploads, the changes feed — and the case operations behind them. The
//! same statements as `sqlite/kitapi.rs` in PostgreSQL's dialect.

use sync_protocol::api::{CaseStatus, ChangeKind};
use sync_protocol::ids::{AuthorityId, KitId, RecordId};
use tokio_postgres::{GenericClient, Row};

use super::admin::{add_change, current_catalog_version, kit, raw_kit};
use super::{db_err, is_unique_violation};
use crate::storage::rows::{self, pending_uploads, RawCase, RawKit, CASE_COLUMNS, KIT_COLUMNS};
use crate::storage::{
    parse, status_name, to_u64, CaseRow, EnrolOutcome, EvidenceRow, KitStateRow, KitStatus,
    StoreError,
};

pub async fn enrol<C: GenericClient + Sync>(
    c: &C,
    code_hash: &[u8; 32],
    public_key: &[u8; 32],
    reported_name: &str,
    at: i64,
) -> Result<EnrolOutcome, StoreError> {
    let found = c
        .query_opt(
            &format!("SELECT {KIT_COLUMNS} FROM kits WHERE code_hash = $1 FOR UPDATE"),
            &[&code_hash.as_slice()],
        )
        .await
        .map_err(db_err)?
        .map(|r| raw_kit(&r).and_then(RawKit::into_row))
        .transpose()?;
    let Some(kit_row) = found else {
        return Ok(EnrolOutcome::CodeInvalid);
    };
    if let Some(enrolled) = kit_row.public_key {
        return Ok(if enrolled == *public_key {
            EnrolOutcome::Repeated(kit_row)
        } else {
            EnrolOutcome::CodeInvalid
        });
    }
    if kit_row.status != KitStatus::Provisioned || kit_row.code_expires_at.timestamp_millis() <= at
    {
        return Ok(EnrolOutcome::CodeInvalid);
    }
    let updated = c
        .execute(
            "UPDATE kits SET public_key = $1, reported_name = $2, status = 'active', enrolled_at = $3
             WHERE kit_id = $4",
            &[
                &public_key.as_slice(),
                &reported_name,
                &at,
                &kit_row.kit_id.to_string(),
            ],
        )
        .await;
    match updated {
        Ok(_) => {}
        // The key is enrolled for another kit (the unique key decides, also between
        // two enrolments racing with two codes).
        Err(e) if is_unique_violation(&e) => return Ok(EnrolOutcome::KeyConflict),
        Err(e) => return Err(db_err(e)),
    }
    let enrolled = kit(c, &kit_row.kit_id, false)
        .await?
        .ok_or_else(|| StoreError::Database("enrolled kit vanished".into()))?;
    Ok(EnrolOutcome::Enrolled(enrolled))
}

/// The kit lookup of every kit request, prepared once per connection.
pub async fn kit_cached(
    client: &deadpool_postgres::Client,
    kit_id: &KitId,
) -> Result<Option<crate::storage::KitRow>, StoreError> {
    let stmt = client
        .prepare_cached(&format!("SELECT {KIT_COLUMNS} FROM kits WHERE kit_id = $1"))
        .await
        .map_err(db_err)?;
    client
        .query_opt(&stmt, &[&kit_id.to_string()])
        .await
        .map_err(db_err)?
        .map(|r| raw_kit(&r).and_then(RawKit::into_row))
        .transpose()
}

pub async fn kit_usage<C: GenericClient + Sync>(
    c: &C,
    kit_id: &KitId,
    since: i64,
) -> Result<crate::storage::KitUsage, StoreError> {
    let kit = kit_id.to_string();
    let row = c
        .query_one(
            "SELECT
                (SELECT COUNT(*) FROM records WHERE kit_id = $1 AND received_at >= $2),
                (SELECT COALESCE(SUM(a.ciphertext_size), 0)::BIGINT
                 FROM attachments a
                 WHERE NOT a.complete AND a.attachment_id IN (
                     SELECT ra.attachment_id FROM record_attachments ra
                     JOIN records r ON r.record_id = ra.record_id WHERE r.kit_id = $1))",
            &[&kit, &since],
        )
        .await
        .map_err(db_err)?;
    Ok(crate::storage::KitUsage {
        records_since: to_u64(row.get(0))?,
        pending_upload_bytes: to_u64(row.get(1))?,
    })
}

pub async fn kit_state<C: GenericClient + Sync>(
    c: &C,
    kit_id: &KitId,
    limit: usize,
) -> Result<KitStateRow, StoreError> {
    let found = c
        .query(
            "SELECT r.record_id, a.attachment_id, a.upload_offset, a.ciphertext_size
             FROM records r
             JOIN record_attachments ra ON ra.record_id = r.record_id
             JOIN attachments a ON a.attachment_id = ra.attachment_id
             WHERE r.kit_id = $1 AND r.outcome = 'accepted' AND NOT a.complete
             ORDER BY r.log_position, ra.position
             LIMIT $2",
            &[&kit_id.to_string(), &(limit as i64)],
        )
        .await
        .map_err(db_err)?;
    let raw = found
        .iter()
        .map(|r| {
            Ok((
                r.try_get(0).map_err(db_err)?,
                r.try_get(1).map_err(db_err)?,
                r.try_get(2).map_err(db_err)?,
                r.try_get(3).map_err(db_err)?,
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(KitStateRow {
        pending_uploads: pending_uploads(raw)?,
        catalog_version: current_catalog_version(c).await?,
    })
}

pub(super) fn raw_case(r: &Row) -> Result<RawCase, StoreError> {
    Ok(RawCase {
        record_id: r.try_get(0).map_err(db_err)?,
        kit_id: r.try_get(1).map_err(db_err)?,
        authority_id: r.try_get(2).map_err(db_err)?,
        form_id: r.try_get(3).map_err(db_err)?,
        form_version: r.try_get(4).map_err(db_err)?,
        kind: r.try_get(5).map_err(db_err)?,
        references: r.try_get(6).map_err(db_err)?,
        status: r.try_get(7).map_err(db_err)?,
        received_at: r.try_get(8).map_err(db_err)?,
        log_position: r.try_get(9).map_err(db_err)?,
        clerk_id: r.try_get(10).map_err(db_err)?,
        assigned_to: r.try_get(11).map_err(db_err)?,
    })
}

pub async fn inbox<C: GenericClient + Sync>(
    c: &C,
    authority: &AuthorityId,
) -> Result<Vec<CaseRow>, StoreError> {
    c.query(
        &format!(
            "SELECT {CASE_COLUMNS} FROM cases c JOIN records r ON r.record_id = c.record_id
             WHERE c.authority_id = $1 ORDER BY r.log_position"
        ),
        &[&authority.as_str()],
    )
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| raw_case(r).and_then(RawCase::into_row))
    .collect()
}

pub async fn fork_evidence<C: GenericClient + Sync>(
    c: &C,
    kit_id: &KitId,
) -> Result<Vec<EvidenceRow>, StoreError> {
    c.query(
        "SELECT seq, hash, envelope FROM fork_evidence WHERE kit_id = $1 ORDER BY seq, hash",
        &[&kit_id.to_string()],
    )
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| {
        Ok(EvidenceRow {
            kit_id: *kit_id,
            seq: to_u64(r.try_get(0).map_err(db_err)?)?,
            hash: rows::hash(r.try_get(1).map_err(db_err)?)?,
            envelope_json: r.try_get(2).map_err(db_err)?,
        })
    })
    .collect()
}

/// Sets a case's status; with `expected`, only if the case is in that status.
pub async fn set_case_status<C: GenericClient + Sync>(
    c: &C,
    record_id: &RecordId,
    expected: Option<CaseStatus>,
    status: CaseStatus,
    comment: Option<&str>,
    actor: &str,
    at: i64,
) -> Result<bool, StoreError> {
    let id = record_id.to_string();
    let Some(found) = c
        .query_opt(
            "SELECT r.kit_id, r.ref_record_id, c.status
             FROM cases c JOIN records r ON r.record_id = c.record_id
             WHERE c.record_id = $1 FOR UPDATE OF c",
            &[&id],
        )
        .await
        .map_err(db_err)?
    else {
        return Ok(false);
    };
    let kit_id: String = found.try_get(0).map_err(db_err)?;
    let references: Option<String> = found.try_get(1).map_err(db_err)?;
    let current: String = found.try_get(2).map_err(db_err)?;
    if expected.is_some_and(|e| status_name(e) != current) {
        return Ok(false);
    }
    let name = status_name(status);
    c.execute(
        "UPDATE cases SET status = $1, updated_at = $2 WHERE record_id = $3",
        &[&name, &at, &id],
    )
    .await
    .map_err(db_err)?;
    c.execute(
        "INSERT INTO case_events (record_id, status, comment, actor, at) VALUES ($1, $2, $3, $4, $5)",
        &[&id, &name, &comment, &actor, &at],
    )
    .await
    .map_err(db_err)?;
    let original = match references {
        Some(r) => parse("record id", &r)?,
        None => *record_id,
    };
    let change = ChangeKind::Status {
        record_id: original,
        status,
        comment: comment.map(str::to_owned),
    };
    add_change(c, Some(&parse("kit id", &kit_id)?), &change, at).await?;
    Ok(true)
}
