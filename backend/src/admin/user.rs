//! `admin user add|list|disable|set-role`: back-office users with Argon2id password
//! hashes. The password comes from `FIELDKIT_PASSWORD` or an interactive prompt (the
//! binary's business); this module only ever sees it to hash it.
//!
//! No admin holds a usable password of someone else: a password set by the CLI or an
//! admin page only lets its user set their own ([`FirstLogin::SetOwnPassword`]), and
//! the user's own password is recorded as `password-set` with the user as the actor.
//! Role changes are recorded with the old and new role. The four-eyes rule
//! ([`needs_second_admin`]) applies to the back office's admins; the CLI is the
//! installation's operator, whose changes apply at once and are shown to the
//! authority's admins like any other.

use chrono::Utc;
use serde::Serialize;
use sync_protocol::ids::AuthorityId;

use super::{timestamp, Admin, AdminError};
use crate::password;
use crate::storage::{
    AdminAction, Confirmation, NewUserChange, PendingUserChange, Role, StoreError, UserChangeKind,
    UserRow,
};

/// What a new user's first login does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstLogin {
    /// The password was chosen by someone else: it only lets the user set their own.
    SetOwnPassword,
    /// The password is the user's to keep (the demo set-up, tests).
    KeepPassword,
}

/// Whether, in an authority with the four-eyes rule (`four_eyes`), a change needs a
/// second admin: every role change, and adding a user who can read cases (reviewer) or
/// grant that (authority-admin).
pub fn needs_second_admin(four_eyes: bool, kind: &UserChangeKind, role: Role) -> bool {
    four_eyes
        && match kind {
            UserChangeKind::Role => true,
            UserChangeKind::Add { .. } => matches!(role, Role::Reviewer | Role::AuthorityAdmin),
        }
}

/// The audit detail of a change: `add reviewer`, `role auditor`.
pub fn change_detail(kind: &UserChangeKind, role: Role) -> String {
    format!("{} {}", kind.as_str(), role.as_str())
}

/// A user as listed (never with the hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserInfo {
    /// Login name.
    pub login: String,
    /// Authority.
    pub authority_id: String,
    /// Role.
    pub role: Role,
    /// Whether disabled.
    pub disabled: bool,
    /// When added.
    pub created_at: String,
}

/// Checks a new login name: 1-64 characters of `a-z`, `0-9`, `-`, `_` and `.`.
///
/// # Errors
/// [`AdminError::Invalid`].
pub fn check_login(login: &str) -> Result<(), AdminError> {
    let ok = (1..=64).contains(&login.len())
        && login
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(AdminError::Invalid(
            "a login is 1-64 characters of a-z, 0-9, '-', '_' and '.'".into(),
        ))
    }
}

/// Adds a user.
///
/// # Errors
/// [`AdminError`]: a bad login or short password (5), unknown authority (3), existing
/// login (4).
pub async fn add(
    admin: &Admin,
    authority: &str,
    login: &str,
    role: Role,
    password_text: &str,
    first_login: FirstLogin,
) -> Result<(), AdminError> {
    check_login(login)?;
    let authority_id =
        AuthorityId::parse(authority).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let password_hash =
        password::hash(password_text).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let user = UserRow {
        login: login.to_owned(),
        authority_id,
        role,
        password_hash,
        disabled: false,
        created_at: Utc::now(),
        must_change_password: first_login == FirstLogin::SetOwnPassword,
    };
    admin.store.add_user(&user).await?;
    admin
        .record(
            Some(&user.authority_id),
            AdminAction::UserAdded,
            login,
            Some(role.as_str()),
        )
        .await
}

/// All users.
///
/// # Errors
/// [`AdminError`].
pub async fn list(admin: &Admin) -> Result<Vec<UserInfo>, AdminError> {
    Ok(admin
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| UserInfo {
            login: u.login,
            authority_id: u.authority_id.to_string(),
            role: u.role,
            disabled: u.disabled,
            created_at: timestamp(u.created_at),
        })
        .collect())
}

/// Disables a user.
///
/// # Errors
/// Unknown login → exit code 3.
pub async fn disable(admin: &Admin, login: &str) -> Result<(), AdminError> {
    let not_found = || StoreError::NotFound(format!("user {login}"));
    let Some(user) = admin.store.user(login).await? else {
        return Err(not_found().into());
    };
    if !admin.store.disable_user(login).await? {
        return Err(not_found().into());
    }
    admin
        .record(
            Some(&user.authority_id),
            AdminAction::UserDisabled,
            login,
            None,
        )
        .await
}

/// Changes a user's role at once; returns the old one.
///
/// # Errors
/// Unknown login → exit code 3.
pub async fn set_role(admin: &Admin, login: &str, role: Role) -> Result<Role, AdminError> {
    let not_found = || StoreError::NotFound(format!("user {login}"));
    let user = admin.store.user(login).await?.ok_or_else(not_found)?;
    if !admin.store.set_role(login, role).await? {
        return Err(not_found().into());
    }
    let detail = format!("{} → {}", user.role.as_str(), role.as_str());
    admin
        .record(
            Some(&user.authority_id),
            AdminAction::UserRoleChanged,
            login,
            Some(&detail),
        )
        .await?;
    Ok(user.role)
}

/// Asks for a change that a second admin of `authority` must confirm; returns its id.
/// For an added user, `password_text` is the initial password (it only lets the user
/// set their own).
///
/// # Errors
/// A bad login or short password (5); a user that exists (for `add`) or does not (for
/// a role change) or a change already pending for the login (4 / 3).
pub async fn request_change(
    admin: &Admin,
    authority: &AuthorityId,
    login: &str,
    role: Role,
    password_text: Option<&str>,
) -> Result<u64, AdminError> {
    check_login(login)?;
    let existing = admin.store.user(login).await?;
    let kind = match password_text {
        Some(text) => {
            if existing.is_some() {
                return Err(StoreError::AlreadyExists(format!("user {login}")).into());
            }
            UserChangeKind::Add {
                password_hash: password::hash(text)
                    .map_err(|e| AdminError::Invalid(e.to_string()))?,
            }
        }
        None => {
            if existing.is_none_or(|u| &u.authority_id != authority) {
                return Err(StoreError::NotFound(format!("user {login}")).into());
            }
            UserChangeKind::Role
        }
    };
    let detail = change_detail(&kind, role);
    let id = admin
        .store
        .request_user_change(&NewUserChange {
            authority_id: authority.clone(),
            login: login.to_owned(),
            kind,
            role,
            requested_by: admin.actor.clone(),
            requested_at: Utc::now(),
        })
        .await?;
    admin
        .record(
            Some(authority),
            AdminAction::UserChangeRequested,
            login,
            Some(&detail),
        )
        .await?;
    Ok(id)
}

/// Confirms pending change `id` of `authority` as this admin (never the requester).
///
/// # Errors
/// [`AdminError`] from the store.
pub async fn confirm_change(
    admin: &Admin,
    authority: &AuthorityId,
    id: u64,
) -> Result<Confirmation, AdminError> {
    let outcome = admin
        .store
        .confirm_user_change(id, authority, &admin.actor, Utc::now())
        .await?;
    if let Confirmation::Applied(p) = &outcome {
        let detail = format!(
            "{}, requested by {}",
            change_detail(&p.change.kind, p.change.role),
            p.change.requested_by
        );
        admin
            .record(
                Some(authority),
                AdminAction::UserChangeConfirmed,
                &p.change.login,
                Some(&detail),
            )
            .await?;
    }
    Ok(outcome)
}

/// Withdraws pending change `id` of `authority` (its requester or another admin).
///
/// # Errors
/// [`AdminError`] from the store.
pub async fn withdraw_change(
    admin: &Admin,
    authority: &AuthorityId,
    id: u64,
) -> Result<Option<PendingUserChange>, AdminError> {
    let found = admin.store.withdraw_user_change(id, authority).await?;
    if let Some(p) = &found {
        admin
            .record(
                Some(authority),
                AdminAction::UserChangeWithdrawn,
                &p.change.login,
                Some(&change_detail(&p.change.kind, p.change.role)),
            )
            .await?;
    }
    Ok(found)
}

/// Switches the four-eyes rule of an authority (CLI: the installation's operator).
///
/// # Errors
/// Unknown authority → exit code 3.
pub async fn set_four_eyes(admin: &Admin, authority: &str, on: bool) -> Result<(), AdminError> {
    let id = AuthorityId::parse(authority).map_err(|e| AdminError::Invalid(e.to_string()))?;
    if !admin.store.set_four_eyes(&id, on).await? {
        return Err(StoreError::NotFound(format!("authority {authority}")).into());
    }
    admin
        .record(
            Some(&id),
            AdminAction::FourEyesSet,
            authority,
            Some(if on { "on" } else { "off" }),
        )
        .await
}
