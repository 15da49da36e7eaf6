//! SQLite: what the back office reads and writes — sessions, login throttling, inbox
//! pages, case details and history, the decryption log. The inbox statements come from
//! [`crate::storage::office`], shared with PostgreSQL.

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use sync_protocol::ids::RecordId;

use super::db_err;
use crate::storage::office::{finish_page, inbox_counts_sql, inbox_page_sql, Built, SqlArg};
use crate::storage::rows::{self, RawCase, CASE_COLUMNS};
use crate::storage::{
    from_ms, parse_status, to_32, to_u64, CaseDetail, CaseEventRow, DecryptionEntry, InboxPage,
    InboxQuery, StoreError,
};

fn placeholder(n: usize) -> String {
    format!("?{n}")
}

fn values(built: &Built) -> Vec<Value> {
    built
        .args
        .iter()
        .map(|a| match a {
            SqlArg::Text(t) => Value::Text(t.clone()),
            SqlArg::Int(i) => Value::Integer(*i),
        })
        .collect()
}

fn raw_case(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawCase> {
    Ok(RawCase {
        record_id: r.get(0)?,
        kit_id: r.get(1)?,
        authority_id: r.get(2)?,
        form_id: r.get(3)?,
        form_version: r.get(4)?,
        kind: r.get(5)?,
        references: r.get(6)?,
        status: r.get(7)?,
        received_at: r.get(8)?,
        log_position: r.get(9)?,
        clerk_id: r.get(10)?,
        assigned_to: r.get(11)?,
    })
}

pub fn inbox_page(c: &mut Connection, query: &InboxQuery) -> Result<InboxPage, StoreError> {
    let page = inbox_page_sql(query, CASE_COLUMNS, placeholder);
    let raw = c
        .prepare_cached(&page.sql)
        .and_then(|mut s| {
            s.query_map(params_from_iter(values(&page)), raw_case)?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(db_err)?;
    let cases = raw
        .into_iter()
        .map(RawCase::into_row)
        .collect::<Result<Vec<_>, _>>()?;
    let (cases, next) = finish_page(cases, query.limit);
    if !query.with_counts {
        return Ok(InboxPage {
            cases,
            next,
            counts: Vec::new(),
        });
    }
    let counts_sql = inbox_counts_sql(&query.filter, placeholder);
    let counts = c
        .prepare_cached(&counts_sql.sql)
        .and_then(|mut s| {
            s.query_map(params_from_iter(values(&counts_sql)), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()
        })
        .map_err(db_err)?
        .into_iter()
        .map(|(status, n)| Ok((parse_status(&status)?, to_u64(n)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(InboxPage {
        cases,
        next,
        counts,
    })
}

type RawDetail = (
    RawCase,
    i64,
    Vec<u8>,
    Vec<u8>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    String,
);

pub fn case_detail(
    c: &mut Connection,
    record_id: &RecordId,
) -> Result<Option<CaseDetail>, StoreError> {
    let found: Option<RawDetail> = c
        .query_row(
            &format!(
                "SELECT {CASE_COLUMNS}, r.seq, r.hash, r.envelope, r.receipt, k.public_key, k.name
                 FROM cases c JOIN records r ON r.record_id = c.record_id
                 JOIN kits k ON k.kit_id = r.kit_id
                 WHERE c.record_id = ?1"
            ),
            [record_id.to_string()],
            |r| {
                Ok((
                    raw_case(r)?,
                    r.get(12)?,
                    r.get(13)?,
                    r.get(14)?,
                    r.get(15)?,
                    r.get(16)?,
                    r.get(17)?,
                ))
            },
        )
        .optional()
        .map_err(db_err)?;
    found
        .map(|(raw, seq, hash, envelope, receipt, key, kit_name)| {
            Ok(CaseDetail {
                case: raw.into_row()?,
                seq: to_u64(seq)?,
                hash: rows::hash(&hash)?,
                envelope_json: envelope,
                receipt_json: receipt,
                kit_public_key: key.as_deref().map(to_32).transpose()?,
                kit_name,
            })
        })
        .transpose()
}

pub fn case_events(
    c: &mut Connection,
    record_id: &RecordId,
) -> Result<Vec<CaseEventRow>, StoreError> {
    let raw = c
        .prepare_cached(
            "SELECT status, comment, actor, at, kind, assigned_to FROM case_events
             WHERE record_id = ?1 ORDER BY id",
        )
        .and_then(|mut s| {
            s.query_map([record_id.to_string()], |r| {
                Ok((
                    (
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                    ),
                    (r.get::<_, String>(4)?, r.get::<_, Option<String>>(5)?),
                ))
            })?
            .collect::<Result<Vec<_>, _>>()
        })
        .map_err(db_err)?;
    raw.into_iter()
        .map(|((status, comment, actor, at), (kind, assigned_to))| {
            Ok(CaseEventRow {
                status: parse_status(&status)?,
                comment,
                actor,
                at: from_ms(at)?,
                kind: rows::event_kind(&kind)?,
                assigned_to,
            })
        })
        .collect()
}

pub fn log_decryption(c: &mut Connection, e: &DecryptionEntry) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO decryption_log (record_id, authority_id, actor, purpose, at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            e.record_id.to_string(),
            e.authority_id.as_str(),
            e.actor,
            e.purpose,
            e.at.timestamp_millis()
        ],
    )
    .map(drop)
    .map_err(db_err)
}

pub fn decryptions(
    c: &mut Connection,
    record_id: &RecordId,
) -> Result<Vec<DecryptionEntry>, StoreError> {
    let raw = c
        .prepare_cached(
            "SELECT authority_id, actor, purpose, at FROM decryption_log
             WHERE record_id = ?1 ORDER BY id",
        )
        .and_then(|mut s| {
            s.query_map([record_id.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()
        })
        .map_err(db_err)?;
    raw.into_iter()
        .map(|(authority, actor, purpose, at)| {
            Ok(DecryptionEntry {
                record_id: *record_id,
                authority_id: rows::slug(&authority)?,
                actor,
                purpose,
                at: from_ms(at)?,
            })
        })
        .collect()
}

/// `EXPLAIN QUERY PLAN` of the inbox page and counts statements.
pub fn explain_inbox_page(
    c: &mut Connection,
    query: &InboxQuery,
) -> Result<Vec<String>, StoreError> {
    let mut lines = Vec::new();
    let page = inbox_page_sql(query, CASE_COLUMNS, placeholder);
    let counts = inbox_counts_sql(&query.filter, placeholder);
    for (what, built) in [("page", page), ("counts", counts)] {
        let mut stmt = c
            .prepare(&format!("EXPLAIN QUERY PLAN {}", built.sql))
            .map_err(db_err)?;
        let steps = stmt
            .query_map(params_from_iter(values(&built)), |r| r.get::<_, String>(3))
            .map_err(db_err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_err)?;
        lines.extend(steps.into_iter().map(|s| format!("{what}: {s}")));
    }
    Ok(lines)
}
