//! Authorities and keys, once for both databases: the authorities a backend serves with
//! their HPKE keys (rotation retires, never deletes), and the server signing keys
//! (rotation announced to every kit, signed later by the key it replaces).

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sync_protocol::api::ChangeKind;
use sync_protocol::ids::AuthorityId;

use super::catalogs::add_change;
use super::rows::{self, AUTHORITY_KEY_COLUMNS};
use super::sql::{col, exists, lock_row, write_tx, Tx};
use super::{
    authority_kind_name, from_ms, to_32, to_ms, AuthorityKeyRow, AuthorityRow, NewAuthority,
    StoreError,
};
use crate::keys::{SealedAuthorityKey, SealedServerKey};

/// Fails with [`StoreError::NotFound`] unless the backend serves `authority` (for
/// what must belong to one: a kit, a user).
pub(crate) async fn require_authority(
    tx: &mut Tx<'_>,
    authority: &AuthorityId,
) -> Result<(), StoreError> {
    let found = sqlx::query("SELECT 1 FROM authorities WHERE id = $1")
        .bind(authority.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::NotFound(format!("authority {authority}"))),
    }
}

async fn insert_authority_key(
    tx: &mut Tx<'_>,
    authority: &AuthorityId,
    key: &SealedAuthorityKey,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO authority_keys (key_id, authority_id, public_key, sealed_secret, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(key.key_id.clone())
    .bind(authority.to_string())
    .bind(key.public_key.to_vec())
    .bind(key.sealed_secret.clone())
    .bind(to_ms(key.created_at))
    .execute(&mut **tx)
    .await
    .map_err(exists(format!("authority key {}", key.key_id)))?;
    Ok(())
}

impl super::Store {
    /// Adds an authority with its first HPKE key. [`StoreError::AlreadyExists`] for a
    /// known id or key.
    pub async fn add_authority(
        &self,
        authority: &NewAuthority,
        key: &SealedAuthorityKey,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        write_tx!(self.db, async |tx| {
            let inserted = sqlx::query(
                "INSERT INTO authorities (id, name, ars, kind, created_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(authority.id.to_string())
            .bind(authority.name.clone())
            .bind(authority.ars.as_ref().map(ToString::to_string))
            .bind(authority_kind_name(authority.kind))
            .bind(to_ms(at))
            .execute(&mut **tx)
            .await?;
            if inserted.rows_affected() == 0 {
                return Err(StoreError::AlreadyExists(format!(
                    "authority {}",
                    authority.id
                )));
            }
            insert_authority_key(tx, &authority.id, key).await
        })
    }

    /// Every authority, by id.
    pub async fn authorities(&self) -> Result<Vec<AuthorityRow>, StoreError> {
        sqlx::query("SELECT id, name, ars, kind, created_at FROM authorities ORDER BY id")
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(rows::authority_row)
            .collect()
    }

    /// An authority's keys, the current one first, then the retired ones, newest first.
    pub async fn authority_keys(
        &self,
        authority: &AuthorityId,
    ) -> Result<Vec<AuthorityKeyRow>, StoreError> {
        let sql = format!(
            "SELECT {AUTHORITY_KEY_COLUMNS} FROM authority_keys WHERE authority_id = $1
             ORDER BY (retired_at IS NULL) DESC, retired_at DESC, created_at DESC"
        );
        // Built from constants only.
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(authority.to_string())
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(rows::authority_key)
            .collect()
    }

    /// Retires the authority's current key and makes `key` current.
    /// [`StoreError::NotFound`] for an unknown authority.
    pub async fn rotate_authority_key(
        &self,
        authority: &AuthorityId,
        key: &SealedAuthorityKey,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        write_tx!(self.db, async |tx| {
            let select = "SELECT 1 FROM authorities WHERE id = $1";
            let locked = lock_row(tx, self.db.dialect, select, authority.to_string()).await?;
            if locked.is_none() {
                return Err(StoreError::NotFound(format!("authority {authority}")));
            }
            sqlx::query(
                "UPDATE authority_keys SET retired_at = $1
                 WHERE authority_id = $2 AND retired_at IS NULL",
            )
            .bind(to_ms(at))
            .bind(authority.to_string())
            .execute(&mut **tx)
            .await?;
            insert_authority_key(tx, authority, key).await
        })
    }

    /// The current server key; `candidate` becomes it if there is none yet (the first
    /// start, or two processes starting at once: one wins, both answer the same key).
    pub async fn ensure_server_key(
        &self,
        candidate: &SealedServerKey,
    ) -> Result<SealedServerKey, StoreError> {
        sqlx::query(
            "INSERT INTO server_keys (key_id, public_key, sealed_secret, created_at, current)
             VALUES ($1, $2, $3, $4, TRUE) ON CONFLICT DO NOTHING",
        )
        .bind(candidate.key_id.clone())
        .bind(candidate.public_key.to_vec())
        .bind(candidate.sealed_secret.clone())
        .bind(to_ms(candidate.created_at))
        .execute(&self.db.pool)
        .await?;
        let r = sqlx::query(
            "SELECT key_id, public_key, sealed_secret, created_at FROM server_keys WHERE current",
        )
        .fetch_one(&self.db.pool)
        .await?;
        server_key(&r)
    }

    /// Every server signing key ever used, the current one first.
    pub async fn server_keys(&self) -> Result<Vec<SealedServerKey>, StoreError> {
        sqlx::query(
            "SELECT key_id, public_key, sealed_secret, created_at FROM server_keys
             ORDER BY current DESC, created_at DESC, key_id",
        )
        .fetch_all(&self.db.pool)
        .await?
        .iter()
        .map(server_key)
        .collect()
    }

    /// Makes `new` the current server key and announces it to every kit (signed later by
    /// the key it replaces); the replaced key's id. [`StoreError::NotFound`] without a
    /// current key.
    pub async fn rotate_server_key(
        &self,
        new: &SealedServerKey,
        overlap_until: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let dialect = self.db.dialect;
        write_tx!(self.db, async |tx| {
            let sql = format!(
                "SELECT key_id FROM server_keys WHERE current{}",
                dialect.for_update()
            );
            // Built from constants only.
            let replaces: String = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_optional(&mut **tx)
                .await?
                .map(|r| col(&r, 0))
                .transpose()?
                .ok_or_else(|| StoreError::NotFound("current server key".into()))?;
            sqlx::query("UPDATE server_keys SET current = FALSE WHERE current")
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                "INSERT INTO server_keys (key_id, public_key, sealed_secret, created_at, current)
                 VALUES ($1, $2, $3, $4, TRUE)",
            )
            .bind(new.key_id.clone())
            .bind(new.public_key.to_vec())
            .bind(new.sealed_secret.clone())
            .bind(to_ms(new.created_at))
            .execute(&mut **tx)
            .await?;
            let change = ChangeKind::ServerKey {
                key: new.published(),
                replaces: replaces.clone(),
                overlap_until,
            };
            add_change(tx, dialect, None, &change, to_ms(at)).await?;
            Ok(replaces)
        })
    }
}

fn server_key(r: &AnyRow) -> Result<SealedServerKey, StoreError> {
    Ok(SealedServerKey {
        key_id: col(r, 0)?,
        public_key: to_32(&col::<Vec<u8>>(r, 1)?)?,
        sealed_secret: col(r, 2)?,
        created_at: from_ms(col(r, 3)?)?,
    })
}
