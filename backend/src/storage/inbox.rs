//! The back office's reading of cases, once for both databases: inbox pages (keyset,
//! with filters and counts, the statements built by [`super::office`]), a case's detail
//! and history, the decryption log, and the query plan of a page for the benchmark.

use sync_protocol::ids::RecordId;

use super::office::{finish_page, inbox_counts_sql, inbox_page_sql};
use super::rows::{self, CASE_COLUMNS};
use super::sql::{bind_all, col, db_err};
use super::{
    from_ms, parse_status, to_32, to_ms, to_u64, CaseDetail, CaseEventRow, DecryptionEntry,
    InboxPage, InboxQuery, StoreError,
};

/// The `n`-th placeholder of a built statement, in the one spelling both databases read.
fn placeholder(n: usize) -> String {
    format!("${n}")
}

impl super::Store {
    /// A page of an authority's inbox, with the counts per status when asked for.
    ///
    /// # Errors
    /// Storage errors; [`StoreError::Corrupt`] for a stored value that does not parse.
    pub async fn inbox_page(&self, query: &InboxQuery) -> Result<InboxPage, StoreError> {
        let db = &self.db;
        let q = query;
        let page = inbox_page_sql(q, CASE_COLUMNS, placeholder);
        // The statement is assembled from constant fragments; every value is bound.
        let cases = bind_all(sqlx::query(sqlx::AssertSqlSafe(page.sql)), &page.args)
            .fetch_all(&db.pool)
            .await?
            .iter()
            .map(rows::case)
            .collect::<Result<Vec<_>, _>>()?;
        let (cases, next) = finish_page(cases, q.limit);
        if !q.with_counts {
            return Ok(InboxPage {
                cases,
                next,
                counts: Vec::new(),
            });
        }
        let counts = inbox_counts_sql(&q.filter, placeholder);
        // The statement is assembled from constant fragments; every value is bound.
        let counts = bind_all(sqlx::query(sqlx::AssertSqlSafe(counts.sql)), &counts.args)
            .fetch_all(&db.pool)
            .await?
            .iter()
            .map(|r| Ok((parse_status(&col::<String>(r, 0)?)?, to_u64(col(r, 1)?)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(InboxPage {
            cases,
            next,
            counts,
        })
    }

    /// A case with its record's chain position, hash, envelope and receipt and its kit's
    /// key and name; `None` if there is no such case.
    ///
    /// # Errors
    /// Storage errors; [`StoreError::Corrupt`] for a stored value that does not parse.
    pub async fn case_detail(
        &self,
        record_id: &RecordId,
    ) -> Result<Option<CaseDetail>, StoreError> {
        let db = &self.db;
        let sql = format!(
            "SELECT {CASE_COLUMNS}, r.seq, r.hash, r.envelope, r.receipt, k.public_key, k.name
         FROM cases c JOIN records r ON r.record_id = c.record_id
         JOIN kits k ON k.kit_id = r.kit_id
         WHERE c.record_id = $1"
        );
        // Built from constants only.
        let Some(r) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(record_id.to_string())
            .fetch_optional(&db.pool)
            .await?
        else {
            return Ok(None);
        };
        let key: Option<Vec<u8>> = col(&r, 16)?;
        Ok(Some(CaseDetail {
            case: rows::case(&r)?,
            seq: to_u64(col(&r, 12)?)?,
            hash: rows::hash(&col::<Vec<u8>>(&r, 13)?)?,
            envelope_json: col(&r, 14)?,
            receipt_json: col(&r, 15)?,
            kit_public_key: key.as_deref().map(to_32).transpose()?,
            kit_name: col(&r, 17)?,
        }))
    }

    /// A case's history (transitions, assignments, resolved flags), oldest first.
    ///
    /// # Errors
    /// Storage errors; [`StoreError::Corrupt`] for a stored value that does not parse.
    pub async fn case_events(&self, record_id: &RecordId) -> Result<Vec<CaseEventRow>, StoreError> {
        let db = &self.db;
        sqlx::query(
            "SELECT status, comment, actor, at, kind, assigned_to FROM case_events
         WHERE record_id = $1 ORDER BY id",
        )
        .bind(record_id.to_string())
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(CaseEventRow {
                status: parse_status(&col::<String>(r, 0)?)?,
                comment: col(r, 1)?,
                actor: col(r, 2)?,
                at: from_ms(col(r, 3)?)?,
                kind: rows::event_kind(&col::<String>(r, 4)?)?,
                assigned_to: col(r, 5)?,
            })
        })
        .collect()
    }

    /// Appends one entry to the decryption log (a single insert, so no transaction).
    ///
    /// # Errors
    /// Storage errors, among them a case that does not exist (foreign key).
    pub async fn log_decryption(&self, entry: &DecryptionEntry) -> Result<(), StoreError> {
        let db = &self.db;
        let e = entry;
        sqlx::query(
            "INSERT INTO decryption_log (record_id, authority_id, actor, purpose, at)
         VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(e.record_id.to_string())
        .bind(e.authority_id.as_str().to_owned())
        .bind(e.actor.clone())
        .bind(e.purpose.clone())
        .bind(to_ms(e.at))
        .execute(&db.pool)
        .await
        .map(drop)
        .map_err(db_err)
    }

    /// The decryptions of a case, oldest first.
    ///
    /// # Errors
    /// Storage errors; [`StoreError::Corrupt`] for a stored value that does not parse.
    pub async fn decryptions(
        &self,
        record_id: &RecordId,
    ) -> Result<Vec<DecryptionEntry>, StoreError> {
        let db = &self.db;
        sqlx::query(
            "SELECT authority_id, actor, purpose, at FROM decryption_log
         WHERE record_id = $1 ORDER BY id",
        )
        .bind(record_id.to_string())
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(DecryptionEntry {
                record_id: *record_id,
                authority_id: rows::slug(&col::<String>(r, 0)?)?,
                actor: col(r, 1)?,
                purpose: col(r, 2)?,
                at: from_ms(col(r, 3)?)?,
            })
        })
        .collect()
    }
}

impl super::Store {
    /// The query plan of the inbox page and counts statements, one line per step (the inbox
    /// benchmark's proof that pages are read from an index).
    ///
    /// # Errors
    /// Storage errors.
    pub async fn explain_inbox_page(&self, query: &InboxQuery) -> Result<Vec<String>, StoreError> {
        let db = &self.db;
        let mut lines = Vec::new();
        let page = inbox_page_sql(query, CASE_COLUMNS, placeholder);
        let counts = inbox_counts_sql(&query.filter, placeholder);
        for (what, built) in [("page", page), ("counts", counts)] {
            // Assembled from constant fragments; every value is bound.
            let sql = format!("{} {}", db.dialect.explain(), built.sql);
            let steps = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &built.args)
                .fetch_all(&db.pool)
                .await?;
            for r in &steps {
                let step: String = col(r, db.dialect.explain_column())?;
                lines.push(format!("{what}: {step}"));
            }
        }
        Ok(lines)
    }
}
