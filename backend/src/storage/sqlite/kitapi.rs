//! SQLite: what the kit API reads and writes outside of record batches — enrolment,
//! nonces, state, uploads, the changes feed — and the case operations behind them.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sync_protocol::api::{CaseStatus, ChangeKind};
use sync_protocol::ids::{AuthorityId, KitId, RecordId};

use super::admin::{add_change, current_catalog_version, kit, raw_kit};
use super::db_err;
use crate::storage::rows::{self, pending_uploads, RawCase, RawKit, CASE_COLUMNS, KIT_COLUMNS};
use crate::storage::{
    parse, status_name, to_u64, CaseRow, EnrolOutcome, EvidenceRow, KitStateRow, KitStatus,
    StoreError,
};

pub fn enrol(
    c: &mut Connection,
    code_hash: &[u8; 32],
    public_key: &[u8; 32],
    reported_name: &str,
    at: i64,
) -> Result<EnrolOutcome, StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let found = tx
        .query_row(
            &format!("SELECT {KIT_COLUMNS} FROM kits WHERE code_hash = ?1"),
            [code_hash.as_slice()],
            raw_kit,
        )
        .optional()
        .map_err(db_err)?
        .map(RawKit::into_row)
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
    let taken = tx
        .query_row(
            "SELECT 1 FROM kits WHERE public_key = ?1",
            [public_key.as_slice()],
            |_| Ok(()),
        )
        .optional()
        .map_err(db_err)?;
    if taken.is_some() {
        return Ok(EnrolOutcome::KeyConflict);
    }
    tx.execute(
        "UPDATE kits SET public_key = ?1, reported_name = ?2, status = 'active', enrolled_at = ?3
         WHERE kit_id = ?4",
        params![
            public_key.as_slice(),
            reported_name,
            at,
            kit_row.kit_id.to_string()
        ],
    )
    .map_err(db_err)?;
    let enrolled = kit(&tx, &kit_row.kit_id)?
        .ok_or_else(|| StoreError::Database("enrolled kit vanished".into()))?;
    tx.commit().map_err(db_err)?;
    Ok(EnrolOutcome::Enrolled(enrolled))
}

pub fn kit_usage(
    c: &mut Connection,
    kit_id: &KitId,
    since: i64,
) -> Result<crate::storage::KitUsage, StoreError> {
    let kit = kit_id.to_string();
    let records: i64 = c
        .prepare_cached("SELECT COUNT(*) FROM records WHERE kit_id = ?1 AND received_at >= ?2")
        .and_then(|mut s| s.query_row(params![kit, since], |r| r.get(0)))
        .map_err(db_err)?;
    let pending: i64 = c
        .prepare_cached(PENDING_UPLOAD_BYTES_SQLITE)
        .and_then(|mut s| s.query_row(params![kit], |r| r.get(0)))
        .map_err(db_err)?;
    Ok(crate::storage::KitUsage {
        records_since: to_u64(records)?,
        pending_upload_bytes: to_u64(pending)?,
    })
}

const PENDING_UPLOAD_BYTES_SQLITE: &str = "SELECT COALESCE(SUM(a.ciphertext_size), 0)
     FROM attachments a
     WHERE NOT a.complete AND a.attachment_id IN (
         SELECT ra.attachment_id FROM record_attachments ra
         JOIN records r ON r.record_id = ra.record_id WHERE r.kit_id = ?1)";

pub fn kit_state(
    c: &mut Connection,
    kit_id: &KitId,
    limit: usize,
) -> Result<KitStateRow, StoreError> {
    let mut stmt = c
        .prepare_cached(
            "SELECT r.record_id, a.attachment_id, a.upload_offset, a.ciphertext_size
             FROM records r
             JOIN record_attachments ra ON ra.record_id = r.record_id
             JOIN attachments a ON a.attachment_id = ra.attachment_id
             WHERE r.kit_id = ?1 AND r.outcome = 'accepted' AND NOT a.complete
             ORDER BY r.log_position, ra.position
             LIMIT ?2",
        )
        .map_err(db_err)?;
    let raw = stmt
        .query_map(params![kit_id.to_string(), limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(db_err)?;
    drop(stmt);
    let pending = pending_uploads(raw)?;
    Ok(KitStateRow {
        pending_uploads: pending,
        catalog_version: current_catalog_version(c)?,
    })
}

fn raw_case(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawCase> {
    Ok(RawCase {
        record_id: r.get(0)?,
        kit_id: r.get(1)?,
        authority_id: r.get(2)?,
        form_id: r.get(3)?,
        form_version: r.get(4)?,
        kind: r.get(5)?,
        references: r.get(6)?,
        status: r.get(7)?,
        received_at: r.get(8)?,
        log_position: r.get(9)?,
        clerk_id: r.get(10)?,
        assigned_to: r.get(11)?,
    })
}

pub fn inbox(c: &mut Connection, authority: &AuthorityId) -> Result<Vec<CaseRow>, StoreError> {
    let mut stmt = c
        .prepare(&format!(
            "SELECT {CASE_COLUMNS} FROM cases c JOIN records r ON r.record_id = c.record_id
             WHERE c.authority_id = ?1 ORDER BY r.log_position"
        ))
        .map_err(db_err)?;
    let raw = stmt
        .query_map([authority.as_str()], raw_case)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(db_err)?;
    raw.into_iter().map(RawCase::into_row).collect()
}

pub fn fork_evidence(c: &mut Connection, kit_id: &KitId) -> Result<Vec<EvidenceRow>, StoreError> {
    let mut stmt = c
        .prepare(
            "SELECT seq, hash, envelope FROM fork_evidence WHERE kit_id = ?1 ORDER BY seq, hash",
        )
        .map_err(db_err)?;
    let raw = stmt
        .query_map([kit_id.to_string()], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(db_err)?;
    raw.into_iter()
        .map(|(seq, hash, envelope_json)| {
            Ok(EvidenceRow {
                kit_id: *kit_id,
                seq: to_u64(seq)?,
                hash: rows::hash(&hash)?,
                envelope_json,
            })
        })
        .collect()
}

/// Sets a case's status; with `expected`, only if the case is in that status.
pub fn set_case_status(
    c: &mut Connection,
    record_id: &RecordId,
    expected: Option<CaseStatus>,
    status: CaseStatus,
    comment: Option<&str>,
    actor: &str,
    at: i64,
) -> Result<bool, StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let found: Option<(String, Option<String>, String)> = tx
        .query_row(
            "SELECT r.kit_id, r.ref_record_id, c.status
             FROM cases c JOIN records r ON r.record_id = c.record_id
             WHERE c.record_id = ?1",
            [record_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(db_err)?;
    let Some((kit_id, references, current)) = found else {
        return Ok(false);
    };
    if expected.is_some_and(|e| status_name(e) != current) {
        return Ok(false);
    }
    let name = status_name(status);
    tx.execute(
        "UPDATE cases SET status = ?1, updated_at = ?2 WHERE record_id = ?3",
        params![name, at, record_id.to_string()],
    )
    .map_err(db_err)?;
    tx.execute(
        "INSERT INTO case_events (record_id, status, comment, actor, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![record_id.to_string(), name, comment, actor, at],
    )
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
    add_change(&tx, Some(&parse("kit id", &kit_id)?), &change, at)?;
    tx.commit().map_err(db_err)?;
    Ok(true)
}
