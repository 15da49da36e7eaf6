//! Back-office users, their sessions, and the user changes a second admin confirms
//! under the four-eyes rule (at most one pending per login; the requester can never
//! confirm their own).

use chrono::{DateTime, Utc};
use sync_protocol::ids::AuthorityId;

/// A back-office role.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    clap::ValueEnum,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Role {
    /// Works the cases of their authority.
    Reviewer,
    /// Manages users of their authority.
    AuthorityAdmin,
    /// Provisions kits and runs the service.
    ItOperator,
    /// Reads the audit trail.
    Auditor,
}

/// A back-office user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// Login name.
    pub login: String,
    /// The authority they act for.
    pub authority_id: AuthorityId,
    /// Their role.
    pub role: Role,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Disabled users cannot log in.
    pub disabled: bool,
    /// When added.
    pub created_at: DateTime<Utc>,
    /// The password was set by someone else (an admin, the CLI): it only lets the user
    /// set their own.
    pub must_change_password: bool,
}

/// A session to store (the token itself is never stored, only its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// SHA-256 of the session token the cookie carries.
    pub token_hash: [u8; 32],
    /// The user.
    pub login: String,
    /// The synchronizer token forms must echo (not a credential by itself).
    pub csrf_token: String,
    /// Now.
    pub created_at: DateTime<Utc>,
    /// Absolute end of the session.
    pub expires_at: DateTime<Utc>,
}

/// A live session with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// The user (never disabled: a disabled user's sessions are not returned).
    pub user: UserRow,
    /// The synchronizer token of this session.
    pub csrf_token: String,
    /// When it began.
    pub created_at: DateTime<Utc>,
    /// When it ends at the latest.
    pub expires_at: DateTime<Utc>,
}

/// Failed logins counted for one login name (known or not) and client address.
pub use crate::login_throttle::LoginFailures;

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

/// The outcome of [`Store::confirm_user_change`].
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

super::stored_names!(Role);
