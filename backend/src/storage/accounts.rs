//! Accounts: users setting their own passwords, role changes, and the four-eyes rule —
//! an authority can require that a second admin confirm new users who can read cases
//! (or grant that) and every role change. Such a change waits in `pending_user_changes`
//! (at most one per login) until another admin of the authority confirms it; the
//! requester can never confirm their own.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sync_protocol::ids::AuthorityId;

use super::sql::{col, col_bool, write_tx, Dialect, Tx};
use super::{
    from_ms, to_ms, Confirmation, NewUserChange, PendingUserChange, Role, StoreError,
    UserChangeKind,
};

/// The columns of a pending change, in [`change_row`] order.
pub(crate) const CHANGE_COLUMNS: &str =
    "id, authority_id, login, kind, role, password_hash, requested_by, requested_at";

/// A pending change as [`CHANGE_COLUMNS`] selects it.
pub(crate) fn change_row(r: &AnyRow) -> Result<PendingUserChange, StoreError> {
    let (id, authority, login, kind): (i64, String, String, String) =
        (col(r, 0)?, col(r, 1)?, col(r, 2)?, col(r, 3)?);
    let (role, hash, by, at): (String, Option<String>, String, i64) =
        (col(r, 4)?, col(r, 5)?, col(r, 6)?, col(r, 7)?);
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
            requested_at: from_ms(at)?,
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

/// Pending change `id` of `authority`, locked for the rest of `tx`; `None` if there is
/// none.
async fn locked_change(
    tx: &mut Tx<'_>,
    dialect: Dialect,
    id: u64,
    authority: &AuthorityId,
) -> Result<Option<PendingUserChange>, StoreError> {
    let Ok(id) = i64::try_from(id) else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT {CHANGE_COLUMNS} FROM pending_user_changes
         WHERE id = $1 AND authority_id = $2{}",
        dialect.for_update()
    );
    // Built from constants only.
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(authority.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| change_row(&r))
        .transpose()
}

/// Deletes pending change `id` inside `tx`.
async fn delete_change(tx: &mut Tx<'_>, id: u64) -> Result<(), StoreError> {
    let id = i64::try_from(id).map_err(|_| StoreError::Corrupt("pending change id".into()))?;
    sqlx::query("DELETE FROM pending_user_changes WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The account operations, once for both databases. A confirmation locks its pending row
/// (`FOR UPDATE` on PostgreSQL; SQLite's write transaction holds the only write lock), so
/// two admins confirming at once apply it once.
impl super::Store {
    /// Sets a user's password hash and whether it must be changed at the next login, and
    /// ends every session of the user except `keep` (the one that changed it). False if
    /// there is no such user.
    pub async fn set_password(
        &self,
        login: &str,
        password_hash: &str,
        must_change: bool,
        keep: Option<&[u8; 32]>,
    ) -> Result<bool, StoreError> {
        write_tx!(self.db, async |tx| {
            let updated = sqlx::query(
                "UPDATE users SET password_hash = $2, must_change_password = $3 WHERE login = $1",
            )
            .bind(login.to_owned())
            .bind(password_hash.to_owned())
            .bind(must_change)
            .execute(&mut **tx)
            .await?;
            sqlx::query("DELETE FROM sessions WHERE login = $1 AND token_hash IS DISTINCT FROM $2")
                .bind(login.to_owned())
                .bind(keep.map(|k| k.to_vec()))
                .execute(&mut **tx)
                .await?;
            Ok(updated.rows_affected() > 0)
        })
    }

    /// Sets a user's role (sessions read the role on every request, so it applies at
    /// once). False if there is no such user.
    pub async fn set_role(&self, login: &str, role: Role) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE users SET role = $2 WHERE login = $1")
            .bind(login.to_owned())
            .bind(role.as_str())
            .execute(&self.db.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Whether the authority requires a second admin's confirmation; `None` if unknown.
    pub async fn four_eyes(&self, authority: &AuthorityId) -> Result<Option<bool>, StoreError> {
        sqlx::query("SELECT CAST(four_eyes AS INTEGER) FROM authorities WHERE id = $1")
            .bind(authority.to_string())
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| col_bool(&r, 0))
            .transpose()
    }

    /// Switches the four-eyes rule of an authority; false if unknown.
    pub async fn set_four_eyes(
        &self,
        authority: &AuthorityId,
        on: bool,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE authorities SET four_eyes = $2 WHERE id = $1")
            .bind(authority.to_string())
            .bind(on)
            .execute(&self.db.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Stores a change to be confirmed; returns its id. [`StoreError::AlreadyExists`]
    /// while a change for the login is pending.
    pub async fn request_user_change(&self, ch: &NewUserChange) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO pending_user_changes
                 (authority_id, login, kind, role, password_hash, requested_by, requested_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (login) DO NOTHING
             RETURNING id",
        )
        .bind(ch.authority_id.to_string())
        .bind(ch.login.clone())
        .bind(ch.kind.as_str())
        .bind(ch.role.as_str())
        .bind(change_hash(ch).map(str::to_owned))
        .bind(ch.requested_by.clone())
        .bind(to_ms(ch.requested_at))
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or_else(|| {
            StoreError::AlreadyExists(format!("pending change for user {}", ch.login))
        })?;
        let id: i64 = col(&row, 0)?;
        u64::try_from(id).map_err(|_| StoreError::Corrupt("pending change id".into()))
    }

    /// The changes pending in an authority, oldest first.
    pub async fn pending_user_changes(
        &self,
        authority: &AuthorityId,
    ) -> Result<Vec<PendingUserChange>, StoreError> {
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM pending_user_changes
             WHERE authority_id = $1 ORDER BY id"
        );
        // Built from constants only.
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(authority.to_string())
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(change_row)
            .collect()
    }

    /// Applies pending change `id` of `authority` and removes it, in one transaction,
    /// unless `confirmer` requested it. A new user starts with `must_change_password`.
    pub async fn confirm_user_change(
        &self,
        id: u64,
        authority: &AuthorityId,
        confirmer: &str,
        at: DateTime<Utc>,
    ) -> Result<Confirmation, StoreError> {
        write_tx!(self.db, async |tx| {
            let Some(pending) = locked_change(tx, self.db.dialect, id, authority).await? else {
                return Ok(Confirmation::NotFound);
            };
            let change = &pending.change;
            if change.requested_by == confirmer {
                return Ok(Confirmation::OwnRequest);
            }
            let applied = match &change.kind {
                UserChangeKind::Add { password_hash } => sqlx::query(
                    "INSERT INTO users (login, authority_id, role, password_hash, disabled,
                                        created_at, must_change_password)
                     VALUES ($1, $2, $3, $4, FALSE, $5, TRUE) ON CONFLICT (login) DO NOTHING",
                )
                .bind(change.login.clone())
                .bind(authority.to_string())
                .bind(change.role.as_str())
                .bind(password_hash.clone())
                .bind(to_ms(at)),
                UserChangeKind::Role => {
                    sqlx::query("UPDATE users SET role = $3 WHERE login = $1 AND authority_id = $2")
                        .bind(change.login.clone())
                        .bind(authority.to_string())
                        .bind(change.role.as_str())
                }
            }
            .execute(&mut **tx)
            .await?;
            if applied.rows_affected() == 0 {
                return Ok(Confirmation::Stale);
            }
            delete_change(tx, pending.id).await?;
            Ok(Confirmation::Applied(pending))
        })
    }

    /// Removes pending change `id` of `authority` unapplied; returns it, `None` if there
    /// is none.
    pub async fn withdraw_user_change(
        &self,
        id: u64,
        authority: &AuthorityId,
    ) -> Result<Option<PendingUserChange>, StoreError> {
        write_tx!(self.db, async |tx| {
            let found = locked_change(tx, self.db.dialect, id, authority).await?;
            if let Some(p) = &found {
                delete_change(tx, p.id).await?;
            }
            Ok(found)
        })
    }
}
