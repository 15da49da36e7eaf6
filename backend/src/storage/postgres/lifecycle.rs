//! PostgreSQL: the kit-lifecycle part of the store — the same statements as
//! `sqlite/lifecycle.rs` (catalogs by version, case flags, forwarding).

use sync_protocol::ids::RecordId;
use tokio_postgres::GenericClient;

use super::db_err;
use crate::storage::rows;
use crate::storage::ResolveFlags as Resolve;
use crate::storage::{
    from_ms, CaseFlag, CaseFlagRow, PublishedCatalog, RevocationMode, RevocationStep, StoreError,
};
use sync_protocol::api::ChangeKind;

pub async fn catalog<C: GenericClient + Sync>(
    c: &C,
    version: &str,
) -> Result<Option<PublishedCatalog>, StoreError> {
    let Some(r) = c
        .query_opt(
            "SELECT envelope, etag, published_at FROM catalogs WHERE version = $1",
            &[&version],
        )
        .await
        .map_err(db_err)?
    else {
        return Ok(None);
    };
    Ok(Some(PublishedCatalog {
        version: version.to_owned(),
        envelope_json: r.try_get(0).map_err(db_err)?,
        etag: r.try_get(1).map_err(db_err)?,
        published_at: from_ms(r.try_get(2).map_err(db_err)?)?,
    }))
}

pub async fn case_flags<C: GenericClient + Sync>(
    c: &C,
    record_id: &RecordId,
) -> Result<Vec<CaseFlagRow>, StoreError> {
    c.query(
        "SELECT flag, reason, raised_at, resolved_at, resolved_by, resolution
         FROM case_flags WHERE record_id = $1 ORDER BY raised_at, flag",
        &[&record_id.to_string()],
    )
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| {
        let flag: String = r.try_get(0).map_err(db_err)?;
        let at: Option<i64> = r.try_get(3).map_err(db_err)?;
        let by: Option<String> = r.try_get(4).map_err(db_err)?;
        let resolution: Option<String> = r.try_get(5).map_err(db_err)?;
        let resolved = match (at, by, resolution) {
            (Some(at), Some(by), Some(res)) => Some((at, by, res)),
            _ => None,
        };
        rows::case_flag(
            &flag,
            r.try_get(1).map_err(db_err)?,
            r.try_get(2).map_err(db_err)?,
            resolved,
        )
    })
    .collect()
}

pub async fn open_case_flags<C: GenericClient + Sync>(
    c: &C,
    record_ids: &[RecordId],
) -> Result<Vec<(RecordId, CaseFlag)>, StoreError> {
    let ids: Vec<String> = record_ids.iter().map(ToString::to_string).collect();
    c.query(
        "SELECT record_id, flag FROM case_flags
         WHERE record_id = ANY($1) AND resolved_at IS NULL ORDER BY record_id, flag",
        &[&ids],
    )
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| {
        let id: String = r.try_get(0).map_err(db_err)?;
        let flag: String = r.try_get(1).map_err(db_err)?;
        Ok((
            crate::storage::parse("record id", &id)?,
            CaseFlag::parse(&flag)
                .ok_or_else(|| StoreError::Corrupt(format!("case flag {flag:?}")))?,
        ))
    })
    .collect()
}

pub async fn resolve_case_flags<C: GenericClient + Sync>(
    c: &C,
    r: &Resolve<'_>,
) -> Result<bool, StoreError> {
    let id = r.record_id.to_string();
    let Some(found) = c
        .query_opt(
            "SELECT status FROM cases WHERE record_id = $1 FOR UPDATE",
            &[&id],
        )
        .await
        .map_err(db_err)?
    else {
        return Ok(false);
    };
    let status: String = found.try_get(0).map_err(db_err)?;
    let mut resolved = 0;
    for flag in r.flags {
        resolved += c
            .execute(
                "UPDATE case_flags SET resolved_at = $1, resolved_by = $2, resolution = $3
                 WHERE record_id = $4 AND flag = $5 AND resolved_at IS NULL",
                &[&r.at, &r.actor, &r.resolution, &id, &flag.as_str()],
            )
            .await
            .map_err(db_err)?;
    }
    if resolved == 0 {
        return Ok(false);
    }
    if let Some(to) = r.forward_to {
        c.execute(
            "UPDATE cases SET authority_id = $1, assigned_to = NULL, updated_at = $2
             WHERE record_id = $3",
            &[&to.as_str(), &r.at, &id],
        )
        .await
        .map_err(db_err)?;
    }
    let comment = crate::storage::lifecycle_comment(r.resolution, r.comment);
    c.execute(
        "INSERT INTO case_events (record_id, status, comment, actor, at, kind, assigned_to)
         VALUES ($1, $2, $3, $4, $5, 'flag', NULL)",
        &[&id, &status, &comment, &r.actor, &r.at],
    )
    .await
    .map_err(db_err)?;
    Ok(true)
}

pub async fn kit_revocation<C: GenericClient + Sync>(
    c: &C,
    kit_id: &sync_protocol::ids::KitId,
) -> Result<Option<crate::storage::KitRevocation>, StoreError> {
    let Some(r) = c
        .query_opt(
            "SELECT revocation_mode, revoked_by, revoked_head_seq, outbox_reported,
                    outbox_reported_at FROM kits WHERE kit_id = $1",
            &[&kit_id.to_string()],
        )
        .await
        .map_err(db_err)?
    else {
        return Ok(None);
    };
    let mode: Option<String> = r.try_get(0).map_err(db_err)?;
    rows::kit_revocation(
        mode.as_deref(),
        r.try_get(1).map_err(db_err)?,
        r.try_get(2).map_err(db_err)?,
        r.try_get(3).map_err(db_err)?,
        r.try_get(4).map_err(db_err)?,
    )
    .map(Some)
}

pub async fn revoke_kit_as<C: GenericClient + Sync>(
    c: &C,
    kit_id: &sync_protocol::ids::KitId,
    reason: &str,
    mode: RevocationMode,
    by: &str,
    at: i64,
) -> Result<bool, StoreError> {
    let id = kit_id.to_string();
    let Some(row) = c
        .query_opt(
            "SELECT status FROM kits WHERE kit_id = $1 FOR UPDATE",
            &[&id],
        )
        .await
        .map_err(db_err)?
    else {
        return Ok(false);
    };
    let status: String = row.try_get(0).map_err(db_err)?;
    let step = crate::storage::revocation_step(&status, mode)?;
    let new_status = match step {
        RevocationStep::Nothing => return Ok(true),
        RevocationStep::Drain => "draining",
        RevocationStep::Wipe => "revoked",
    };
    c.execute(
        "UPDATE kits SET status = $1, revoked_reason = $2, revocation_mode = $3,
             revoked_by = $4, revoked_head_seq = COALESCE(revoked_head_seq, head_seq)
         WHERE kit_id = $5",
        &[&new_status, &reason, &mode.as_str(), &by, &id],
    )
    .await
    .map_err(db_err)?;
    if step == RevocationStep::Wipe {
        let wipe = ChangeKind::Wipe {
            reason: reason.to_owned(),
        };
        super::admin::add_change(c, Some(kit_id), &wipe, at).await?;
    }
    Ok(true)
}

pub async fn report_outbox<C: GenericClient + Sync>(
    c: &C,
    kit_id: &sync_protocol::ids::KitId,
    outbox: u64,
    at: i64,
) -> Result<bool, StoreError> {
    let id = kit_id.to_string();
    let Some(row) = c
        .query_opt(
            "UPDATE kits SET outbox_reported = $1, outbox_reported_at = $2 WHERE kit_id = $3
             RETURNING status, revoked_reason",
            &[&crate::storage::to_i64(outbox)?, &at, &id],
        )
        .await
        .map_err(db_err)?
    else {
        return Ok(false);
    };
    let status: String = row.try_get(0).map_err(db_err)?;
    let reason: Option<String> = row.try_get(1).map_err(db_err)?;
    if status != "draining" || outbox != 0 {
        return Ok(false);
    }
    let pending: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM records r
                 JOIN record_attachments ra ON ra.record_id = r.record_id
                 JOIN attachments a ON a.attachment_id = ra.attachment_id
                 WHERE r.kit_id = $1 AND r.outcome = 'accepted' AND NOT a.complete)",
            &[&id],
        )
        .await
        .map_err(db_err)?
        .try_get(0)
        .map_err(db_err)?;
    if pending {
        return Ok(false);
    }
    c.execute(
        "UPDATE kits SET status = 'revoked' WHERE kit_id = $1",
        &[&id],
    )
    .await
    .map_err(db_err)?;
    let wipe = ChangeKind::Wipe {
        reason: reason.unwrap_or_default(),
    };
    super::admin::add_change(c, Some(kit_id), &wipe, at).await?;
    Ok(true)
}
