//! PostgreSQL: what the back office reads and writes — sessions, login throttling,
//! inbox pages, case details and history, the decryption log. The same statements as
//! `sqlite/office.rs`; the inbox ones are built by [`crate::storage::office`].

use sync_protocol::ids::RecordId;
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Row};

use super::db_err;
use crate::storage::office::{finish_page, inbox_counts_sql, inbox_page_sql, Built, SqlArg};
use crate::storage::rows::{self, RawCase, CASE_COLUMNS};
use crate::storage::{
    from_ms, parse_status, to_32, to_u64, CaseDetail, CaseEventRow, DecryptionEntry, InboxPage,
    InboxQuery, StoreError,
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
