//! Cases as the back office works on them, once for both databases: a case's
//! attachments with their upload state, and assignment as a compare-and-set with a
//! history entry. (Moving here from the `sqlite`/`postgres` twins, issue 15.)

use sync_protocol::ids::RecordId;

use super::sql::{col, db_err, Db};
use super::{parse, rows, to_u64, StoreError, StoredAttachment};

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
