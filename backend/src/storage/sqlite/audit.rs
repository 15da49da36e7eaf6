//! SQLite: `impl AuditStore for SqliteStore` — the admin audit trail (append), the
//! audit viewer's pages (statement from [`crate::storage::audit`], shared with
//! PostgreSQL) and the list of published catalog versions.

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection};

use super::{db_err, SqliteStore};
use crate::storage::audit::{audit_page_sql, finish_audit_page, raw_entry, RawEntry};
use crate::storage::office::{Built, SqlArg};
use crate::storage::{
    from_ms, to_ms, AdminEvent, AuditPage, AuditQuery, AuditStore, CatalogVersionRow, StoreError,
};

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

fn append(c: &mut Connection, e: &AdminEvent) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO admin_events (at, actor, authority_id, action, target, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            to_ms(e.at),
            e.actor,
            e.authority_id.as_ref().map(|a| a.as_str()),
            e.action.as_str(),
            e.target,
            e.detail
        ],
    )
    .map(drop)
    .map_err(db_err)
}

fn page(c: &mut Connection, q: &AuditQuery) -> Result<AuditPage, StoreError> {
    let built = audit_page_sql(q, |n| format!("?{n}"));
    let raw: Vec<RawEntry> = c
        .prepare_cached(&built.sql)
        .and_then(|mut s| {
            s.query_map(params_from_iter(values(&built)), |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()
        })
        .map_err(db_err)?;
    let entries = raw
        .into_iter()
        .map(raw_entry)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(finish_audit_page(entries, q.limit))
}

fn catalogs(c: &mut Connection) -> Result<Vec<CatalogVersionRow>, StoreError> {
    let raw = c
        .prepare(
            "SELECT version, etag, published_at, current FROM catalogs
             ORDER BY published_at DESC, version DESC",
        )
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, bool>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()
        })
        .map_err(db_err)?;
    raw.into_iter()
        .map(|(version, etag, at, current)| {
            Ok(CatalogVersionRow {
                version,
                etag,
                published_at: from_ms(at)?,
                current,
            })
        })
        .collect()
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_admin_event(&self, event: &AdminEvent) -> Result<(), StoreError> {
        let e = event.clone();
        self.run(move |c| append(c, &e)).await
    }

    async fn audit_page(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        let q = query.clone();
        self.run(move |c| page(c, &q)).await
    }

    async fn catalog_versions(&self) -> Result<Vec<CatalogVersionRow>, StoreError> {
        self.run(catalogs).await
    }
}
