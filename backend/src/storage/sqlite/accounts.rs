//! SQLite: `impl AccountStore for SqliteStore` — own passwords, role changes and the
//! four-eyes queue. The same statements as `postgres/accounts.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sync_protocol::ids::AuthorityId;

use super::{db_err, SqliteStore};
use crate::storage::accounts::{change_hash, change_row, RawChange, CHANGE_COLUMNS};
use crate::storage::{
    to_ms, AccountStore, Confirmation, NewUserChange, PendingUserChange, Role, StoreError,
    UserChangeKind,
};

fn raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawChange> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn set_password(
    c: &mut Connection,
    login: &str,
    hash: &str,
    must_change: bool,
    keep: Option<[u8; 32]>,
) -> Result<bool, StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let n = tx
        .execute(
            "UPDATE users SET password_hash = ?2, must_change_password = ?3 WHERE login = ?1",
            params![login, hash, must_change],
        )
        .map_err(db_err)?;
    tx.execute(
        "DELETE FROM sessions WHERE login = ?1 AND token_hash IS NOT ?2",
        params![login, keep.as_ref().map(<[u8; 32]>::as_slice)],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(n > 0)
}

fn pending_in(
    c: &Connection,
    authority: &str,
    id: Option<i64>,
) -> Result<Vec<PendingUserChange>, StoreError> {
    let mut stmt = c
        .prepare(&format!(
            "SELECT {CHANGE_COLUMNS} FROM pending_user_changes
             WHERE authority_id = ?1 AND (?2 IS NULL OR id = ?2) ORDER BY id"
        ))
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![authority, id], raw)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(db_err)?;
    rows.into_iter().map(change_row).collect()
}

fn confirm(
    c: &mut Connection,
    id: u64,
    authority: &str,
    confirmer: &str,
    at: i64,
) -> Result<Confirmation, StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let Some(pending) = pending_in(&tx, authority, i64::try_from(id).ok())?.pop() else {
        return Ok(Confirmation::NotFound);
    };
    let change = &pending.change;
    if change.requested_by == confirmer {
        return Ok(Confirmation::OwnRequest);
    }
    let applied = match &change.kind {
        UserChangeKind::Add { password_hash } => tx
            .execute(
                "INSERT INTO users (login, authority_id, role, password_hash, disabled,
                                    created_at, must_change_password)
                 VALUES (?1, ?2, ?3, ?4, FALSE, ?5, TRUE) ON CONFLICT (login) DO NOTHING",
                params![
                    change.login,
                    authority,
                    change.role.as_str(),
                    password_hash,
                    at
                ],
            )
            .map_err(db_err)?,
        UserChangeKind::Role => tx
            .execute(
                "UPDATE users SET role = ?3 WHERE login = ?1 AND authority_id = ?2",
                params![change.login, authority, change.role.as_str()],
            )
            .map_err(db_err)?,
    };
    if applied == 0 {
        return Ok(Confirmation::Stale);
    }
    tx.execute(
        "DELETE FROM pending_user_changes WHERE id = ?1",
        [pending.id as i64],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(Confirmation::Applied(pending))
}

fn withdraw(
    c: &mut Connection,
    id: u64,
    authority: &str,
) -> Result<Option<PendingUserChange>, StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let found = pending_in(&tx, authority, i64::try_from(id).ok())?.pop();
    if let Some(p) = &found {
        tx.execute(
            "DELETE FROM pending_user_changes WHERE id = ?1",
            [p.id as i64],
        )
        .map_err(db_err)?;
    }
    tx.commit().map_err(db_err)?;
    Ok(found)
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn set_password(
        &self,
        login: &str,
        password_hash: &str,
        must_change: bool,
        keep: Option<&[u8; 32]>,
    ) -> Result<bool, StoreError> {
        let (l, h, k) = (login.to_owned(), password_hash.to_owned(), keep.copied());
        self.run(move |c| set_password(c, &l, &h, must_change, k))
            .await
    }

    async fn set_role(&self, login: &str, role: Role) -> Result<bool, StoreError> {
        let l = login.to_owned();
        self.run(move |c| {
            c.execute(
                "UPDATE users SET role = ?2 WHERE login = ?1",
                params![l, role.as_str()],
            )
            .map(|n| n > 0)
            .map_err(db_err)
        })
        .await
    }

    async fn four_eyes(&self, authority: &AuthorityId) -> Result<Option<bool>, StoreError> {
        let a = authority.to_string();
        self.run(move |c| {
            c.query_row(
                "SELECT four_eyes FROM authorities WHERE id = ?1",
                [a],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn set_four_eyes(&self, authority: &AuthorityId, on: bool) -> Result<bool, StoreError> {
        let a = authority.to_string();
        self.run(move |c| {
            c.execute(
                "UPDATE authorities SET four_eyes = ?2 WHERE id = ?1",
                params![a, on],
            )
            .map(|n| n > 0)
            .map_err(db_err)
        })
        .await
    }

    async fn request_user_change(&self, change: &NewUserChange) -> Result<u64, StoreError> {
        let ch = change.clone();
        self.run(move |c| {
            let id: Option<i64> = c
                .query_row(
                    "INSERT INTO pending_user_changes
                         (authority_id, login, kind, role, password_hash, requested_by,
                          requested_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (login) DO NOTHING
                     RETURNING id",
                    params![
                        ch.authority_id.as_str(),
                        ch.login,
                        ch.kind.as_str(),
                        ch.role.as_str(),
                        change_hash(&ch),
                        ch.requested_by,
                        to_ms(ch.requested_at)
                    ],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            let id = id.ok_or_else(|| {
                StoreError::AlreadyExists(format!("pending change for user {}", ch.login))
            })?;
            u64::try_from(id).map_err(|_| StoreError::Corrupt("pending change id".into()))
        })
        .await
    }

    async fn pending_user_changes(
        &self,
        authority: &AuthorityId,
    ) -> Result<Vec<PendingUserChange>, StoreError> {
        let a = authority.to_string();
        self.run(move |c| pending_in(c, &a, None)).await
    }

    async fn confirm_user_change(
        &self,
        id: u64,
        authority: &AuthorityId,
        confirmer: &str,
        at: DateTime<Utc>,
    ) -> Result<Confirmation, StoreError> {
        let (a, who) = (authority.to_string(), confirmer.to_owned());
        self.run(move |c| confirm(c, id, &a, &who, to_ms(at))).await
    }

    async fn withdraw_user_change(
        &self,
        id: u64,
        authority: &AuthorityId,
    ) -> Result<Option<PendingUserChange>, StoreError> {
        let a = authority.to_string();
        self.run(move |c| withdraw(c, id, &a)).await
    }
}
