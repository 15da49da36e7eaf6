//! Cases as the back office works on them, once for both databases: a case's
//! attachments with their upload state, assignment as a compare-and-set with a history
//! entry, and the flags a case arrives with and their resolution (forward, refuse,
//! release). (Moving here from the `sqlite`/`postgres` twins, issue 15.)

use sync_protocol::ids::RecordId;

use super::sql::{col, db_err, Db};
use super::{
    lifecycle_comment, parse, rows, to_u64, CaseFlag, CaseFlagRow, ResolveFlags, StoreError,
    StoredAttachment,
};

/// The attachments of a case's record, in manifest order.
///
/// # Errors
/// Storage errors; [`StoreError::Corrupt`] for a stored value that does not parse.
pub async fn case_attachments(
    db: &Db,
    record_id: &RecordId,
) -> Result<Vec<StoredAttachment>, StoreError> {
    sqlx::query(
        "SELECT a.attachment_id, CAST(a.complete AS INTEGER), a.ciphertext_sha256,
                a.ciphertext_size
         FROM record_attachments ra JOIN attachments a ON a.attachment_id = ra.attachment_id
         WHERE ra.record_id = $1 ORDER BY ra.position",
    )
    .bind(record_id.to_string())
    .fetch_all(&db.pool)
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| {
        Ok(StoredAttachment {
            attachment_id: parse("attachment id", &col::<String>(r, 0)?)?,
            complete: super::sql::col_bool(r, 1)?,
            ciphertext_sha256: rows::hash(&col::<Vec<u8>>(r, 2)?)?,
            ciphertext_size: to_u64(col(r, 3)?)?,
        })
    })
    .collect()
}

/// Assigns a case to `assignee` (or releases it) if it is assigned to `expected` now;
/// false if it is not (someone else was quicker) or there is no such case.
///
/// # Errors
/// Storage errors.
pub async fn assign_case(
    db: &Db,
    record_id: &RecordId,
    expected: Option<&str>,
    assignee: Option<&str>,
    actor: &str,
    at: i64,
) -> Result<bool, StoreError> {
    let id = record_id.to_string();
    let mut tx = db.begin().await?;
    let select = format!(
        "SELECT status, assigned_to FROM cases WHERE record_id = $1{}",
        db.dialect.for_update()
    );
    // Built from constants only.
    let Some(found) = sqlx::query(sqlx::AssertSqlSafe(select))
        .bind(id.clone())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
    else {
        return Ok(false);
    };
    let status: String = col(&found, 0)?;
    let current: Option<String> = col(&found, 1)?;
    if current.as_deref() != expected {
        return Ok(false);
    }
    sqlx::query("UPDATE cases SET assigned_to = $1, updated_at = $2 WHERE record_id = $3")
        .bind(assignee.map(str::to_owned))
        .bind(at)
        .bind(id.clone())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    sqlx::query(
        "INSERT INTO case_events (record_id, status, comment, actor, at, kind, assigned_to)
         VALUES ($1, $2, NULL, $3, $4, 'assignment', $5)",
    )
    .bind(id)
    .bind(status)
    .bind(actor.to_owned())
    .bind(at)
    .bind(assignee.map(str::to_owned))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}

/// Every flag of a case, open and resolved, oldest first.
///
/// # Errors
/// Storage errors.
pub async fn case_flags(db: &Db, record_id: &RecordId) -> Result<Vec<CaseFlagRow>, StoreError> {
    sqlx::query(
        "SELECT flag, reason, raised_at, resolved_at, resolved_by, resolution
         FROM case_flags WHERE record_id = $1 ORDER BY raised_at, flag",
    )
    .bind(record_id.to_string())
    .fetch_all(&db.pool)
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| {
        let flag: String = col(r, 0)?;
        let at: Option<i64> = col(r, 3)?;
        let by: Option<String> = col(r, 4)?;
        let resolution: Option<String> = col(r, 5)?;
        let resolved = match (at, by, resolution) {
            (Some(at), Some(by), Some(res)) => Some((at, by, res)),
            _ => None,
        };
        rows::case_flag(&flag, col(r, 1)?, col(r, 2)?, resolved)
    })
    .collect()
}

/// The open flags of the given cases (for an inbox page).
///
/// # Errors
/// Storage errors.
pub async fn open_case_flags(
    db: &Db,
    record_ids: &[RecordId],
) -> Result<Vec<(RecordId, CaseFlag)>, StoreError> {
    if record_ids.is_empty() {
        return Ok(Vec::new());
    }
    // One placeholder per id (a page holds at most a few hundred): `Any` binds no arrays.
    let placeholders: Vec<String> = (1..=record_ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT record_id, flag FROM case_flags
         WHERE record_id IN ({}) AND resolved_at IS NULL ORDER BY record_id, flag",
        placeholders.join(", ")
    );
    // Built from constants and numbered placeholders only.
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in record_ids {
        q = q.bind(id.to_string());
    }
    let rows = q.fetch_all(&db.pool).await.map_err(db_err)?;
    let mut found = rows
        .iter()
        .map(|r| {
            let id: String = col(r, 0)?;
            let flag: String = col(r, 1)?;
            Ok((
                parse("record id", &id)?,
                CaseFlag::parse(&flag)
                    .ok_or_else(|| StoreError::Corrupt(format!("case flag {flag:?}")))?,
            ))
        })
        .collect::<Result<Vec<(RecordId, CaseFlag)>, StoreError>>()?;
    // In the order the ids were asked for, each case's flags by name.
    let order: std::collections::HashMap<RecordId, usize> = record_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, i))
        .collect();
    found.sort_by_key(|(id, flag)| (order.get(id).copied(), flag.as_str()));
    Ok(found)
}

/// Resolves open flags of a case (and forwards it when `forward_to` is given), with a
/// history entry; false if the case or none of the flags is open.
///
/// # Errors
/// Storage errors.
pub(crate) async fn resolve_case_flags(db: &Db, r: &ResolveFlags<'_>) -> Result<bool, StoreError> {
    let id = r.record_id.to_string();
    let mut tx = db.begin().await?;
    let select = format!(
        "SELECT status FROM cases WHERE record_id = $1{}",
        db.dialect.for_update()
    );
    // Built from constants only.
    let Some(found) = sqlx::query(sqlx::AssertSqlSafe(select))
        .bind(id.clone())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
    else {
        return Ok(false);
    };
    let status: String = col(&found, 0)?;
    let mut resolved = 0;
    for flag in r.flags {
        resolved += sqlx::query(
            "UPDATE case_flags SET resolved_at = $1, resolved_by = $2, resolution = $3
             WHERE record_id = $4 AND flag = $5 AND resolved_at IS NULL",
        )
        .bind(r.at)
        .bind(r.actor.to_owned())
        .bind(r.resolution.to_owned())
        .bind(id.clone())
        .bind(flag.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
    }
    if resolved == 0 {
        return Ok(false);
    }
    if let Some(to) = r.forward_to {
        sqlx::query(
            "UPDATE cases SET authority_id = $1, assigned_to = NULL, updated_at = $2
             WHERE record_id = $3",
        )
        .bind(to.to_string())
        .bind(r.at)
        .bind(id.clone())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    let comment = lifecycle_comment(r.resolution, r.comment);
    sqlx::query(
        "INSERT INTO case_events (record_id, status, comment, actor, at, kind, assigned_to)
         VALUES ($1, $2, $3, $4, $5, 'flag', NULL)",
    )
    .bind(id)
    .bind(status)
    .bind(comment)
    .bind(r.actor.to_owned())
    .bind(r.at)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}
