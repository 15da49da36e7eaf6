//! The audit trail as the back office reads it, and the admin events it writes.
//!
//! Three append-only tables make up an authority's trail: `case_events` (workflow
//! transitions), `decryption_log` (every opened case) and `admin_events` (kits, users,
//! keys and catalogs changed through the back office or the admin CLI). All three
//! refuse UPDATE and DELETE in both databases. [`audit_page_sql`] reads them as one
//! list, newest first, keyset-paginated by `(at, source, id)`; it is built once here
//! for both SQL dialects, so SQLite and PostgreSQL cannot filter or page differently.

use super::sql::{col, placeholder, Built, SqlArg};
use super::{from_ms, to_ms, to_u64};
use super::{AuditCursor, AuditEntry, AuditPage, AuditQuery, AuditSource, StoreError};

/// A row as [`audit_page_sql`] selects it (source, id, at, actor, subject, action,
/// detail) as an entry.
pub(crate) fn raw_entry(r: &sqlx::any::AnyRow) -> Result<AuditEntry, StoreError> {
    let (source, id, at, actor): (String, i64, i64, String) =
        (col(r, 0)?, col(r, 1)?, col(r, 2)?, col(r, 3)?);
    let (subject, action, detail): (String, String, Option<String>) =
        (col(r, 4)?, col(r, 5)?, col(r, 6)?);
    Ok(AuditEntry {
        source: AuditSource::parse(&source)
            .ok_or_else(|| StoreError::Corrupt(format!("audit source {source:?}")))?,
        id: to_u64(id)?,
        at: from_ms(at)?,
        actor,
        subject,
        action,
        detail,
    })
}

/// The page statement: one `UNION ALL` branch per wanted trail, each filtered by the
/// authority, person and time range (so each can use its index), then the keyset
/// condition and `limit + 1` rows, newest first.
pub(crate) fn audit_page_sql(q: &AuditQuery) -> Built {
    let mut args = Vec::new();
    let arg = |args: &mut Vec<SqlArg>, a: SqlArg| {
        args.push(a);
        placeholder(args.len())
    };
    let mut branches = Vec::new();
    for &source in AuditSource::ALL {
        if !q.sources.is_empty() && !q.sources.contains(&source) {
            continue;
        }
        let authority = arg(&mut args, SqlArg::Text(q.authority_id.to_string()));
        let (select, alias, mut clause) = match source {
            AuditSource::Admin => (
                "SELECT 'admin' AS src, a.id AS id, a.at AS at, a.actor AS actor, \
                 a.target AS subject, a.action AS action, a.detail AS detail FROM admin_events a",
                "a",
                format!("(a.authority_id = {authority} OR a.authority_id IS NULL)"),
            ),
            AuditSource::Case => (
                "SELECT 'case' AS src, e.id AS id, e.at AS at, e.actor AS actor, \
                 e.record_id AS subject, e.status AS action, e.comment AS detail \
                 FROM case_events e JOIN cases c ON c.record_id = e.record_id",
                "e",
                format!("c.authority_id = {authority}"),
            ),
            AuditSource::Decryption => (
                "SELECT 'decryption' AS src, d.id AS id, d.at AS at, d.actor AS actor, \
                 d.record_id AS subject, d.purpose AS action, CAST(NULL AS TEXT) AS detail \
                 FROM decryption_log d",
                "d",
                format!("d.authority_id = {authority}"),
            ),
        };
        if let Some(actor) = &q.actor {
            let p = arg(&mut args, SqlArg::Text(actor.clone()));
            clause.push_str(&format!(" AND {alias}.actor = {p}"));
        }
        if let Some(from) = q.from {
            let p = arg(&mut args, SqlArg::Int(to_ms(from)));
            clause.push_str(&format!(" AND {alias}.at >= {p}"));
        }
        if let Some(before) = q.before {
            let p = arg(&mut args, SqlArg::Int(to_ms(before)));
            clause.push_str(&format!(" AND {alias}.at < {p}"));
        }
        branches.push(format!("{select} WHERE {clause}"));
    }
    let mut outer = String::new();
    if let Some(after) = &q.after {
        let at = arg(&mut args, SqlArg::Int(to_ms(after.at)));
        let src = arg(&mut args, SqlArg::Text(after.source.as_str().to_owned()));
        let id = arg(
            &mut args,
            SqlArg::Int(i64::try_from(after.id).unwrap_or(i64::MAX)),
        );
        outer = format!(" WHERE (t.at, t.src, t.id) < ({at}, {src}, {id})");
    }
    let limit = arg(&mut args, SqlArg::Int(i64::from(q.limit) + 1));
    Built {
        sql: format!(
            "SELECT t.src, t.id, t.at, t.actor, t.subject, t.action, t.detail FROM ({}) t{outer} \
             ORDER BY t.at DESC, t.src DESC, t.id DESC LIMIT {limit}",
            branches.join(" UNION ALL ")
        ),
        args,
    }
}

/// Turns `limit + 1` fetched entries into a page and its continuation.
pub(crate) fn finish_audit_page(mut entries: Vec<AuditEntry>, limit: u32) -> AuditPage {
    let limit = limit as usize;
    if entries.len() <= limit {
        return AuditPage {
            entries,
            next: None,
        };
    }
    entries.truncate(limit);
    let next = entries.last().map(|e| AuditCursor {
        at: e.at,
        source: e.source,
        id: e.id,
    });
    AuditPage { entries, next }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_protocol::ids::AuthorityId;

    #[test]
    fn only_the_wanted_trails_are_queried() {
        let q = AuditQuery {
            authority_id: AuthorityId::parse("gemeinde-musterstadt").expect("id"),
            sources: vec![AuditSource::Admin],
            actor: Some("x".into()),
            from: None,
            before: None,
            after: None,
            limit: 10,
        };
        let built = audit_page_sql(&q);
        assert!(built.sql.contains("admin_events"));
        assert!(!built.sql.contains("decryption_log"));
        assert!(!built.sql.contains("case_events"));
        assert_eq!(built.args.len(), 3);
    }
}

/// The audit trail's operations.
mod ops {
    use super::super::sql::{bind_all, col, col_bool};
    use super::{audit_page_sql, finish_audit_page, raw_entry, AuditPage, AuditQuery};
    use crate::storage::{from_ms, to_ms, AdminEvent, CatalogVersionRow, Store, StoreError};

    impl Store {
        /// Appends one admin event.
        pub async fn append_admin_event(&self, e: &AdminEvent) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO admin_events (at, actor, authority_id, action, target, detail)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(to_ms(e.at))
            .bind(e.actor.clone())
            .bind(e.authority_id.as_ref().map(ToString::to_string))
            .bind(e.action.as_str())
            .bind(e.target.clone())
            .bind(e.detail.clone())
            .execute(&self.db.pool)
            .await?;
            Ok(())
        }

        /// One page of the audit viewer.
        pub async fn audit_page(&self, q: &AuditQuery) -> Result<AuditPage, StoreError> {
            let built = audit_page_sql(q);
            // The statement is assembled from constant fragments; every value is bound.
            let rows = bind_all(
                sqlx::query(sqlx::AssertSqlSafe(built.sql.clone())),
                &built.args,
            )
            .fetch_all(&self.db.pool)
            .await?;
            let entries = rows.iter().map(raw_entry).collect::<Result<Vec<_>, _>>()?;
            Ok(finish_audit_page(entries, q.limit))
        }

        /// Every published catalog version, newest first.
        pub async fn catalog_versions(&self) -> Result<Vec<CatalogVersionRow>, StoreError> {
            sqlx::query(
                "SELECT version, etag, published_at, CAST(current AS INTEGER) FROM catalogs
                 ORDER BY published_at DESC, version DESC",
            )
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(CatalogVersionRow {
                    version: col(r, 0)?,
                    etag: col(r, 1)?,
                    published_at: from_ms(col(r, 2)?)?,
                    current: col_bool(r, 3)?,
                })
            })
            .collect()
        }
    }
}
