//! Published catalogs and the changes feed, once for both databases: a catalog version
//! as published, and one change for one kit (or for every kit) under the next cursor.
//! (Issue 15: publishing and reading the feed move here with the kit API's operations.)

use chrono::{DateTime, Utc};
use sync_protocol::api::{Change, ChangeKind};
use sync_protocol::ids::KitId;

use super::sql::{col, col_bool, next_counter, write_tx, Counter, Dialect, Tx};
use super::{
    from_ms, json_text, rows, to_i64, to_ms, PublishOutcome, PublishedCatalog, StoreError,
};

/// Appends `change` for `kit_id` (every kit when `None`) inside `tx`.
pub async fn add_change(
    tx: &mut Tx<'_>,
    dialect: Dialect,
    kit_id: Option<&KitId>,
    change: &ChangeKind,
    at: i64,
) -> Result<(), StoreError> {
    let cursor = next_counter(tx, dialect, Counter::ChangeCursor).await?;
    sqlx::query("INSERT INTO changes (cursor, kit_id, at, change) VALUES ($1, $2, $3, $4)")
        .bind(to_i64(cursor)?)
        .bind(kit_id.map(ToString::to_string))
        .bind(at)
        .bind(json_text(change))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl super::Store {
    /// Appends a change for every kit (a catalog notice, a TLS pin announcement).
    pub async fn announce_change(
        &self,
        change: &ChangeKind,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        write_tx!(self.db, async |tx| {
            add_change(tx, self.db.dialect, None, change, to_ms(at)).await
        })
    }

    /// Publishes a catalog as the current version and announces it in every kit's feed; the
    /// same content again is [`PublishOutcome::Unchanged`], other content under a version
    /// published before is refused ([`StoreError::Conflict`]).
    pub async fn publish_catalog(
        &self,
        catalog: &PublishedCatalog,
    ) -> Result<PublishOutcome, StoreError> {
        let dialect = self.db.dialect;
        write_tx!(self.db, async |tx| {
            if let Some(lock) = dialect.lock_catalogs() {
                sqlx::query(lock).execute(&mut **tx).await?;
            }
            let existing = sqlx::query(
                "SELECT envelope, CAST(current AS INTEGER) FROM catalogs WHERE version = $1",
            )
            .bind(catalog.version.clone())
            .fetch_optional(&mut **tx)
            .await?;
            if let Some(r) = existing {
                let envelope: Vec<u8> = col(&r, 0)?;
                return if envelope == catalog.envelope_json && col_bool(&r, 1)? {
                    Ok(PublishOutcome::Unchanged)
                } else {
                    Err(StoreError::Conflict(format!(
                        "catalog version {} was published before with other content; raise the \
                         version in catalog.json",
                        catalog.version
                    )))
                };
            }
            sqlx::query("UPDATE catalogs SET current = FALSE WHERE current")
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                "INSERT INTO catalogs (version, envelope, etag, published_at, current)
                 VALUES ($1, $2, $3, $4, TRUE)",
            )
            .bind(catalog.version.clone())
            .bind(catalog.envelope_json.clone())
            .bind(catalog.etag.clone())
            .bind(to_ms(catalog.published_at))
            .execute(&mut **tx)
            .await?;
            let change = ChangeKind::Catalog {
                version: catalog.version.clone(),
            };
            add_change(tx, dialect, None, &change, to_ms(catalog.published_at)).await?;
            Ok(PublishOutcome::Published)
        })
    }

    /// The current catalog.
    pub async fn current_catalog(&self) -> Result<Option<PublishedCatalog>, StoreError> {
        sqlx::query("SELECT version, envelope, etag, published_at FROM catalogs WHERE current")
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| {
                Ok(PublishedCatalog {
                    version: col(&r, 0)?,
                    envelope_json: col(&r, 1)?,
                    etag: col(&r, 2)?,
                    published_at: from_ms(col(&r, 3)?)?,
                })
            })
            .transpose()
    }

    /// The current catalog's version.
    pub async fn current_catalog_version(&self) -> Result<Option<String>, StoreError> {
        sqlx::query("SELECT version FROM catalogs WHERE current")
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| col(&r, 0))
            .transpose()
    }

    /// A published catalog version.
    pub async fn catalog(&self, version: &str) -> Result<Option<PublishedCatalog>, StoreError> {
        let Some(r) =
            sqlx::query("SELECT envelope, etag, published_at FROM catalogs WHERE version = $1")
                .bind(version.to_owned())
                .fetch_optional(&self.db.pool)
                .await?
        else {
            return Ok(None);
        };
        Ok(Some(PublishedCatalog {
            version: version.to_owned(),
            envelope_json: col(&r, 0)?,
            etag: col(&r, 1)?,
            published_at: from_ms(col(&r, 2)?)?,
        }))
    }

    /// A page of a kit's changes feed after `after`: at most `limit` changes, and whether
    /// more follow.
    pub async fn changes(
        &self,
        kit_id: &KitId,
        after: u64,
        limit: u32,
    ) -> Result<(Vec<Change>, bool), StoreError> {
        let found = sqlx::query(
            "SELECT cursor, at, change FROM changes
             WHERE (kit_id = $1 OR kit_id IS NULL) AND cursor > $2
             ORDER BY cursor LIMIT $3",
        )
        .bind(kit_id.to_string())
        .bind(to_i64(after)?)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.db.pool)
        .await?;
        let more = found.len() > limit as usize;
        found
            .iter()
            .take(limit as usize)
            .map(rows::change)
            .collect::<Result<Vec<_>, _>>()
            .map(|changes| (changes, more))
    }
}
