//! SQLite: the back office's case work beyond viewing — a case's attachments with
//! their upload state, and assignment (compare-and-set, with a history entry).

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sync_protocol::ids::RecordId;

use super::db_err;
use crate::storage::rows;
use crate::storage::{parse, to_u64, StoreError, StoredAttachment};

pub fn case_attachments(
    c: &mut Connection,
    record_id: &RecordId,
) -> Result<Vec<StoredAttachment>, StoreError> {
    let raw = c
        .prepare_cached(
            "SELECT a.attachment_id, a.complete, a.ciphertext_sha256, a.ciphertext_size
             FROM record_attachments ra JOIN attachments a ON a.attachment_id = ra.attachment_id
             WHERE ra.record_id = ?1 ORDER BY ra.position",
        )
        .and_then(|mut s| {
            s.query_map([record_id.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, bool>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()
        })
        .map_err(db_err)?;
    raw.into_iter()
        .map(|(id, complete, hash, size)| {
            Ok(StoredAttachment {
                attachment_id: parse("attachment id", &id)?,
                complete,
                ciphertext_sha256: rows::hash(&hash)?,
                ciphertext_size: to_u64(size)?,
            })
        })
        .collect()
}

pub fn assign_case(
    c: &mut Connection,
    record_id: &RecordId,
    expected: Option<&str>,
    assignee: Option<&str>,
    actor: &str,
    at: i64,
) -> Result<bool, StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let id = record_id.to_string();
    let found: Option<(String, Option<String>)> = tx
        .query_row(
            "SELECT status, assigned_to FROM cases WHERE record_id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    let Some((status, current)) = found else {
        return Ok(false);
    };
    if current.as_deref() != expected {
        return Ok(false);
    }
    tx.execute(
        "UPDATE cases SET assigned_to = ?1, updated_at = ?2 WHERE record_id = ?3",
        params![assignee, at, id],
    )
    .map_err(db_err)?;
    tx.execute(
        "INSERT INTO case_events (record_id, status, comment, actor, at, kind, assigned_to)
         VALUES (?1, ?2, NULL, ?3, ?4, 'assignment', ?5)",
        params![id, status, actor, at, assignee],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(true)
}

impl super::SqliteStore {
    /// `EXPLAIN QUERY PLAN` of the statements [`crate::storage::Store::inbox_page`] runs
    /// for `query` (page, then counts): one line per plan step, for the benchmark's
    /// proof that the keyset page is read from an index.
    ///
    /// # Errors
    /// Database errors.
    pub async fn explain_inbox_page(
        &self,
        query: &crate::storage::InboxQuery,
    ) -> Result<Vec<String>, StoreError> {
        let q = query.clone();
        self.run(move |c| super::office::explain_inbox_page(c, &q))
            .await
    }
}
