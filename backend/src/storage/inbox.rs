//! The back office's reading of cases, once for both databases: inbox pages (keyset,
//! with filters and counts, the statements built here), a case's detail
//! and history, the decryption log, and the query plan of a page for the benchmark.

use chrono::{DateTime, Utc};
use sync_protocol::api::CaseStatus;
use sync_protocol::codes::{kit_short_code, CaseCode};
use sync_protocol::ids::{AuthorityId, KitId, RecordId};

use super::rows::{self, CASE_COLUMNS};
use super::sql::{bind_all, col, placeholder, Built, SqlArg};
use super::{
    from_ms, parse_status, to_32, to_i64, to_ms, to_u64, CaseDetail, CaseEventRow, DecryptionEntry,
    InboxPage, InboxQuery, StoreError,
};
use super::{status_name, AssigneeFilter, CaseRow, InboxCursor, InboxFilter, InboxOrder};

fn filter_sql(filter: &InboxFilter, with_status: bool) -> (String, Vec<SqlArg>) {
    let mut args = vec![SqlArg::Text(filter.authority_id.to_string())];
    let mut sql = format!("c.authority_id = {}", placeholder(1));
    let mut add = |sql: &mut String, clause: &str, arg: SqlArg| {
        args.push(arg);
        sql.push_str(&format!(" AND {clause} {}", placeholder(args.len())));
    };
    if let Some(form) = &filter.form_id {
        add(&mut sql, "c.form_id =", SqlArg::Text(form.to_string()));
    }
    if let (true, Some(status)) = (with_status, filter.status) {
        add(&mut sql, "c.status =", SqlArg::Text(status_name(status)));
    }
    if let Some(kit) = &filter.kit_id {
        add(&mut sql, "c.kit_id =", SqlArg::Text(kit.to_string()));
    }
    if let Some(from) = filter.received_from {
        add(&mut sql, "c.received_at >=", SqlArg::Int(to_ms(from)));
    }
    if let Some(before) = filter.received_before {
        add(&mut sql, "c.received_at <", SqlArg::Int(to_ms(before)));
    }
    if let Some(clerk) = &filter.clerk_id {
        add(&mut sql, "c.clerk_id =", SqlArg::Text(clerk.clone()));
    }
    match &filter.assignee {
        Some(AssigneeFilter::To(login)) => {
            add(&mut sql, "c.assigned_to =", SqlArg::Text(login.clone()));
        }
        Some(AssigneeFilter::Nobody) => sql.push_str(" AND c.assigned_to IS NULL"),
        None => {}
    }
    if filter.flagged {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM case_flags f \
             WHERE f.record_id = c.record_id AND f.resolved_at IS NULL)",
        );
    }
    (sql, args)
}

/// The page statement: keyset pagination on `(received_at, record_id)`, backed by the
/// `cases_inbox_page` / `cases_inbox_status_page` indexes; one row more than the limit
/// tells whether another page follows.
pub(crate) fn inbox_page_sql(query: &InboxQuery, case_columns: &str) -> Built {
    let (mut where_sql, mut args) = filter_sql(&query.filter, true);
    let (cmp, dir) = match query.order {
        InboxOrder::OldestFirst => (">", "ASC"),
        InboxOrder::NewestFirst => ("<", "DESC"),
    };
    if let Some(after) = &query.after {
        args.push(SqlArg::Int(to_ms(after.received_at)));
        args.push(SqlArg::Text(after.record_id.to_string()));
        where_sql.push_str(&format!(
            " AND (c.received_at, c.record_id) {cmp} ({}, {})",
            placeholder(args.len() - 1),
            placeholder(args.len())
        ));
    }
    args.push(SqlArg::Int(i64::from(query.limit) + 1));
    Built {
        sql: format!(
            "SELECT {case_columns} FROM cases c JOIN records r ON r.record_id = c.record_id
             WHERE {where_sql} ORDER BY c.received_at {dir}, c.record_id {dir} LIMIT {}",
            placeholder(args.len())
        ),
        args,
    }
}

/// The counts statement: `status, count` under the filter without its status. Without
/// a filter besides authority, kit and clerk, the counts come from `case_counts` (kept by
/// triggers; one row per kit, clerk and status), so they cost the same at a million
/// cases as at ten thousand; other filters count the matching index range (grouping by
/// an expression, so that the planner picks the filter's index, not the status index).
pub(crate) fn inbox_counts_sql(filter: &InboxFilter) -> Built {
    let from_counters = filter.form_id.is_none()
        && filter.received_from.is_none()
        && filter.received_before.is_none()
        && filter.assignee.is_none()
        && !filter.flagged;
    if from_counters {
        let mut args = vec![SqlArg::Text(filter.authority_id.to_string())];
        let mut sql = format!("authority_id = {}", placeholder(1));
        if let Some(kit) = &filter.kit_id {
            args.push(SqlArg::Text(kit.to_string()));
            sql.push_str(&format!(" AND kit_id = {}", placeholder(args.len())));
        }
        if let Some(clerk) = &filter.clerk_id {
            args.push(SqlArg::Text(clerk.clone()));
            sql.push_str(&format!(" AND clerk_id = {}", placeholder(args.len())));
        }
        return Built {
            sql: format!(
                "SELECT status, CAST(SUM(n) AS BIGINT) FROM case_counts WHERE {sql} \
                 GROUP BY status HAVING SUM(n) > 0 ORDER BY status"
            ),
            args,
        };
    }
    let (where_sql, args) = filter_sql(filter, false);
    Built {
        sql: format!(
            "SELECT c.status || '' AS s, COUNT(*) FROM cases c WHERE {where_sql} \
             GROUP BY 1 ORDER BY 1"
        ),
        args,
    }
}

/// Turns `limit + 1` fetched rows into a page's cases and its continuation.
pub(crate) fn finish_page(
    mut cases: Vec<CaseRow>,
    limit: u32,
) -> (Vec<CaseRow>, Option<InboxCursor>) {
    let limit = limit as usize;
    if cases.len() <= limit {
        return (cases, None);
    }
    cases.truncate(limit);
    let next = cases.last().map(|c| InboxCursor {
        received_at: c.received_at,
        record_id: c.record_id,
    });
    (cases, next)
}

impl super::Store {
    /// A page of an authority's inbox, with the counts per status when asked for.
    pub async fn inbox_page(&self, query: &InboxQuery) -> Result<InboxPage, StoreError> {
        let page = inbox_page_sql(query, CASE_COLUMNS);
        // The statement is assembled from constant fragments; every value is bound.
        let cases = bind_all(sqlx::query(sqlx::AssertSqlSafe(page.sql)), &page.args)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(rows::case)
            .collect::<Result<Vec<_>, _>>()?;
        let (cases, next) = finish_page(cases, query.limit);
        if !query.with_counts {
            return Ok(InboxPage {
                cases,
                next,
                counts: Vec::new(),
            });
        }
        let counts = inbox_counts_sql(&query.filter);
        // The statement is assembled from constant fragments; every value is bound.
        let counts = bind_all(sqlx::query(sqlx::AssertSqlSafe(counts.sql)), &counts.args)
            .fetch_all(&self.db.pool)
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
    pub async fn case_detail(
        &self,
        record_id: &RecordId,
    ) -> Result<Option<CaseDetail>, StoreError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS}, r.hash, r.envelope, r.receipt, k.public_key, k.name
             FROM cases c JOIN records r ON r.record_id = c.record_id
             JOIN kits k ON k.kit_id = r.kit_id
             WHERE c.record_id = $1"
        );
        // Built from constants only.
        let Some(r) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(record_id.to_string())
            .fetch_optional(&self.db.pool)
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

    /// The case of `authority_id` a typed code names: a case number (the kit's short
    /// code and the record's seq) or a verification code (the first 40 bits of the
    /// record hash, found by the hash range it starts, on `records_by_hash`). `None` when
    /// no case of that authority has it — cases of other authorities are never named.
    pub async fn find_case_by_code(
        &self,
        authority_id: &AuthorityId,
        code: &CaseCode,
    ) -> Result<Option<RecordId>, StoreError> {
        let found: Vec<String> = match code {
            CaseCode::CaseNumber { kit, seq } => {
                // Kits are few (one per clerk's laptop); the short code is derived.
                let kits: Vec<KitId> = self
                    .kits()
                    .await?
                    .into_iter()
                    .map(|k| k.kit_id)
                    .filter(|id| kit_short_code(id) == *kit)
                    .collect();
                let mut found = Vec::new();
                for kit_id in kits {
                    let row = sqlx::query(
                        "SELECT r.record_id FROM records r
                         JOIN cases c ON c.record_id = r.record_id
                         WHERE r.kit_id = $1 AND r.seq = $2 AND c.authority_id = $3",
                    )
                    .bind(kit_id.to_string())
                    .bind(to_i64(*seq)?)
                    .bind(authority_id.to_string())
                    .fetch_optional(&self.db.pool)
                    .await?;
                    if let Some(row) = row {
                        found.push(col(&row, 0)?);
                    }
                }
                found
            }
            CaseCode::Verification(prefix) => {
                let mut from = prefix.to_vec();
                from.resize(32, 0x00);
                let mut to = prefix.to_vec();
                to.resize(32, 0xff);
                // By the hash range alone, so that both planners take `records_by_hash`
                // (SQLite would rather scan the authority's cases); a 40-bit prefix
                // names a handful of records at most, filtered to the authority here.
                let rows = sqlx::query(
                    "SELECT r.record_id, c.authority_id FROM records r
                     JOIN cases c ON c.record_id = r.record_id
                     WHERE r.hash BETWEEN $1 AND $2 LIMIT 16",
                )
                .bind(from)
                .bind(to)
                .fetch_all(&self.db.pool)
                .await?;
                let mut found = Vec::new();
                for r in &rows {
                    if col::<String>(r, 1)? == authority_id.as_str() {
                        found.push(col(r, 0)?);
                    }
                }
                found
            }
        };
        // Two cases with one code (40 bits of hash, or two kits with one short code and
        // seq) name none: the reviewer searches by the other code.
        match found.as_slice() {
            [one] => Ok(Some(super::parse("record id", one)?)),
            _ => Ok(None),
        }
    }

    /// A case's history (transitions, assignments, resolved flags), oldest first.
    pub async fn case_events(&self, record_id: &RecordId) -> Result<Vec<CaseEventRow>, StoreError> {
        sqlx::query(
            "SELECT status, comment, actor, at, kind, assigned_to FROM case_events
             WHERE record_id = $1 ORDER BY id",
        )
        .bind(record_id.to_string())
        .fetch_all(&self.db.pool)
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

    /// Appends one entry to the decryption log (a single insert, so no transaction); a case
    /// that does not exist fails its foreign key.
    pub async fn log_decryption(&self, entry: &DecryptionEntry) -> Result<(), StoreError> {
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
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// The decryptions of a case, oldest first.
    pub async fn decryptions(
        &self,
        record_id: &RecordId,
    ) -> Result<Vec<DecryptionEntry>, StoreError> {
        sqlx::query(
            "SELECT authority_id, actor, purpose, at FROM decryption_log
             WHERE record_id = $1 ORDER BY id",
        )
        .bind(record_id.to_string())
        .fetch_all(&self.db.pool)
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
    /// When `actor` last worked on a case of `authority` before `before` — the latest of
    /// their entries in the decryption log and the case history — or `None` if never.
    /// The back office's start page uses it as the reviewer's last visit: sessions are
    /// deleted at logout, and these two append-only logs already hold the answer.
    pub async fn last_activity(
        &self,
        authority: &AuthorityId,
        actor: &str,
        before: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = sqlx::query(
            "SELECT MAX(at) FROM (
               SELECT d.at FROM decryption_log d
                WHERE d.authority_id = $1 AND d.actor = $2 AND d.at < $3
               UNION ALL
               SELECT e.at FROM case_events e JOIN cases c ON c.record_id = e.record_id
                WHERE c.authority_id = $1 AND e.actor = $2 AND e.at < $3
             ) AS activity",
        )
        .bind(authority.to_string())
        .bind(actor.to_owned())
        .bind(to_ms(before))
        .fetch_one(&self.db.pool)
        .await?;
        col::<Option<i64>>(&row, 0)?.map(from_ms).transpose()
    }

    /// An authority's cases back in review after a Rückfrage: status `in_review` with a
    /// `needs_information` entry in their history; oldest first, at most `limit`.
    pub async fn answered_queries(
        &self,
        authority: &AuthorityId,
        limit: u32,
    ) -> Result<Vec<CaseRow>, StoreError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases c JOIN records r ON r.record_id = c.record_id
             WHERE c.authority_id = $1 AND c.status = $2
               AND EXISTS (SELECT 1 FROM case_events e
                            WHERE e.record_id = c.record_id AND e.kind = 'status'
                              AND e.status = $3)
             ORDER BY r.received_at, r.record_id LIMIT $4"
        );
        // Built from constants only.
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(authority.to_string())
            .bind(status_name(CaseStatus::InReview))
            .bind(status_name(CaseStatus::NeedsInformation))
            .bind(i64::from(limit))
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(rows::case)
            .collect()
    }
}

impl super::Store {
    /// The query plan of the inbox page and counts statements, one line per step (the inbox
    /// benchmark's proof that pages are read from an index).
    pub async fn explain_inbox_page(&self, query: &InboxQuery) -> Result<Vec<String>, StoreError> {
        let dialect = self.db.dialect;
        let mut lines = Vec::new();
        let page = inbox_page_sql(query, CASE_COLUMNS);
        let counts = inbox_counts_sql(&query.filter);
        for (what, built) in [("page", page), ("counts", counts)] {
            // Assembled from constant fragments; every value is bound.
            let sql = format!("{} {}", dialect.explain(), built.sql);
            let steps = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &built.args)
                .fetch_all(&self.db.pool)
                .await?;
            for r in &steps {
                let step: String = col(r, dialect.explain_column())?;
                lines.push(format!("{what}: {step}"));
            }
        }
        Ok(lines)
    }
}
