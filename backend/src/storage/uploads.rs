//! Attachment uploads (tus, PROTOCOL.md §6.4), once for both databases: the upload of a
//! kit's delivered record, creation, the compare-and-set offset, and termination; and
//! the inventory of every attachment that `admin fsck` checks against the file store.

use chrono::{DateTime, Utc};
use sync_protocol::ids::{AttachmentId, KitId, RecordId};

use super::rows::{self, UPLOAD_COLUMNS};
use super::sql::{col, col_bool};
use super::{parse, to_i64, to_ms, to_u64, StoreError, StoredAttachment, UploadRow};

impl super::Store {
    /// The upload of `attachment_id` if it is in the manifest of a delivered record of
    /// `kit_id` (and of `record_id`, when given).
    pub async fn upload(
        &self,
        kit_id: &KitId,
        attachment_id: &AttachmentId,
        record_id: Option<&RecordId>,
    ) -> Result<Option<UploadRow>, StoreError> {
        let sql = format!(
            "SELECT {UPLOAD_COLUMNS} FROM attachments a
             JOIN record_attachments ra ON ra.attachment_id = a.attachment_id
             JOIN records r ON r.record_id = ra.record_id
             WHERE a.attachment_id = $1 AND r.kit_id = $2 AND r.outcome = 'accepted'
               AND (CAST($3 AS TEXT) IS NULL OR r.record_id = CAST($3 AS TEXT))
             ORDER BY r.log_position LIMIT 1"
        );
        // Built from constants only.
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(attachment_id.to_string())
            .bind(kit_id.to_string())
            .bind(record_id.map(ToString::to_string))
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| rows::upload(&r))
            .transpose()
    }

    /// Marks the upload created (tus creation); idempotent.
    pub async fn create_upload(&self, attachment_id: &AttachmentId) -> Result<(), StoreError> {
        sqlx::query("UPDATE attachments SET created = TRUE WHERE attachment_id = $1")
            .bind(attachment_id.to_string())
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// Moves the offset from `from` to `to` (compare-and-set); false if it was not at
    /// `from` or the upload is complete.
    pub async fn advance_upload(
        &self,
        attachment_id: &AttachmentId,
        from: u64,
        to: u64,
        complete: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE attachments SET upload_offset = $1, complete = $2, completed_at = $3
             WHERE attachment_id = $4 AND upload_offset = $5 AND created AND NOT complete",
        )
        .bind(to_i64(to)?)
        .bind(complete)
        .bind(complete.then_some(to_ms(at)))
        .bind(attachment_id.to_string())
        .bind(to_i64(from)?)
        .execute(&self.db.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Discards the held bytes of an incomplete upload: offset 0, and `created` false when
    /// `uncreate` (tus termination). False if complete or unknown.
    pub async fn reset_upload(
        &self,
        attachment_id: &AttachmentId,
        uncreate: bool,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE attachments SET upload_offset = 0, created = (created AND NOT $1)
             WHERE attachment_id = $2 AND NOT complete",
        )
        .bind(uncreate)
        .bind(attachment_id.to_string())
        .execute(&self.db.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Up to `limit` attachments with ids after `after`, in id order, each with a record
    /// that references it (`None` for one no record names).
    pub async fn attachment_inventory(
        &self,
        after: Option<&AttachmentId>,
        limit: u32,
    ) -> Result<Vec<(StoredAttachment, Option<RecordId>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.attachment_id, CAST(a.complete AS INTEGER), a.ciphertext_sha256,
                a.ciphertext_size, MIN(ra.record_id)
             FROM attachments a LEFT JOIN record_attachments ra
                ON ra.attachment_id = a.attachment_id
             WHERE a.attachment_id > $1
             GROUP BY a.attachment_id, a.complete, a.ciphertext_sha256, a.ciphertext_size
             ORDER BY a.attachment_id LIMIT $2",
        )
        .bind(after.map_or_else(String::new, ToString::to_string))
        .bind(i64::from(limit))
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let record: Option<String> = col(r, 4)?;
                Ok((
                    StoredAttachment {
                        attachment_id: parse("attachment id", &col::<String>(r, 0)?)?,
                        complete: col_bool(r, 1)?,
                        ciphertext_sha256: rows::hash(&col::<Vec<u8>>(r, 2)?)?,
                        ciphertext_size: to_u64(col(r, 3)?)?,
                    },
                    record.map(|id| parse("record id", &id)).transpose()?,
                ))
            })
            .collect()
    }
}
