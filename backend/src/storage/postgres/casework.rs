//! PostgreSQL: the back office's case work beyond viewing — the same statements as
//! `sqlite/casework.rs` (attachments with upload state; assignment as compare-and-set
//! with a history entry).

use sync_protocol::ids::RecordId;
use tokio_postgres::GenericClient;

use super::db_err;
use crate::storage::rows;
use crate::storage::{parse, to_u64, StoreError, StoredAttachment};

pub async fn case_attachments<C: GenericClient + Sync>(
    c: &C,
    record_id: &RecordId,
) -> Result<Vec<StoredAttachment>, StoreError> {
    c.query(
        "SELECT a.attachment_id, a.complete, a.ciphertext_sha256, a.ciphertext_size
         FROM record_attachments ra JOIN attachments a ON a.attachment_id = ra.attachment_id
         WHERE ra.record_id = $1 ORDER BY ra.position",
        &[&record_id.to_string()],
    )
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| {
        Ok(StoredAttachment {
            attachment_id: parse("attachment id", r.try_get(0).map_err(db_err)?)?,
            complete: r.try_get(1).map_err(db_err)?,
            ciphertext_sha256: rows::hash(r.try_get(2).map_err(db_err)?)?,
            ciphertext_size: to_u64(r.try_get(3).map_err(db_err)?)?,
        })
    })
    .collect()
}

pub async fn assign_case<C: GenericClient + Sync>(
    c: &C,
    record_id: &RecordId,
    expected: Option<&str>,
    assignee: Option<&str>,
    actor: &str,
    at: i64,
) -> Result<bool, StoreError> {
    let id = record_id.to_string();
    let Some(found) = c
        .query_opt(
            "SELECT status, assigned_to FROM cases WHERE record_id = $1 FOR UPDATE",
            &[&id],
        )
        .await
        .map_err(db_err)?
    else {
        return Ok(false);
    };
    let status: String = found.try_get(0).map_err(db_err)?;
    let current: Option<String> = found.try_get(1).map_err(db_err)?;
    if current.as_deref() != expected {
        return Ok(false);
    }
    c.execute(
        "UPDATE cases SET assigned_to = $1, updated_at = $2 WHERE record_id = $3",
        &[&assignee, &at, &id],
    )
    .await
    .map_err(db_err)?;
    c.execute(
        "INSERT INTO case_events (record_id, status, comment, actor, at, kind, assigned_to)
         VALUES ($1, $2, NULL, $3, $4, 'assignment', $5)",
        &[&id, &status, &actor, &at, &assignee],
    )
    .await
    .map_err(db_err)?;
    Ok(true)
}
