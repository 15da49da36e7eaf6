//! Cases as the back office works on them, once for both databases: a case's
//! attachments with their upload state, assignment as a compare-and-set with a history
//! entry, and the flags a case arrives with and their resolution (forward, refuse,
//! release). (Moving here from the `sqlite`/`postgres` twins, issue 15.)

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sync_protocol::api::{CaseStatus, ChangeKind};
use sync_protocol::ids::{AuthorityId, RecordId};

use super::catalogs::add_change;
use super::rows::CASE_COLUMNS;
use super::sql::{col, col_bool, lock_row, write_tx};
use super::{parse, rows, to_ms, to_u64, CaseFlag, CaseFlagRow, StoreError, StoredAttachment};
use super::{status_name, CaseRow};

impl super::Store {
    /// Every case in an authority's inbox, oldest first.
    pub async fn inbox(&self, authority: &AuthorityId) -> Result<Vec<CaseRow>, StoreError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases c JOIN records r ON r.record_id = c.record_id
             WHERE c.authority_id = $1 ORDER BY r.log_position"
        );
        // Built from constants only.
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(authority.to_string())
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(rows::case)
            .collect()
    }

    /// The cases of the records that reference `original` in `authority` — its
    /// corrections, withdrawals and supplements (answers to a Rückfrage) — in the order
    /// they arrived.
    pub async fn related_cases(
        &self,
        original: &RecordId,
        authority: &AuthorityId,
    ) -> Result<Vec<CaseRow>, StoreError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases c JOIN records r ON r.record_id = c.record_id
             WHERE r.ref_record_id = $1 AND c.authority_id = $2 ORDER BY r.log_position"
        );
        // Built from constants only.
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(original.to_string())
            .bind(authority.to_string())
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(rows::case)
            .collect()
    }

    /// Sets a case's status without a precondition (IT's lifecycle changes), with a history
    /// entry and a `status` change for the capturing kit; false for an unknown case.
    pub async fn set_case_status(
        &self,
        record_id: &RecordId,
        status: CaseStatus,
        comment: Option<&str>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.change_status(record_id, None, status, comment, actor, at)
            .await
    }

    /// Moves a case from `from` to `to` (a reviewer's decision), with a history entry and
    /// a `status` change for the capturing kit; false if the case is not in `from`.
    pub async fn transition_case(
        &self,
        record_id: &RecordId,
        from: CaseStatus,
        to: CaseStatus,
        comment: Option<&str>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.change_status(record_id, Some(from), to, comment, actor, at)
            .await
    }

    async fn change_status(
        &self,
        record_id: &RecordId,
        expected: Option<CaseStatus>,
        status: CaseStatus,
        comment: Option<&str>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (dialect, at, id) = (self.db.dialect, to_ms(at), record_id.to_string());
        write_tx!(self.db, async |tx| {
            let select = format!(
                "SELECT r.kit_id, r.ref_record_id, c.status
                 FROM cases c JOIN records r ON r.record_id = c.record_id
                 WHERE c.record_id = $1{}",
                dialect.for_update_of("c")
            );
            // Built from constants only.
            let Some(found) = sqlx::query(sqlx::AssertSqlSafe(select))
                .bind(id.clone())
                .fetch_optional(&mut **tx)
                .await?
            else {
                return Ok(false);
            };
            let kit_id: String = col(&found, 0)?;
            let references: Option<String> = col(&found, 1)?;
            let current: String = col(&found, 2)?;
            if expected.is_some_and(|e| status_name(e) != current) {
                return Ok(false);
            }
            let name = status_name(status);
            sqlx::query("UPDATE cases SET status = $1, updated_at = $2 WHERE record_id = $3")
                .bind(name.clone())
                .bind(at)
                .bind(id.clone())
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                "INSERT INTO case_events (record_id, status, comment, actor, at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(name)
            .bind(comment.map(str::to_owned))
            .bind(actor.to_owned())
            .bind(at)
            .execute(&mut **tx)
            .await?;
            let original = match references {
                Some(r) => parse("record id", &r)?,
                None => *record_id,
            };
            let change = ChangeKind::Status {
                record_id: original,
                status,
                comment: comment.map(str::to_owned),
            };
            let kit = parse("kit id", &kit_id)?;
            add_change(tx, dialect, Some(&kit), &change, at).await?;
            Ok(true)
        })
    }

    /// The attachments of a case's record, in manifest order.
    pub async fn case_attachments(
        &self,
        record_id: &RecordId,
    ) -> Result<Vec<StoredAttachment>, StoreError> {
        sqlx::query(
            "SELECT a.attachment_id, CAST(a.complete AS INTEGER), a.ciphertext_sha256,
                 a.ciphertext_size
             FROM record_attachments ra JOIN attachments a ON a.attachment_id = ra.attachment_id
             WHERE ra.record_id = $1 ORDER BY ra.position",
        )
        .bind(record_id.to_string())
        .fetch_all(&self.db.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(StoredAttachment {
                attachment_id: parse("attachment id", &col::<String>(r, 0)?)?,
                complete: col_bool(r, 1)?,
                ciphertext_sha256: rows::hash(&col::<Vec<u8>>(r, 2)?)?,
                ciphertext_size: to_u64(col(r, 3)?)?,
            })
        })
        .collect()
    }

    /// Assigns a case to `assignee` (or releases it) if it is assigned to `expected` now;
    /// false if it is not (someone else was quicker) or there is no such case.
    pub async fn assign_case(
        &self,
        record_id: &RecordId,
        expected: Option<&str>,
        assignee: Option<&str>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (at, id) = (to_ms(at), record_id.to_string());
        write_tx!(self.db, async |tx| {
            let select = "SELECT status, assigned_to FROM cases WHERE record_id = $1";
            let Some(found) = lock_row(tx, self.db.dialect, select, id.clone()).await? else {
                return Ok(false);
            };
            let status: String = col(&found, 0)?;
            if col::<Option<String>>(&found, 1)?.as_deref() != expected {
                return Ok(false);
            }
            sqlx::query("UPDATE cases SET assigned_to = $1, updated_at = $2 WHERE record_id = $3")
                .bind(assignee.map(str::to_owned))
                .bind(at)
                .bind(id.clone())
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                "INSERT INTO case_events (record_id, status, comment, actor, at, kind, assigned_to)
                 VALUES ($1, $2, NULL, $3, $4, 'assignment', $5)",
            )
            .bind(id)
            .bind(status)
            .bind(actor.to_owned())
            .bind(at)
            .bind(assignee.map(str::to_owned))
            .execute(&mut **tx)
            .await?;
            Ok(true)
        })
    }

    /// Every flag of a case, open and resolved, oldest first.
    pub async fn case_flags(&self, record_id: &RecordId) -> Result<Vec<CaseFlagRow>, StoreError> {
        sqlx::query(
            "SELECT flag, reason, raised_at, resolved_at, resolved_by, resolution
             FROM case_flags WHERE record_id = $1 ORDER BY raised_at, flag",
        )
        .bind(record_id.to_string())
        .fetch_all(&self.db.pool)
        .await?
        .iter()
        .map(rows::case_flag)
        .collect()
    }

    /// The open flags of the given cases (for an inbox page).
    pub async fn open_case_flags(
        &self,
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
        let mut found = q
            .fetch_all(&self.db.pool)
            .await?
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
            .collect::<Result<Vec<_>, StoreError>>()?;
        // In the order the ids were asked for, each case's flags by name.
        let order: HashMap<RecordId, usize> = record_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i))
            .collect();
        found.sort_by_key(|(id, flag)| (order.get(id).copied(), flag.as_str()));
        Ok(found)
    }

    /// Resolves open flags of a case (and forwards it when `forward_to` is given), with a
    /// history entry; false if the case or none of the flags is open.
    // The reviewer's decision is these seven facts; a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub async fn resolve_case_flags(
        &self,
        record_id: &RecordId,
        flags: &[CaseFlag],
        resolution: &str,
        forward_to: Option<&AuthorityId>,
        comment: Option<&str>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (at, id) = (to_ms(at), record_id.to_string());
        write_tx!(self.db, async |tx| {
            let select = "SELECT status FROM cases WHERE record_id = $1";
            let Some(found) = lock_row(tx, self.db.dialect, select, id.clone()).await? else {
                return Ok(false);
            };
            let status: String = col(&found, 0)?;
            let mut resolved = 0;
            for flag in flags {
                let done = sqlx::query(
                    "UPDATE case_flags SET resolved_at = $1, resolved_by = $2, resolution = $3
                     WHERE record_id = $4 AND flag = $5 AND resolved_at IS NULL",
                )
                .bind(at)
                .bind(actor.to_owned())
                .bind(resolution.to_owned())
                .bind(id.clone())
                .bind(flag.as_str())
                .execute(&mut **tx)
                .await?;
                resolved += done.rows_affected();
            }
            if resolved == 0 {
                return Ok(false);
            }
            if let Some(to) = forward_to {
                sqlx::query(
                    "UPDATE cases SET authority_id = $1, assigned_to = NULL, updated_at = $2
                     WHERE record_id = $3",
                )
                .bind(to.to_string())
                .bind(at)
                .bind(id.clone())
                .execute(&mut **tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO case_events (record_id, status, comment, actor, at, kind, assigned_to)
                 VALUES ($1, $2, $3, $4, $5, 'flag', NULL)",
            )
            .bind(id)
            .bind(status)
            .bind(lifecycle_comment(resolution, comment))
            .bind(actor.to_owned())
            .bind(at)
            .execute(&mut **tx)
            .await?;
            Ok(true)
        })
    }
}

/// The history comment of a resolved flag: how, and the reviewer's words if any.
fn lifecycle_comment(resolution: &str, comment: Option<&str>) -> String {
    match comment {
        Some(c) => format!("{resolution}: {c}"),
        None => resolution.to_owned(),
    }
}
