//! PostgreSQL: `impl AuditStore for PgStore` — the same statements as
//! `sqlite/audit.rs`; the audit page is built by [`crate::storage::audit`].

use async_trait::async_trait;
use tokio_postgres::types::ToSql;

use super::{db_err, PgStore};
use crate::storage::audit::{audit_page_sql, finish_audit_page, raw_entry};
use crate::storage::office::SqlArg;
use crate::storage::{
    from_ms, to_ms, AdminEvent, AuditPage, AuditQuery, AuditStore, CatalogVersionRow, StoreError,
};

#[async_trait]
impl AuditStore for PgStore {
    async fn append_admin_event(&self, e: &AdminEvent) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO admin_events (at, actor, authority_id, action, target, detail)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &to_ms(e.at),
                    &e.actor,
                    &e.authority_id.as_ref().map(|a| a.as_str()),
                    &e.action.as_str(),
                    &e.target,
                    &e.detail,
                ],
            )
            .await
            .map(drop)
            .map_err(db_err)
    }

    async fn audit_page(&self, q: &AuditQuery) -> Result<AuditPage, StoreError> {
        let built = audit_page_sql(q, |n| format!("${n}"));
        let owned: Vec<Box<dyn ToSql + Sync + Send>> = built
            .args
            .iter()
            .map(|a| -> Box<dyn ToSql + Sync + Send> {
                match a {
                    SqlArg::Text(t) => Box::new(t.clone()),
                    SqlArg::Int(i) => Box::new(*i),
                }
            })
            .collect();
        let refs: Vec<&(dyn ToSql + Sync)> = owned
            .iter()
            .map(|p| -> &(dyn ToSql + Sync) { p.as_ref() })
            .collect();
        let client = self.client().await?;
        let rows = client.query(&built.sql, &refs).await.map_err(db_err)?;
        let entries = rows
            .iter()
            .map(|r| {
                raw_entry((
                    r.try_get(0).map_err(db_err)?,
                    r.try_get(1).map_err(db_err)?,
                    r.try_get(2).map_err(db_err)?,
                    r.try_get(3).map_err(db_err)?,
                    r.try_get(4).map_err(db_err)?,
                    r.try_get(5).map_err(db_err)?,
                    r.try_get(6).map_err(db_err)?,
                ))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(finish_audit_page(entries, q.limit))
    }

    async fn catalog_versions(&self) -> Result<Vec<CatalogVersionRow>, StoreError> {
        let client = self.client().await?;
        client
            .query(
                "SELECT version, etag, published_at, current FROM catalogs
                 ORDER BY published_at DESC, version DESC",
                &[],
            )
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| {
                Ok(CatalogVersionRow {
                    version: r.try_get(0).map_err(db_err)?,
                    etag: r.try_get(1).map_err(db_err)?,
                    published_at: from_ms(r.try_get(2).map_err(db_err)?)?,
                    current: r.try_get(3).map_err(db_err)?,
                })
            })
            .collect()
    }
}
