//! PostgreSQL: what the admin commands change — authorities and their keys, the server
//! key, users, kit provisioning and revocation, catalog publication. The same
//! statements as `sqlite/admin.rs` in PostgreSQL's dialect.

use chrono::{DateTime, Utc};
use sync_protocol::api::ChangeKind;
use sync_protocol::ids::{AuthorityId, KitId};
use tokio_postgres::{GenericClient, Row};

use super::{db_err, is_unique_violation};
use crate::keys::{SealedAuthorityKey, SealedServerKey};
use crate::storage::rows::{self, authority_row, RawKit, AUTHORITY_KEY_COLUMNS, KIT_COLUMNS};
use crate::storage::{
    authority_kind_name, from_ms, json_text, to_32, to_ms, AuthorityKeyRow, AuthorityRow, KitRow,
    KitStatus, NewAuthority, NewKit, PublishOutcome, PublishedCatalog, StoreError,
};

async fn authority_exists<C: GenericClient + Sync>(
    c: &C,
    id: &AuthorityId,
) -> Result<bool, StoreError> {
    c.query_opt("SELECT 1 FROM authorities WHERE id = $1", &[&id.as_str()])
        .await
        .map(|r| r.is_some())
        .map_err(db_err)
}

pub async fn add_authority<C: GenericClient + Sync>(
    c: &C,
    a: &NewAuthority,
    key: &SealedAuthorityKey,
    at: i64,
) -> Result<(), StoreError> {
    let n = c
        .execute(
            "INSERT INTO authorities (id, name, ars, kind, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO NOTHING",
            &[
                &a.id.as_str(),
                &a.name,
                &a.ars.as_ref().map(|x| x.as_str()),
                &authority_kind_name(a.kind),
                &at,
            ],
        )
        .await
        .map_err(db_err)?;
    if n == 0 {
        return Err(StoreError::AlreadyExists(format!("authority {}", a.id)));
    }
    insert_authority_key(c, &a.id, key).await
}

async fn insert_authority_key<C: GenericClient + Sync>(
    c: &C,
    authority: &AuthorityId,
    key: &SealedAuthorityKey,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO authority_keys (key_id, authority_id, public_key, sealed_secret, created_at)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &key.key_id,
            &authority.as_str(),
            &key.public_key.as_slice(),
            &key.sealed_secret,
            &to_ms(key.created_at),
        ],
    )
    .await
    .map(drop)
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::AlreadyExists(format!("authority key {}", key.key_id))
        } else {
            db_err(e)
        }
    })
}

pub async fn authorities<C: GenericClient + Sync>(c: &C) -> Result<Vec<AuthorityRow>, StoreError> {
    c.query(
        "SELECT id, name, ars, kind, created_at FROM authorities ORDER BY id",
        &[],
    )
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| {
        authority_row(
            r.try_get(0).map_err(db_err)?,
            r.try_get(1).map_err(db_err)?,
            r.try_get(2).map_err(db_err)?,
            r.try_get(3).map_err(db_err)?,
            r.try_get(4).map_err(db_err)?,
        )
    })
    .collect()
}

pub async fn authority_keys<C: GenericClient + Sync>(
    c: &C,
    authority: &AuthorityId,
) -> Result<Vec<AuthorityKeyRow>, StoreError> {
    c.query(
        &format!(
            "SELECT {AUTHORITY_KEY_COLUMNS} FROM authority_keys WHERE authority_id = $1
             ORDER BY (retired_at IS NULL) DESC, retired_at DESC, created_at DESC"
        ),
        &[&authority.as_str()],
    )
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| {
        rows::authority_key(
            r.try_get(0).map_err(db_err)?,
            r.try_get(1).map_err(db_err)?,
            r.try_get(2).map_err(db_err)?,
            r.try_get(3).map_err(db_err)?,
            r.try_get(4).map_err(db_err)?,
            r.try_get(5).map_err(db_err)?,
        )
    })
    .collect()
}

pub async fn rotate_authority_key<C: GenericClient + Sync>(
    c: &C,
    authority: &AuthorityId,
    key: &SealedAuthorityKey,
    at: i64,
) -> Result<(), StoreError> {
    let locked = c
        .query_opt(
            "SELECT 1 FROM authorities WHERE id = $1 FOR UPDATE",
            &[&authority.as_str()],
        )
        .await
        .map_err(db_err)?;
    if locked.is_none() {
        return Err(StoreError::NotFound(format!("authority {authority}")));
    }
    c.execute(
        "UPDATE authority_keys SET retired_at = $1 WHERE authority_id = $2 AND retired_at IS NULL",
        &[&at, &authority.as_str()],
    )
    .await
    .map_err(db_err)?;
    insert_authority_key(c, authority, key).await
}

pub async fn ensure_server_key<C: GenericClient + Sync>(
    c: &C,
    candidate: &SealedServerKey,
) -> Result<SealedServerKey, StoreError> {
    c.execute(
        "INSERT INTO server_keys (key_id, public_key, sealed_secret, created_at, current)
         VALUES ($1, $2, $3, $4, TRUE) ON CONFLICT DO NOTHING",
        &[
            &candidate.key_id,
            &candidate.public_key.as_slice(),
            &candidate.sealed_secret,
            &to_ms(candidate.created_at),
        ],
    )
    .await
    .map_err(db_err)?;
    let r = c
        .query_one(
            "SELECT key_id, public_key, sealed_secret, created_at FROM server_keys WHERE current",
            &[],
        )
        .await
        .map_err(db_err)?;
    Ok(SealedServerKey {
        key_id: r.try_get(0).map_err(db_err)?,
        public_key: to_32(r.try_get(1).map_err(db_err)?)?,
        sealed_secret: r.try_get(2).map_err(db_err)?,
        created_at: from_ms(r.try_get(3).map_err(db_err)?)?,
    })
}

/// Every server signing key ever used, the current one first.
pub async fn server_keys<C: GenericClient + Sync>(
    c: &C,
) -> Result<Vec<SealedServerKey>, StoreError> {
    let rows = c
        .query(
            "SELECT key_id, public_key, sealed_secret, created_at FROM server_keys
             ORDER BY current DESC, created_at DESC, key_id",
            &[],
        )
        .await
        .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(SealedServerKey {
                key_id: r.try_get(0).map_err(db_err)?,
                public_key: to_32(r.try_get(1).map_err(db_err)?)?,
                sealed_secret: r.try_get(2).map_err(db_err)?,
                created_at: from_ms(r.try_get(3).map_err(db_err)?)?,
            })
        })
        .collect()
}

/// Makes `new` the current server key and announces it to every kit, signed later by
/// the key it replaces; returns that key's id. Run inside a transaction.
pub async fn rotate_server_key<C: GenericClient + Sync>(
    c: &C,
    new: &SealedServerKey,
    overlap_until: DateTime<Utc>,
    at: i64,
) -> Result<String, StoreError> {
    let replaces: String = c
        .query_opt(
            "SELECT key_id FROM server_keys WHERE current FOR UPDATE",
            &[],
        )
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound("current server key".into()))?
        .try_get(0)
        .map_err(db_err)?;
    c.execute("UPDATE server_keys SET current = FALSE WHERE current", &[])
        .await
        .map_err(db_err)?;
    c.execute(
        "INSERT INTO server_keys (key_id, public_key, sealed_secret, created_at, current)
         VALUES ($1, $2, $3, $4, TRUE)",
        &[
            &new.key_id,
            &new.public_key.as_slice(),
            &new.sealed_secret,
            &to_ms(new.created_at),
        ],
    )
    .await
    .map_err(db_err)?;
    let change = ChangeKind::ServerKey {
        key: new.published(),
        replaces: replaces.clone(),
        overlap_until,
    };
    add_change(c, None, &change, at).await?;
    Ok(replaces)
}

pub async fn provision_kit<C: GenericClient + Sync>(c: &C, k: &NewKit) -> Result<(), StoreError> {
    if !authority_exists(c, &k.authority_id).await? {
        return Err(StoreError::NotFound(format!(
            "authority {}",
            k.authority_id
        )));
    }
    c.execute(
        "INSERT INTO kits (kit_id, authority_id, name, status, code_hash, code_expires_at, created_at)
         VALUES ($1, $2, $3, 'provisioned', $4, $5, $6)",
        &[
            &k.kit_id.to_string(),
            &k.authority_id.as_str(),
            &k.name,
            &k.code_hash.as_slice(),
            &to_ms(k.code_expires_at),
            &to_ms(k.created_at),
        ],
    )
    .await
    .map(drop)
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::AlreadyExists(format!("kit {}", k.kit_id))
        } else {
            db_err(e)
        }
    })
}

pub(crate) fn raw_kit(r: &Row) -> Result<RawKit, StoreError> {
    let get = |i: usize| r.try_get::<_, Option<i64>>(i).map_err(db_err);
    Ok(RawKit {
        kit_id: r.try_get(0).map_err(db_err)?,
        authority_id: r.try_get(1).map_err(db_err)?,
        name: r.try_get(2).map_err(db_err)?,
        reported_name: r.try_get(3).map_err(db_err)?,
        public_key: r.try_get(4).map_err(db_err)?,
        status: r.try_get(5).map_err(db_err)?,
        revoked_reason: r.try_get(6).map_err(db_err)?,
        created_at: r.try_get(7).map_err(db_err)?,
        code_expires_at: r.try_get(8).map_err(db_err)?,
        enrolled_at: get(9)?,
        last_seen_at: get(10)?,
        head_seq: get(11)?,
        head_hash: r.try_get(12).map_err(db_err)?,
    })
}

pub async fn kit<C: GenericClient + Sync>(
    c: &C,
    kit_id: &KitId,
    for_update: bool,
) -> Result<Option<KitRow>, StoreError> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    c.query_opt(
        &format!("SELECT {KIT_COLUMNS} FROM kits WHERE kit_id = $1{lock}"),
        &[&kit_id.to_string()],
    )
    .await
    .map_err(db_err)?
    .map(|r| raw_kit(&r).and_then(RawKit::into_row))
    .transpose()
}

pub(crate) async fn add_change<C: GenericClient + Sync>(
    c: &C,
    kit_id: Option<&KitId>,
    change: &ChangeKind,
    at: i64,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO changes (cursor, kit_id, at, change)
         VALUES (nextval('change_cursor_seq'), $1, $2, $3)",
        &[&kit_id.map(ToString::to_string), &at, &json_text(change)],
    )
    .await
    .map(drop)
    .map_err(db_err)
}

pub async fn revoke_kit<C: GenericClient + Sync>(
    c: &C,
    kit_id: &KitId,
    reason: &str,
    at: i64,
) -> Result<bool, StoreError> {
    let Some(row) = kit(c, kit_id, true).await? else {
        return Ok(false);
    };
    if row.status != KitStatus::Revoked {
        c.execute(
            "UPDATE kits SET status = 'revoked', revoked_reason = $1 WHERE kit_id = $2",
            &[&reason, &kit_id.to_string()],
        )
        .await
        .map_err(db_err)?;
        let wipe = ChangeKind::Wipe {
            reason: reason.to_owned(),
        };
        add_change(c, Some(kit_id), &wipe, at).await?;
    }
    Ok(true)
}

pub async fn clear_quarantine<C: GenericClient + Sync>(
    c: &C,
    kit_id: &KitId,
) -> Result<bool, StoreError> {
    c.execute(
        "UPDATE kits SET status = 'active' WHERE kit_id = $1 AND status = 'quarantined'",
        &[&kit_id.to_string()],
    )
    .await
    .map(|n| n > 0)
    .map_err(db_err)
}

pub async fn publish_catalog<C: GenericClient + Sync>(
    c: &C,
    p: &PublishedCatalog,
) -> Result<PublishOutcome, StoreError> {
    c.execute("LOCK TABLE catalogs IN EXCLUSIVE MODE", &[])
        .await
        .map_err(db_err)?;
    let existing = c
        .query_opt(
            "SELECT envelope, current FROM catalogs WHERE version = $1",
            &[&p.version],
        )
        .await
        .map_err(db_err)?;
    if let Some(r) = existing {
        let envelope: Vec<u8> = r.try_get(0).map_err(db_err)?;
        let current: bool = r.try_get(1).map_err(db_err)?;
        return if envelope == p.envelope_json && current {
            Ok(PublishOutcome::Unchanged)
        } else {
            Err(StoreError::Conflict(format!(
                "catalog version {} was published before with other content; raise the \
                 version in catalog.json",
                p.version
            )))
        };
    }
    c.execute("UPDATE catalogs SET current = FALSE WHERE current", &[])
        .await
        .map_err(db_err)?;
    c.execute(
        "INSERT INTO catalogs (version, envelope, etag, published_at, current)
         VALUES ($1, $2, $3, $4, TRUE)",
        &[
            &p.version,
            &p.envelope_json,
            &p.etag,
            &to_ms(p.published_at),
        ],
    )
    .await
    .map_err(db_err)?;
    let change = ChangeKind::Catalog {
        version: p.version.clone(),
    };
    add_change(c, None, &change, to_ms(p.published_at)).await?;
    Ok(PublishOutcome::Published)
}

pub async fn current_catalog<C: GenericClient + Sync>(
    c: &C,
) -> Result<Option<PublishedCatalog>, StoreError> {
    c.query_opt(
        "SELECT version, envelope, etag, published_at FROM catalogs WHERE current",
        &[],
    )
    .await
    .map_err(db_err)?
    .map(|r| {
        Ok(PublishedCatalog {
            version: r.try_get(0).map_err(db_err)?,
            envelope_json: r.try_get(1).map_err(db_err)?,
            etag: r.try_get(2).map_err(db_err)?,
            published_at: from_ms(r.try_get(3).map_err(db_err)?)?,
        })
    })
    .transpose()
}

pub async fn current_catalog_version<C: GenericClient + Sync>(
    c: &C,
) -> Result<Option<String>, StoreError> {
    c.query_opt("SELECT version FROM catalogs WHERE current", &[])
        .await
        .map_err(db_err)?
        .map(|r| r.try_get(0).map_err(db_err))
        .transpose()
}
