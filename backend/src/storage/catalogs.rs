//! Published catalogs and the changes feed, once for both databases: a catalog version
//! as published, and one change for one kit (or for every kit) under the next cursor.
//! (Issue 15: publishing and reading the feed move here with the kit API's operations.)

use sync_protocol::api::{Change, ChangeKind};
use sync_protocol::ids::KitId;

use super::sql::{col, db_err, next_counter, Counter, Db, Dialect, Tx};
use super::{from_ms, json_text, rows, to_i64, PublishedCatalog, StoreError};

/// Appends `change` for `kit_id` (every kit when `None`) inside `tx`.
///
/// # Errors
/// Storage errors.
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
        .await
        .map(drop)
        .map_err(db_err)
}

/// A published catalog version.
///
/// # Errors
/// Storage errors.
pub async fn catalog(db: &Db, version: &str) -> Result<Option<PublishedCatalog>, StoreError> {
    let Some(r) =
        sqlx::query("SELECT envelope, etag, published_at FROM catalogs WHERE version = $1")
            .bind(version.to_owned())
            .fetch_optional(&db.pool)
            .await
            .map_err(db_err)?
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
///
/// # Errors
/// Storage errors.
pub async fn changes(
    db: &Db,
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
    .fetch_all(&db.pool)
    .await
    .map_err(db_err)?;
    let more = found.len() > limit as usize;
    found
        .iter()
        .take(limit as usize)
        .map(|r| rows::change(col(r, 0)?, col(r, 1)?, &col::<String>(r, 2)?))
        .collect::<Result<Vec<_>, _>>()
        .map(|changes| (changes, more))
}

/// The current catalog.
///
/// # Errors
/// Storage errors.
pub async fn current_catalog(db: &Db) -> Result<Option<PublishedCatalog>, StoreError> {
    sqlx::query("SELECT version, envelope, etag, published_at FROM catalogs WHERE current")
        .fetch_optional(&db.pool)
        .await
        .map_err(db_err)?
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
///
/// # Errors
/// Storage errors.
pub async fn current_catalog_version(db: &Db) -> Result<Option<String>, StoreError> {
    sqlx::query("SELECT version FROM catalogs WHERE current")
        .fetch_optional(&db.pool)
        .await
        .map_err(db_err)?
        .map(|r| col(&r, 0))
        .transpose()
}
