//! Authorities and their HPKE keys as stored.

use chrono::{DateTime, Utc};
use fieldkit_catalog::AuthorityKind;
use sync_protocol::ids::{Ars, AuthorityId};

use crate::keys::SealedAuthorityKey;

/// A new authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuthority {
    /// Its id (slug).
    pub id: AuthorityId,
    /// Official name.
    pub name: String,
    /// Regionalschlüssel; none for federal offices.
    pub ars: Option<Ars>,
    /// Level.
    pub kind: AuthorityKind,
}

/// An authority as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityRow {
    /// Id, name, ARS and kind.
    pub authority: NewAuthority,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// One HPKE key of an authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityKeyRow {
    /// The authority.
    pub authority_id: AuthorityId,
    /// The key.
    pub key: SealedAuthorityKey,
    /// When it stopped being current; `None` for the current key.
    pub retired_at: Option<DateTime<Utc>>,
}
