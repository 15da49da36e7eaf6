//! SQLite: what the back office reads and writes — sessions, login throttling, inbox
//! pages, case details and history, the decryption log. The inbox statements come from
//! [`crate::storage::office`], shared with PostgreSQL.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, TransactionBehavior};
use sync_protocol::ids::RecordId;

use super::db_err;
use crate::login_throttle::{self, Admission, ACCOUNT_WIDE};
use crate::storage::office::{finish_page, inbox_counts_sql, inbox_page_sql, Built, SqlArg};
use crate::storage::rows::{self, user_row, RawCase, CASE_COLUMNS};
use crate::storage::{
    from_ms, parse_status, to_32, to_u64, CaseDetail, CaseEventRow, DecryptionEntry, InboxPage,
    InboxQuery, LoginFailures, NewSession, SessionRow, StoreError, UserRow,
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

type RawUser = (String, String, String, String, bool, i64, bool);

fn raw_user(r: &rusqlite::Row<'_>, from: usize) -> rusqlite::Result<RawUser> {
    Ok((
        r.get(from)?,
        r.get(from + 1)?,
        r.get(from + 2)?,
        r.get(from + 3)?,
        r.get(from + 4)?,
        r.get(from + 5)?,
        r.get(from + 6)?,
    ))
}

fn into_user(
    (login, authority, role, hash, disabled, created, change): RawUser,
) -> Result<UserRow, StoreError> {
    user_row(login, &authority, &role, hash, disabled, created, change)
}

pub fn user(c: &mut Connection, login: &str) -> Result<Option<UserRow>, StoreError> {
    c.query_row(
        "SELECT login, authority_id, role, password_hash, disabled, created_at,
                must_change_password
         FROM users WHERE login = ?1",
        [login],
        |r| raw_user(r, 0),
    )
    .optional()
    .map_err(db_err)?
    .map(into_user)
    .transpose()
}

pub fn create_session(c: &mut Connection, s: &NewSession) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO sessions (token_hash, login, csrf_token, created_at, last_seen_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
        params![
            s.token_hash.as_slice(),
            s.login,
            s.csrf_token,
            s.created_at.timestamp_millis(),
            s.expires_at.timestamp_millis()
        ],
    )
    .map(drop)
    .map_err(db_err)
}

pub fn touch_session(
    c: &mut Connection,
    token_hash: &[u8; 32],
    now: i64,
    idle_ms: i64,
) -> Result<Option<SessionRow>, StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let found = tx
        .query_row(
            "SELECT s.csrf_token, s.created_at, s.expires_at,
                    u.login, u.authority_id, u.role, u.password_hash, u.disabled, u.created_at,
                    u.must_change_password
             FROM sessions s JOIN users u ON u.login = s.login
             WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND s.last_seen_at > ?3
               AND NOT u.disabled",
            params![token_hash.as_slice(), now, now - idle_ms],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    raw_user(r, 3)?,
                ))
            },
        )
        .optional()
        .map_err(db_err)?;
    let Some((csrf_token, created, expires, user)) = found else {
        return Ok(None);
    };
    tx.execute(
        "UPDATE sessions SET last_seen_at = ?1 WHERE token_hash = ?2",
        params![now, token_hash.as_slice()],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(Some(SessionRow {
        user: into_user(user)?,
        csrf_token,
        created_at: from_ms(created)?,
        expires_at: from_ms(expires)?,
    }))
}

pub fn delete_session(c: &mut Connection, token_hash: &[u8; 32]) -> Result<(), StoreError> {
    c.execute(
        "DELETE FROM sessions WHERE token_hash = ?1",
        [token_hash.as_slice()],
    )
    .map(drop)
    .map_err(db_err)
}

pub fn purge_sessions(c: &mut Connection, before: i64) -> Result<u64, StoreError> {
    c.execute("DELETE FROM sessions WHERE expires_at < ?1", [before])
        .map(|n| n as u64)
        .map_err(db_err)
}

fn failures(failures: i64, at: i64) -> Result<LoginFailures, StoreError> {
    Ok(LoginFailures {
        failures: u32::try_from(failures).unwrap_or(u32::MAX),
        last_failure_at: from_ms(at)?,
    })
}

fn failure_row(
    c: &Connection,
    login: &str,
    client: &str,
) -> Result<Option<LoginFailures>, StoreError> {
    c.query_row(
        "SELECT failures, last_failure_at FROM login_failures WHERE login = ?1 AND client = ?2",
        [login, client],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
    )
    .optional()
    .map_err(db_err)?
    .map(|(n, at)| failures(n, at))
    .transpose()
}

pub fn login_failures(
    c: &mut Connection,
    login: &str,
    client: &str,
) -> Result<Option<LoginFailures>, StoreError> {
    failure_row(c, login, client)
}

/// One write transaction (`BEGIN IMMEDIATE`), so no other attempt reads the counters
/// between this one's read and its count.
pub fn admit_login(
    c: &mut Connection,
    login: &str,
    client: &str,
    now: DateTime<Utc>,
) -> Result<Admission, StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let admission = login_throttle::admit(
        failure_row(&tx, login, client)?.as_ref(),
        failure_row(&tx, login, ACCOUNT_WIDE)?.as_ref(),
        now,
    );
    if admission == Admission::Check {
        for who in [client, ACCOUNT_WIDE] {
            tx.execute(
                "INSERT INTO login_failures (login, client, failures, last_failure_at)
                 VALUES (?1, ?2, 1, ?3)
                 ON CONFLICT (login, client) DO UPDATE
                     SET failures = login_failures.failures + 1,
                         last_failure_at = excluded.last_failure_at",
                params![login, who, now.timestamp_millis()],
            )
            .map_err(db_err)?;
        }
    }
    tx.commit().map_err(db_err)?;
    Ok(admission)
}

pub fn login_succeeded(c: &mut Connection, login: &str, client: &str) -> Result<(), StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let counted = failure_row(&tx, login, client)?.map_or(0, |f| i64::from(f.failures));
    tx.execute(
        "DELETE FROM login_failures WHERE login = ?1 AND client = ?2",
        [login, client],
    )
    .map_err(db_err)?;
    tx.execute(
        "UPDATE login_failures SET failures = MAX(failures - ?3, 0)
         WHERE login = ?1 AND client = ?2",
        params![login, ACCOUNT_WIDE, counted],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)
}

pub fn purge_login_failures(c: &mut Connection, before: i64) -> Result<u64, StoreError> {
    c.execute(
        "DELETE FROM login_failures WHERE last_failure_at < ?1",
        [before],
    )
    .map(|n| n as u64)
    .map_err(db_err)
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
