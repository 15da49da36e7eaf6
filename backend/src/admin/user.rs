//! `admin user add|list|disable`: back-office users with Argon2id password hashes.
//! The password comes from `FIELDKIT_PASSWORD` or an interactive prompt (the binary's
//! business); this module only ever sees it to hash it.

use chrono::Utc;
use serde::Serialize;
use sync_protocol::ids::AuthorityId;

use super::{timestamp, Admin, AdminError};
use crate::password;
use crate::storage::{AdminAction, Role, StoreError, UserRow};

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
