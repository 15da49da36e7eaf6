//! PostgreSQL: what the back office reads and writes — sessions, login throttling,
//! inbox pages, case details and history, the decryption log. The same statements as
//! `sqlite/office.rs`; the inbox ones are built by [`crate::storage::office`].

use chrono::{DateTime, Utc};
use sync_protocol::ids::RecordId;
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Row};

use super::db_err;
use crate::login_throttle::{self, Admission, ACCOUNT_WIDE};
use crate::storage::office::{finish_page, inbox_counts_sql, inbox_page_sql, Built, SqlArg};
use crate::storage::rows::{self, user_row, RawCase, CASE_COLUMNS};
use crate::storage::{
    from_ms, parse_status, to_32, to_u64, CaseDetail, CaseEventRow, DecryptionEntry, InboxPage,
    InboxQuery, LoginFailures, NewSession, SessionRow, StoreError, UserRow,
};

fn placeholder(n: usize) -> String {
    format!("${n}")
}

fn params(built: &Built) -> Vec<Box<dyn ToSql + Sync + Send>> {
    built
        .args
        .iter()
        .map(|a| -> Box<dyn ToSql + Sync + Send> {
            match a {
                SqlArg::Text(t) => Box::new(t.clone()),
                SqlArg::Int(i) => Box::new(*i),
            }
        })
        .collect()
}

async fn query<C: GenericClient + Sync>(c: &C, built: &Built) -> Result<Vec<Row>, StoreError> {
    let owned = params(built);
    let refs: Vec<&(dyn ToSql + Sync)> = owned
        .iter()
        .map(|p| -> &(dyn ToSql + Sync) { p.as_ref() })
        .collect();
    c.query(&built.sql, &refs).await.map_err(db_err)
}

pub async fn inbox_page<C: GenericClient + Sync>(
    c: &C,
    q: &InboxQuery,
) -> Result<InboxPage, StoreError> {
    let cases = query(c, &inbox_page_sql(q, CASE_COLUMNS, placeholder))
        .await?
        .iter()
        .map(|r| raw_case(r).and_then(RawCase::into_row))
        .collect::<Result<Vec<_>, _>>()?;
    let (cases, next) = finish_page(cases, q.limit);
    if !q.with_counts {
        return Ok(InboxPage {
            cases,
            next,
            counts: Vec::new(),
        });
    }
    let counts = query(c, &inbox_counts_sql(&q.filter, placeholder))
        .await?
        .iter()
        .map(|r| {
            let status: String = r.try_get(0).map_err(db_err)?;
            let n: i64 = r.try_get(1).map_err(db_err)?;
            Ok((parse_status(&status)?, to_u64(n)?))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(InboxPage {
        cases,
        next,
        counts,
    })
}

pub async fn case_detail<C: GenericClient + Sync>(
    c: &C,
    record_id: &RecordId,
) -> Result<Option<CaseDetail>, StoreError> {
    let Some(r) = c
        .query_opt(
            &format!(
                "SELECT {CASE_COLUMNS}, r.seq, r.hash, r.envelope, r.receipt, k.public_key, k.name
                 FROM cases c JOIN records r ON r.record_id = c.record_id
                 JOIN kits k ON k.kit_id = r.kit_id
                 WHERE c.record_id = $1"
            ),
            &[&record_id.to_string()],
        )
        .await
        .map_err(db_err)?
    else {
        return Ok(None);
    };
    let key: Option<Vec<u8>> = r.try_get(16).map_err(db_err)?;
    Ok(Some(CaseDetail {
        case: raw_case(&r)?.into_row()?,
        seq: to_u64(r.try_get(12).map_err(db_err)?)?,
        hash: rows::hash(r.try_get(13).map_err(db_err)?)?,
        envelope_json: r.try_get(14).map_err(db_err)?,
        receipt_json: r.try_get(15).map_err(db_err)?,
        kit_public_key: key.as_deref().map(to_32).transpose()?,
        kit_name: r.try_get(17).map_err(db_err)?,
    }))
}

pub async fn case_events<C: GenericClient + Sync>(
    c: &C,
    record_id: &RecordId,
) -> Result<Vec<CaseEventRow>, StoreError> {
    c.query(
        "SELECT status, comment, actor, at, kind, assigned_to FROM case_events
         WHERE record_id = $1 ORDER BY id",
        &[&record_id.to_string()],
    )
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| {
        Ok(CaseEventRow {
            status: parse_status(r.try_get(0).map_err(db_err)?)?,
            comment: r.try_get(1).map_err(db_err)?,
            actor: r.try_get(2).map_err(db_err)?,
            at: from_ms(r.try_get(3).map_err(db_err)?)?,
            kind: rows::event_kind(r.try_get(4).map_err(db_err)?)?,
            assigned_to: r.try_get(5).map_err(db_err)?,
        })
    })
    .collect()
}

pub async fn log_decryption<C: GenericClient + Sync>(
    c: &C,
    e: &DecryptionEntry,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO decryption_log (record_id, authority_id, actor, purpose, at)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &e.record_id.to_string(),
            &e.authority_id.as_str(),
            &e.actor,
            &e.purpose,
            &e.at.timestamp_millis(),
        ],
    )
    .await
    .map(drop)
    .map_err(db_err)
}

pub async fn decryptions<C: GenericClient + Sync>(
    c: &C,
    record_id: &RecordId,
) -> Result<Vec<DecryptionEntry>, StoreError> {
    c.query(
        "SELECT authority_id, actor, purpose, at FROM decryption_log
         WHERE record_id = $1 ORDER BY id",
        &[&record_id.to_string()],
    )
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| {
        Ok(DecryptionEntry {
            record_id: *record_id,
            authority_id: rows::slug(r.try_get(0).map_err(db_err)?)?,
            actor: r.try_get(1).map_err(db_err)?,
            purpose: r.try_get(2).map_err(db_err)?,
            at: from_ms(r.try_get(3).map_err(db_err)?)?,
        })
    })
    .collect()
}

const USER_COLUMNS: &str = "u.login, u.authority_id, u.role, u.password_hash, u.disabled, \
     u.created_at, u.must_change_password";

fn user_at(r: &Row, from: usize) -> Result<UserRow, StoreError> {
    user_row(
        r.try_get(from).map_err(db_err)?,
        r.try_get(from + 1).map_err(db_err)?,
        r.try_get(from + 2).map_err(db_err)?,
        r.try_get(from + 3).map_err(db_err)?,
        r.try_get(from + 4).map_err(db_err)?,
        r.try_get(from + 5).map_err(db_err)?,
        r.try_get(from + 6).map_err(db_err)?,
    )
}

pub async fn user<C: GenericClient + Sync>(
    c: &C,
    login: &str,
) -> Result<Option<UserRow>, StoreError> {
    c.query_opt(
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.login = $1"),
        &[&login],
    )
    .await
    .map_err(db_err)?
    .map(|r| user_at(&r, 0))
    .transpose()
}

pub async fn create_session<C: GenericClient + Sync>(
    c: &C,
    s: &NewSession,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO sessions (token_hash, login, csrf_token, created_at, last_seen_at, expires_at)
         VALUES ($1, $2, $3, $4, $4, $5)",
        &[
            &s.token_hash.as_slice(),
            &s.login,
            &s.csrf_token,
            &s.created_at.timestamp_millis(),
            &s.expires_at.timestamp_millis(),
        ],
    )
    .await
    .map(drop)
    .map_err(db_err)
}

pub async fn touch_session<C: GenericClient + Sync>(
    c: &C,
    token_hash: &[u8; 32],
    now: i64,
    idle_ms: i64,
) -> Result<Option<SessionRow>, StoreError> {
    let Some(r) = c
        .query_opt(
            &format!(
                "UPDATE sessions s SET last_seen_at = $2
                 FROM users u
                 WHERE u.login = s.login AND s.token_hash = $1 AND s.expires_at > $2
                   AND s.last_seen_at > $3 AND NOT u.disabled
                 RETURNING s.csrf_token, s.created_at, s.expires_at, {USER_COLUMNS}"
            ),
            &[&token_hash.as_slice(), &now, &(now - idle_ms)],
        )
        .await
        .map_err(db_err)?
    else {
        return Ok(None);
    };
    Ok(Some(SessionRow {
        csrf_token: r.try_get(0).map_err(db_err)?,
        created_at: from_ms(r.try_get(1).map_err(db_err)?)?,
        expires_at: from_ms(r.try_get(2).map_err(db_err)?)?,
        user: user_at(&r, 3)?,
    }))
}

pub async fn delete_session<C: GenericClient + Sync>(
    c: &C,
    token_hash: &[u8; 32],
) -> Result<(), StoreError> {
    c.execute(
        "DELETE FROM sessions WHERE token_hash = $1",
        &[&token_hash.as_slice()],
    )
    .await
    .map(drop)
    .map_err(db_err)
}

pub async fn purge_sessions<C: GenericClient + Sync>(
    c: &C,
    before: i64,
) -> Result<u64, StoreError> {
    c.execute("DELETE FROM sessions WHERE expires_at < $1", &[&before])
        .await
        .map_err(db_err)
}

fn failures(r: &Row) -> Result<LoginFailures, StoreError> {
    let n: i64 = r.try_get(0).map_err(db_err)?;
    Ok(LoginFailures {
        failures: u32::try_from(n).unwrap_or(u32::MAX),
        last_failure_at: from_ms(r.try_get(1).map_err(db_err)?)?,
    })
}

pub async fn login_failures<C: GenericClient + Sync>(
    c: &C,
    login: &str,
    client: &str,
) -> Result<Option<LoginFailures>, StoreError> {
    c.query_opt(
        "SELECT failures, last_failure_at FROM login_failures WHERE login = $1 AND client = $2",
        &[&login, &client],
    )
    .await
    .map_err(db_err)?
    .map(|r| failures(&r))
    .transpose()
}

/// Locks the row of (`login`, `client`), creating it with no failures if missing (a
/// concurrent creator waits on the primary key), and returns its counts.
async fn lock_failures<C: GenericClient + Sync>(
    c: &C,
    login: &str,
    client: &str,
    now: i64,
) -> Result<LoginFailures, StoreError> {
    let r = c
        .query_one(
            "INSERT INTO login_failures (login, client, failures, last_failure_at)
             VALUES ($1, $2, 0, $3)
             ON CONFLICT (login, client) DO UPDATE SET failures = login_failures.failures
             RETURNING failures, last_failure_at",
            &[&login, &client, &now],
        )
        .await
        .map_err(db_err)?;
    failures(&r)
}

/// Runs inside one transaction: both rows are locked before they are read, so parallel
/// attempts for one login are decided one after the other.
pub async fn admit_login<C: GenericClient + Sync>(
    c: &C,
    login: &str,
    client: &str,
    now: DateTime<Utc>,
) -> Result<Admission, StoreError> {
    let at = now.timestamp_millis();
    let own = lock_failures(c, login, client, at).await?;
    let account = lock_failures(c, login, ACCOUNT_WIDE, at).await?;
    let admission = login_throttle::admit(Some(&own), Some(&account), now);
    if admission == Admission::Check {
        c.execute(
            "UPDATE login_failures SET failures = failures + 1, last_failure_at = $3
             WHERE login = $1 AND client IN ($2, $4)",
            &[&login, &client, &at, &ACCOUNT_WIDE],
        )
        .await
        .map_err(db_err)?;
    }
    Ok(admission)
}

/// Runs inside one transaction.
pub async fn login_succeeded<C: GenericClient + Sync>(
    c: &C,
    login: &str,
    client: &str,
) -> Result<(), StoreError> {
    let counted: i64 = c
        .query_opt(
            "DELETE FROM login_failures WHERE login = $1 AND client = $2 RETURNING failures",
            &[&login, &client],
        )
        .await
        .map_err(db_err)?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(db_err)?
        .unwrap_or(0);
    c.execute(
        "UPDATE login_failures SET failures = GREATEST(failures - $3, 0)
         WHERE login = $1 AND client = $2",
        &[&login, &ACCOUNT_WIDE, &counted],
    )
    .await
    .map(drop)
    .map_err(db_err)
}

pub async fn purge_login_failures<C: GenericClient + Sync>(
    c: &C,
    before: i64,
) -> Result<u64, StoreError> {
    c.execute(
        "DELETE FROM login_failures WHERE last_failure_at < $1",
        &[&before],
    )
    .await
    .map_err(db_err)
}

/// A case row as `CASE_COLUMNS` selects it.
fn raw_case(r: &Row) -> Result<RawCase, StoreError> {
    Ok(RawCase {
        record_id: r.try_get(0).map_err(db_err)?,
        kit_id: r.try_get(1).map_err(db_err)?,
        authority_id: r.try_get(2).map_err(db_err)?,
        form_id: r.try_get(3).map_err(db_err)?,
        form_version: r.try_get(4).map_err(db_err)?,
        kind: r.try_get(5).map_err(db_err)?,
        references: r.try_get(6).map_err(db_err)?,
        status: r.try_get(7).map_err(db_err)?,
        received_at: r.try_get(8).map_err(db_err)?,
        log_position: r.try_get(9).map_err(db_err)?,
        clerk_id: r.try_get(10).map_err(db_err)?,
        assigned_to: r.try_get(11).map_err(db_err)?,
    })
}
