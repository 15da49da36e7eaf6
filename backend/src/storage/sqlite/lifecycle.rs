//! SQLite: the kit-lifecycle part of the store — published catalogs by version, case
//! flags (raised at ingest, resolved by a person with a history entry), and forwarding
//! a flagged case to another authority.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sync_protocol::ids::RecordId;

use super::db_err;
use crate::storage::rows;
use crate::storage::ResolveFlags as Resolve;
use crate::storage::{
    from_ms, CaseFlag, CaseFlagRow, PublishedCatalog, RevocationMode, RevocationStep, StoreError,
};
use sync_protocol::api::ChangeKind;

pub fn catalog(c: &Connection, version: &str) -> Result<Option<PublishedCatalog>, StoreError> {
    let raw: Option<(Vec<u8>, String, i64)> = c
        .prepare_cached("SELECT envelope, etag, published_at FROM catalogs WHERE version = ?1")
        .and_then(|mut s| {
            s.query_row([version], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
        })
        .map_err(db_err)?;
    raw.map(|(envelope_json, etag, at)| {
        Ok(PublishedCatalog {
            version: version.to_owned(),
            envelope_json,
            etag,
            published_at: from_ms(at)?,
        })
    })
    .transpose()
}

type RawFlag = (
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
);

pub fn case_flags(c: &Connection, record_id: &RecordId) -> Result<Vec<CaseFlagRow>, StoreError> {
    let raw: Vec<RawFlag> = c
        .prepare_cached(
            "SELECT flag, reason, raised_at, resolved_at, resolved_by, resolution
             FROM case_flags WHERE record_id = ?1 ORDER BY raised_at, flag",
        )
        .and_then(|mut s| {
            s.query_map([record_id.to_string()], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?
            .collect()
        })
        .map_err(db_err)?;
    raw.into_iter()
        .map(|(flag, reason, raised, at, by, resolution)| {
            let resolved = match (at, by, resolution) {
                (Some(at), Some(by), Some(res)) => Some((at, by, res)),
                _ => None,
            };
            rows::case_flag(&flag, reason, raised, resolved)
        })
        .collect()
}

pub fn open_case_flags(
    c: &Connection,
    record_ids: &[RecordId],
) -> Result<Vec<(RecordId, CaseFlag)>, StoreError> {
    let mut out = Vec::new();
    let mut stmt = c
        .prepare_cached(
            "SELECT flag FROM case_flags WHERE record_id = ?1 AND resolved_at IS NULL
             ORDER BY flag",
        )
        .map_err(db_err)?;
    for id in record_ids {
        let flags: Vec<String> = stmt
            .query_map([id.to_string()], |r| r.get(0))
            .and_then(Iterator::collect)
            .map_err(db_err)?;
        for f in flags {
            let flag = CaseFlag::parse(&f)
                .ok_or_else(|| StoreError::Corrupt(format!("case flag {f:?}")))?;
            out.push((*id, flag));
        }
    }
    Ok(out)
}

pub fn resolve_case_flags(c: &mut Connection, r: &Resolve<'_>) -> Result<bool, StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let id = r.record_id.to_string();
    let Some(status) = tx
        .query_row(
            "SELECT status FROM cases WHERE record_id = ?1",
            [&id],
            |row| row.get::<_, String>(0),
        )
        .optional()
        .map_err(db_err)?
    else {
        return Ok(false);
    };
    let mut resolved = 0;
    for flag in r.flags {
        resolved += tx
            .execute(
                "UPDATE case_flags SET resolved_at = ?1, resolved_by = ?2, resolution = ?3
                 WHERE record_id = ?4 AND flag = ?5 AND resolved_at IS NULL",
                params![r.at, r.actor, r.resolution, id, flag.as_str()],
            )
            .map_err(db_err)?;
    }
    if resolved == 0 {
        return Ok(false);
    }
    if let Some(to) = r.forward_to {
        tx.execute(
            "UPDATE cases SET authority_id = ?1, assigned_to = NULL, updated_at = ?2
             WHERE record_id = ?3",
            params![to.as_str(), r.at, id],
        )
        .map_err(db_err)?;
    }
    let comment = crate::storage::lifecycle_comment(r.resolution, r.comment);
    tx.execute(
        "INSERT INTO case_events (record_id, status, comment, actor, at, kind, assigned_to)
         VALUES (?1, ?2, ?3, ?4, ?5, 'flag', NULL)",
        params![id, status, comment, r.actor, r.at],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(true)
}

pub fn kit_revocation(
    c: &Connection,
    kit_id: &sync_protocol::ids::KitId,
) -> Result<Option<crate::storage::KitRevocation>, StoreError> {
    type Raw = (
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let raw: Option<Raw> = c
        .prepare_cached(
            "SELECT revocation_mode, revoked_by, revoked_head_seq, outbox_reported,
                    outbox_reported_at FROM kits WHERE kit_id = ?1",
        )
        .and_then(|mut s| {
            s.query_row([kit_id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()
        })
        .map_err(db_err)?;
    raw.map(|(mode, by, head, outbox, at)| {
        rows::kit_revocation(mode.as_deref(), by, head, outbox, at)
    })
    .transpose()
}

/// Whether the kit has delivered records whose attachments are not all held.
fn uploads_pending(c: &Connection, kit_id: &str) -> Result<bool, StoreError> {
    c.query_row(
        "SELECT EXISTS (SELECT 1 FROM records r
             JOIN record_attachments ra ON ra.record_id = r.record_id
             JOIN attachments a ON a.attachment_id = ra.attachment_id
             WHERE r.kit_id = ?1 AND r.outcome = 'accepted' AND NOT a.complete)",
        [kit_id],
        |r| r.get(0),
    )
    .map_err(db_err)
}

pub fn revoke_kit_as(
    c: &mut Connection,
    kit_id: &sync_protocol::ids::KitId,
    reason: &str,
    mode: RevocationMode,
    by: &str,
    at: i64,
) -> Result<bool, StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let id = kit_id.to_string();
    let Some(status) = tx
        .query_row("SELECT status FROM kits WHERE kit_id = ?1", [&id], |r| {
            r.get::<_, String>(0)
        })
        .optional()
        .map_err(db_err)?
    else {
        return Ok(false);
    };
    match crate::storage::revocation_step(&status, mode)? {
        RevocationStep::Nothing => {}
        RevocationStep::Drain => {
            tx.execute(
                "UPDATE kits SET status = 'draining', revoked_reason = ?1, revocation_mode = ?2,
                     revoked_by = ?3, revoked_head_seq = COALESCE(revoked_head_seq, head_seq)
                 WHERE kit_id = ?4",
                params![reason, mode.as_str(), by, id],
            )
            .map_err(db_err)?;
        }
        RevocationStep::Wipe => {
            tx.execute(
                "UPDATE kits SET status = 'revoked', revoked_reason = ?1, revocation_mode = ?2,
                     revoked_by = ?3, revoked_head_seq = COALESCE(revoked_head_seq, head_seq)
                 WHERE kit_id = ?4",
                params![reason, mode.as_str(), by, id],
            )
            .map_err(db_err)?;
            let wipe = ChangeKind::Wipe {
                reason: reason.to_owned(),
            };
            super::admin::add_change(&tx, Some(kit_id), &wipe, at)?;
        }
    }
    tx.commit().map_err(db_err)?;
    Ok(true)
}

pub fn report_outbox(
    c: &mut Connection,
    kit_id: &sync_protocol::ids::KitId,
    outbox: u64,
    at: i64,
) -> Result<bool, StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let id = kit_id.to_string();
    tx.execute(
        "UPDATE kits SET outbox_reported = ?1, outbox_reported_at = ?2 WHERE kit_id = ?3",
        params![crate::storage::to_i64(outbox)?, at, id],
    )
    .map_err(db_err)?;
    let found: Option<(String, Option<String>)> = tx
        .query_row(
            "SELECT status, revoked_reason FROM kits WHERE kit_id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    let drained = match found {
        Some((status, reason)) if status == "draining" && outbox == 0 => {
            if uploads_pending(&tx, &id)? {
                None
            } else {
                Some(reason.unwrap_or_default())
            }
        }
        _ => None,
    };
    if let Some(reason) = &drained {
        tx.execute(
            "UPDATE kits SET status = 'revoked' WHERE kit_id = ?1",
            [&id],
        )
        .map_err(db_err)?;
        let wipe = ChangeKind::Wipe {
            reason: reason.clone(),
        };
        super::admin::add_change(&tx, Some(kit_id), &wipe, at)?;
    }
    tx.commit().map_err(db_err)?;
    Ok(drained.is_some())
}
