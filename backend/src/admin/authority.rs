//! `admin authority add|list|rotate-key`: tenants and their HPKE key pairs. A new
//! authority gets a key pair at once; rotation retires the current key (kept for
//! opening cases sealed to it) and makes a new one current — publish a new catalog
//! version afterwards so that kits seal to it.

use chrono::Utc;
use fieldkit_catalog::AuthorityKind;
use serde::Serialize;
use sync_protocol::ids::{Ars, AuthorityId};

use super::{timestamp, Admin, AdminError};
use crate::keys::SealedAuthorityKey;
use crate::storage::{AdminAction, NewAuthority};

/// An authority as listed.
#[derive(Debug, Clone, Serialize)]
pub struct AuthorityInfo {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// ARS, if any.
    pub ars: Option<String>,
    /// Kind.
    pub kind: AuthorityKind,
    /// Key id of the current HPKE key.
    pub current_key_id: Option<String>,
    /// Key ids of retired keys, newest first.
    pub retired_key_ids: Vec<String>,
    /// When it was added.
    pub created_at: String,
}

/// Parses and checks the arguments of `authority add`.
///
/// # Errors
/// [`AdminError::Invalid`].
pub fn new_authority(
    id: &str,
    name: &str,
    ars: Option<&str>,
    kind: AuthorityKind,
) -> Result<NewAuthority, AdminError> {
    let id = AuthorityId::parse(id).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let ars = ars
        .map(|a| Ars::parse(a).map_err(|e| AdminError::Invalid(e.to_string())))
        .transpose()?;
    if name.trim().is_empty() {
        return Err(AdminError::Invalid("the name must not be empty".into()));
    }
    if ars.is_none() && kind != AuthorityKind::Bund {
        return Err(AdminError::Invalid(
            "only a federal office (kind bund) may have no ARS".into(),
        ));
    }
    Ok(NewAuthority {
        id,
        name: name.trim().to_owned(),
        ars,
        kind,
    })
}

/// Adds an authority with a fresh HPKE key pair; returns the key id.
///
/// # Errors
/// [`AdminError`]; exists already → exit code 4.
pub async fn add(admin: &Admin, authority: &NewAuthority) -> Result<String, AdminError> {
    let now = Utc::now();
    let key = SealedAuthorityKey::generate(&admin.master, &authority.id, now);
    admin.store.add_authority(authority, &key, now).await?;
    admin
        .record(
            Some(&authority.id),
            AdminAction::AuthorityAdded,
            authority.id.as_str(),
            Some(&key.key_id),
        )
        .await?;
    Ok(key.key_id)
}

/// Retires the current key of an authority and makes a new one current.
///
/// # Errors
/// [`AdminError`]; unknown authority → exit code 3.
pub async fn rotate_key(admin: &Admin, id: &str) -> Result<String, AdminError> {
    let id = AuthorityId::parse(id).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let now = Utc::now();
    let key = SealedAuthorityKey::generate(&admin.master, &id, now);
    admin.store.rotate_authority_key(&id, &key, now).await?;
    admin
        .record(
            Some(&id),
            AdminAction::AuthorityKeyRotated,
            id.as_str(),
            Some(&key.key_id),
        )
        .await?;
    Ok(key.key_id)
}

/// All authorities with their key ids.
///
/// # Errors
/// [`AdminError`].
pub async fn list(admin: &Admin) -> Result<Vec<AuthorityInfo>, AdminError> {
    let mut out = Vec::new();
    for row in admin.store.authorities().await? {
        let keys = admin.store.authority_keys(&row.authority.id).await?;
        let current_key_id = keys
            .iter()
            .find(|k| k.retired_at.is_none())
            .map(|k| k.key.key_id.clone());
        let retired_key_ids = keys
            .iter()
            .filter(|k| k.retired_at.is_some())
            .map(|k| k.key.key_id.clone())
            .collect();
        out.push(AuthorityInfo {
            id: row.authority.id.to_string(),
            name: row.authority.name,
            ars: row.authority.ars.map(|a| a.to_string()),
            kind: row.authority.kind,
            current_key_id,
            retired_key_ids,
            created_at: timestamp(row.created_at),
        });
    }
    Ok(out)
}
