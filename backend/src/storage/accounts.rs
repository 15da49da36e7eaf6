//! The account part of the storage interface: users setting their own passwords, role
//! changes, and the four-eyes rule — an authority can require that a second admin
//! confirm new users who can read cases (or grant that) and every role change. Such a
//! change waits in `pending_user_changes` (at most one per login) until another admin of
//! the authority confirms it; the requester can never confirm their own.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sync_protocol::ids::AuthorityId;

use super::{Role, StoreError};

/// Account operations, a supertrait of [`super::Store`]. One transaction per method.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Sets a user's password hash and whether it must be changed at the next login,
    /// and ends every session of the user except `keep` (the one that changed it).
    /// False if there is no such user.
    async fn set_password(
        &self,
        login: &str,
        password_hash: &str,
        must_change: bool,
        keep: Option<&[u8; 32]>,
    ) -> Result<bool, StoreError>;
    /// Sets a user's role (sessions read the role on every request, so it applies at
    /// once). False if there is no such user.
    async fn set_role(&self, login: &str, role: Role) -> Result<bool, StoreError>;
    /// Whether the authority requires a second admin's confirmation; `None` if unknown.
    async fn four_eyes(&self, authority: &AuthorityId) -> Result<Option<bool>, StoreError>;
    /// Switches the four-eyes rule of an authority; false if unknown.
    async fn set_four_eyes(&self, authority: &AuthorityId, on: bool) -> Result<bool, StoreError>;
    /// Stores a change to be confirmed; returns its id.
    ///
    /// # Errors
    /// [`StoreError::AlreadyExists`] while a change for the login is pending.
    async fn request_user_change(&self, change: &NewUserChange) -> Result<u64, StoreError>;
    /// The changes pending in an authority, oldest first.
    async fn pending_user_changes(
        &self,
        authority: &AuthorityId,
    ) -> Result<Vec<PendingUserChange>, StoreError>;
    /// Applies pending change `id` of `authority` and removes it, in one transaction,
    /// unless `confirmer` requested it. A new user starts with
    /// `must_change_password`.
    async fn confirm_user_change(
        &self,
        id: u64,
        authority: &AuthorityId,
        confirmer: &str,
        at: DateTime<Utc>,
    ) -> Result<Confirmation, StoreError>;
    /// Removes pending change `id` of `authority` unapplied; returns it, `None` if
    /// there is none.
    async fn withdraw_user_change(
        &self,
        id: u64,
        authority: &AuthorityId,
    ) -> Result<Option<PendingUserChange>, StoreError>;
}

/// What a pending change does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserChangeKind {
    /// Add the user with this (initial) password hash.
    Add {
        /// Argon2id PHC string of the initial password.
        password_hash: String,
    },
    /// Give the existing user the change's role.
    Role,
}

impl UserChangeKind {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Add { .. } => "add",
            Self::Role => "role",
        }
    }
}

/// A change to be confirmed by a second admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUserChange {
    /// The authority of the user and of both admins.
    pub authority_id: AuthorityId,
    /// The user.
    pub login: String,
    /// Add or change the role.
    pub kind: UserChangeKind,
    /// The (new) role.
    pub role: Role,
    /// The admin who asked for it.
    pub requested_by: String,
    /// When.
    pub requested_at: DateTime<Utc>,
}

/// A stored pending change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUserChange {
    /// Its id.
    pub id: u64,
    /// The change.
    pub change: NewUserChange,
}

/// The outcome of [`AccountStore::confirm_user_change`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// Applied and removed.
    Applied(PendingUserChange),
    /// No such pending change in the authority.
    NotFound,
    /// The confirmer asked for it; nothing changed.
    OwnRequest,
    /// It cannot be applied any more (the login was taken meanwhile, or the user is
    /// gone); nothing changed, the change stays until withdrawn.
    Stale,
}

/// A stored row back into a change: `(id, authority, login, kind, role, hash,
/// requested_by, requested_at)`.
pub(crate) type RawChange = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
);

/// The columns of [`RawChange`], in order.
pub(crate) const CHANGE_COLUMNS: &str =
    "id, authority_id, login, kind, role, password_hash, requested_by, requested_at";

/// Parses a [`RawChange`].
pub(crate) fn change_row(
    (id, authority, login, kind, role, hash, by, at): RawChange,
) -> Result<PendingUserChange, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("pending user change {id}: {what}"));
    let kind = match (kind.as_str(), hash) {
        ("add", Some(password_hash)) => UserChangeKind::Add { password_hash },
        ("role", None) => UserChangeKind::Role,
        _ => return Err(corrupt("kind")),
    };
    Ok(PendingUserChange {
        id: u64::try_from(id).map_err(|_| corrupt("id"))?,
        change: NewUserChange {
            authority_id: AuthorityId::parse(&authority).map_err(|_| corrupt("authority"))?,
            login,
            kind,
            role: Role::parse(&role).ok_or_else(|| corrupt("role"))?,
            requested_by: by,
            requested_at: super::from_ms(at)?,
        },
    })
}

/// The stored hash of an `add` change (`None` for a role change).
pub(crate) fn change_hash(change: &NewUserChange) -> Option<&str> {
    match &change.kind {
        UserChangeKind::Add { password_hash } => Some(password_hash),
        UserChangeKind::Role => None,
    }
}
