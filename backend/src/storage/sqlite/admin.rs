//! SQLite: what the admin commands change — authorities and their keys, the server
//! key, users, kit provisioning and revocation, catalog publication.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sync_protocol::api::ChangeKind;
use sync_protocol::ids::{AuthorityId, KitId};

use super::{db_err, is_unique_violation, next_counter};
use crate::keys::{SealedAuthorityKey, SealedServerKey};
use crate::storage::rows::{self, authority_row, RawKit, AUTHORITY_KEY_COLUMNS, KIT_COLUMNS};
use crate::storage::{
    authority_kind_name, from_ms, json_text, to_32, to_ms, AuthorityKeyRow, AuthorityRow, KitRow,
    NewAuthority, NewKit, PublishOutcome, PublishedCatalog, StoreError,
};

fn authority_exists(c: &Connection, id: &AuthorityId) -> Result<bool, StoreError> {
    c.query_row(
        "SELECT 1 FROM authorities WHERE id = ?1",
        [id.as_str()],
        |_| Ok(()),
    )
    .optional()
    .map(|o| o.is_some())
    .map_err(db_err)
}

pub fn add_authority(
    c: &mut Connection,
    a: &NewAuthority,
    key: &SealedAuthorityKey,
    at: i64,
) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    let n = tx
        .execute(
            "INSERT INTO authorities (id, name, ars, kind, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO NOTHING",
            params![
                a.id.as_str(),
                a.name,
                a.ars.as_ref().map(|x| x.as_str()),
                authority_kind_name(a.kind),
                at
            ],
        )
        .map_err(db_err)?;
    if n == 0 {
        return Err(StoreError::AlreadyExists(format!("authority {}", a.id)));
    }
    insert_authority_key(&tx, &a.id, key)?;
    tx.commit().map_err(db_err)
}

fn insert_authority_key(
    c: &Connection,
    authority: &AuthorityId,
    key: &SealedAuthorityKey,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO authority_keys (key_id, authority_id, public_key, sealed_secret, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            key.key_id,
            authority.as_str(),
            key.public_key.as_slice(),
            key.sealed_secret,
            to_ms(key.created_at)
        ],
    )
    .map(drop)
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::AlreadyExists(format!("authority key {}", key.key_id))
        } else {
            db_err(e)
        }
    })
}

pub fn authorities(c: &mut Connection) -> Result<Vec<AuthorityRow>, StoreError> {
    let mut stmt = c
        .prepare("SELECT id, name, ars, kind, created_at FROM authorities ORDER BY id")
        .map_err(db_err)?;
    let raw = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(db_err)?;
    raw.into_iter()
        .map(|(id, name, ars, kind, created_at)| authority_row(&id, name, ars, &kind, created_at))
        .collect()
}

pub fn authority_keys(
    c: &mut Connection,
    authority: &AuthorityId,
) -> Result<Vec<AuthorityKeyRow>, StoreError> {
    let mut stmt = c
        .prepare(&format!(
            "SELECT {AUTHORITY_KEY_COLUMNS} FROM authority_keys WHERE authority_id = ?1
             ORDER BY (retired_at IS NULL) DESC, retired_at DESC, created_at DESC"
        ))
        .map_err(db_err)?;
    let raw = stmt
        .query_map([authority.as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Vec<u8>>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Option<i64>>(5)?,
            ))
        })
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(db_err)?;
    raw.into_iter()
        .map(|(a, k, p, s, c, r)| rows::authority_key(&a, k, &p, s, c, r))
        .collect()
}

pub fn rotate_authority_key(
    c: &mut Connection,
    authority: &AuthorityId,
    key: &SealedAuthorityKey,
    at: i64,
) -> Result<(), StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    if !authority_exists(&tx, authority)? {
        return Err(StoreError::NotFound(format!("authority {authority}")));
    }
    tx.execute(
        "UPDATE authority_keys SET retired_at = ?1 WHERE authority_id = ?2 AND retired_at IS NULL",
        params![at, authority.as_str()],
    )
    .map_err(db_err)?;
    insert_authority_key(&tx, authority, key)?;
    tx.commit().map_err(db_err)
}

pub fn ensure_server_key(
    c: &mut Connection,
    candidate: &SealedServerKey,
) -> Result<SealedServerKey, StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    tx.execute(
        "INSERT INTO server_keys (key_id, public_key, sealed_secret, created_at, current)
         VALUES (?1, ?2, ?3, ?4, TRUE) ON CONFLICT DO NOTHING",
        params![
            candidate.key_id,
            candidate.public_key.as_slice(),
            candidate.sealed_secret,
            to_ms(candidate.created_at)
        ],
    )
    .map_err(db_err)?;
    let (key_id, public_key, sealed_secret, created_at) = tx
        .query_row(
            "SELECT key_id, public_key, sealed_secret, created_at FROM server_keys WHERE current",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            },
        )
        .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(SealedServerKey {
        key_id,
        public_key: to_32(&public_key)?,
        sealed_secret,
        created_at: from_ms(created_at)?,
    })
}

/// Every server signing key ever used, the current one first.
pub fn server_keys(c: &mut Connection) -> Result<Vec<SealedServerKey>, StoreError> {
    let mut stmt = c
        .prepare(
            "SELECT key_id, public_key, sealed_secret, created_at FROM server_keys
             ORDER BY current DESC, created_at DESC, key_id",
        )
        .map_err(db_err)?;
    let raw = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(db_err)?;
    raw.into_iter()
        .map(|(key_id, public_key, sealed_secret, created_at)| {
            Ok(SealedServerKey {
                key_id,
                public_key: to_32(&public_key)?,
                sealed_secret,
                created_at: from_ms(created_at)?,
            })
        })
        .collect()
}

/// Makes `new` the current server key and announces it to every kit, signed later by
/// the key it replaces; returns that key's id.
pub fn rotate_server_key(
    c: &mut Connection,
    new: &SealedServerKey,
    overlap_until: DateTime<Utc>,
    at: i64,
) -> Result<String, StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let replaces: String = tx
        .query_row("SELECT key_id FROM server_keys WHERE current", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound("current server key".into()))?;
    tx.execute("UPDATE server_keys SET current = FALSE WHERE current", [])
        .map_err(db_err)?;
    tx.execute(
        "INSERT INTO server_keys (key_id, public_key, sealed_secret, created_at, current)
         VALUES (?1, ?2, ?3, ?4, TRUE)",
        params![
            new.key_id,
            new.public_key.as_slice(),
            new.sealed_secret,
            to_ms(new.created_at)
        ],
    )
    .map_err(db_err)?;
    let change = ChangeKind::ServerKey {
        key: new.published(),
        replaces: replaces.clone(),
        overlap_until,
    };
    add_change(&tx, None, &change, at)?;
    tx.commit().map_err(db_err)?;
    Ok(replaces)
}

/// Appends a change to every kit's feed.
pub fn announce_change(c: &mut Connection, change: &ChangeKind, at: i64) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    add_change(&tx, None, change, at)?;
    tx.commit().map_err(db_err)
}

pub fn provision_kit(c: &mut Connection, k: &NewKit) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    if !authority_exists(&tx, &k.authority_id)? {
        return Err(StoreError::NotFound(format!(
            "authority {}",
            k.authority_id
        )));
    }
    tx.execute(
        "INSERT INTO kits (kit_id, authority_id, name, status, code_hash, code_expires_at, created_at)
         VALUES (?1, ?2, ?3, 'provisioned', ?4, ?5, ?6)",
        params![
            k.kit_id.to_string(),
            k.authority_id.as_str(),
            k.name,
            k.code_hash.as_slice(),
            to_ms(k.code_expires_at),
            to_ms(k.created_at)
        ],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::AlreadyExists(format!("kit {}", k.kit_id))
        } else {
            db_err(e)
        }
    })?;
    tx.commit().map_err(db_err)
}

pub(crate) fn raw_kit(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawKit> {
    Ok(RawKit {
        kit_id: r.get(0)?,
        authority_id: r.get(1)?,
        name: r.get(2)?,
        reported_name: r.get(3)?,
        public_key: r.get(4)?,
        status: r.get(5)?,
        revoked_reason: r.get(6)?,
        created_at: r.get(7)?,
        code_expires_at: r.get(8)?,
        enrolled_at: r.get(9)?,
        last_seen_at: r.get(10)?,
        head_seq: r.get(11)?,
        head_hash: r.get(12)?,
    })
}

pub fn kit(c: &Connection, kit_id: &KitId) -> Result<Option<KitRow>, StoreError> {
    c.prepare_cached(&format!("SELECT {KIT_COLUMNS} FROM kits WHERE kit_id = ?1"))
        .and_then(|mut s| s.query_row([kit_id.to_string()], raw_kit).optional())
        .map_err(db_err)?
        .map(RawKit::into_row)
        .transpose()
}

pub(crate) fn add_change(
    c: &Connection,
    kit_id: Option<&KitId>,
    change: &ChangeKind,
    at: i64,
) -> Result<(), StoreError> {
    let cursor = next_counter(c, "change_cursor")?;
    c.prepare_cached("INSERT INTO changes (cursor, kit_id, at, change) VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut s| {
            s.execute(params![
                crate::storage::to_i64(cursor).unwrap_or(i64::MAX),
                kit_id.map(ToString::to_string),
                at,
                json_text(change)
            ])
        })
        .map(drop)
        .map_err(db_err)
}

pub fn revoke_kit(
    c: &mut Connection,
    kit_id: &KitId,
    reason: &str,
    at: i64,
) -> Result<bool, StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let Some(kit) = kit(&tx, kit_id)? else {
        return Ok(false);
    };
    if kit.status != crate::storage::KitStatus::Revoked {
        tx.execute(
            "UPDATE kits SET status = 'revoked', revoked_reason = ?1 WHERE kit_id = ?2",
            params![reason, kit_id.to_string()],
        )
        .map_err(db_err)?;
        let wipe = ChangeKind::Wipe {
            reason: reason.to_owned(),
        };
        add_change(&tx, Some(kit_id), &wipe, at)?;
    }
    tx.commit().map_err(db_err)?;
    Ok(true)
}

pub fn clear_quarantine(c: &mut Connection, kit_id: &KitId) -> Result<bool, StoreError> {
    c.execute(
        "UPDATE kits SET status = 'active' WHERE kit_id = ?1 AND status = 'quarantined'",
        [kit_id.to_string()],
    )
    .map(|n| n > 0)
    .map_err(db_err)
}

pub fn publish_catalog(
    c: &mut Connection,
    p: &PublishedCatalog,
) -> Result<PublishOutcome, StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let existing: Option<(Vec<u8>, bool)> = tx
        .query_row(
            "SELECT envelope, current FROM catalogs WHERE version = ?1",
            [&p.version],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    if let Some((envelope, current)) = existing {
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
    tx.execute("UPDATE catalogs SET current = FALSE WHERE current", [])
        .map_err(db_err)?;
    tx.execute(
        "INSERT INTO catalogs (version, envelope, etag, published_at, current)
         VALUES (?1, ?2, ?3, ?4, TRUE)",
        params![p.version, p.envelope_json, p.etag, to_ms(p.published_at)],
    )
    .map_err(db_err)?;
    let change = ChangeKind::Catalog {
        version: p.version.clone(),
    };
    add_change(&tx, None, &change, to_ms(p.published_at))?;
    tx.commit().map_err(db_err)?;
    Ok(PublishOutcome::Published)
}

pub fn current_catalog(c: &mut Connection) -> Result<Option<PublishedCatalog>, StoreError> {
    let raw: Option<(String, Vec<u8>, String, i64)> = c
        .prepare_cached("SELECT version, envelope, etag, published_at FROM catalogs WHERE current")
        .and_then(|mut s| {
            s.query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()
        })
        .map_err(db_err)?;
    raw.map(|(version, envelope_json, etag, at)| {
        Ok(PublishedCatalog {
            version,
            envelope_json,
            etag,
            published_at: from_ms(at)?,
        })
    })
    .transpose()
}

pub fn current_catalog_version(c: &Connection) -> Result<Option<String>, StoreError> {
    c.prepare_cached("SELECT version FROM catalogs WHERE current")
        .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
        .map_err(db_err)
}
