//! PostgreSQL: `impl AccountStore for PgStore` — the same statements as
//! `sqlite/accounts.rs`; a confirmation locks its pending row (`FOR UPDATE`), so two
//! admins confirming at once apply it once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sync_protocol::ids::AuthorityId;
use tokio_postgres::{GenericClient, Row};

use super::{db_err, PgStore};
use crate::storage::accounts::{change_hash, change_row, CHANGE_COLUMNS};
use crate::storage::{
    to_ms, AccountStore, Confirmation, NewUserChange, PendingUserChange, Role, StoreError,
    UserChangeKind,
};

fn parse(r: &Row) -> Result<PendingUserChange, StoreError> {
    change_row((
        r.try_get(0).map_err(db_err)?,
        r.try_get(1).map_err(db_err)?,
        r.try_get(2).map_err(db_err)?,
        r.try_get(3).map_err(db_err)?,
        r.try_get(4).map_err(db_err)?,
        r.try_get(5).map_err(db_err)?,
        r.try_get(6).map_err(db_err)?,
        r.try_get(7).map_err(db_err)?,
    ))
}

async fn locked_change<C: GenericClient + Sync>(
    c: &C,
    id: u64,
    authority: &str,
) -> Result<Option<PendingUserChange>, StoreError> {
    let Ok(id) = i64::try_from(id) else {
        return Ok(None);
    };
    c.query_opt(
        &format!(
            "SELECT {CHANGE_COLUMNS} FROM pending_user_changes
             WHERE id = $1 AND authority_id = $2 FOR UPDATE"
        ),
        &[&id, &authority],
    )
    .await
    .map_err(db_err)?
    .map(|r| parse(&r))
    .transpose()
}

async fn delete_change<C: GenericClient + Sync>(c: &C, id: u64) -> Result<(), StoreError> {
    let id = i64::try_from(id).map_err(|_| StoreError::Corrupt("pending change id".into()))?;
    c.execute("DELETE FROM pending_user_changes WHERE id = $1", &[&id])
        .await
        .map(drop)
        .map_err(db_err)
}

#[async_trait]
impl AccountStore for PgStore {
    async fn set_password(
        &self,
        login: &str,
        password_hash: &str,
        must_change: bool,
        keep: Option<&[u8; 32]>,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let n = tx
            .execute(
                "UPDATE users SET password_hash = $2, must_change_password = $3 WHERE login = $1",
                &[&login, &password_hash, &must_change],
            )
            .await
            .map_err(db_err)?;
        tx.execute(
            "DELETE FROM sessions WHERE login = $1 AND token_hash IS DISTINCT FROM $2",
            &[&login, &keep.map(<[u8; 32]>::as_slice)],
        )
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(n > 0)
    }

    async fn set_role(&self, login: &str, role: Role) -> Result<bool, StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE users SET role = $2 WHERE login = $1",
                &[&login, &role.as_str()],
            )
            .await
            .map(|n| n > 0)
            .map_err(db_err)
    }

    async fn four_eyes(&self, authority: &AuthorityId) -> Result<Option<bool>, StoreError> {
        let client = self.client().await?;
        client
            .query_opt(
                "SELECT four_eyes FROM authorities WHERE id = $1",
                &[&authority.as_str()],
            )
            .await
            .map_err(db_err)?
            .map(|r| r.try_get(0).map_err(db_err))
            .transpose()
    }

    async fn set_four_eyes(&self, authority: &AuthorityId, on: bool) -> Result<bool, StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE authorities SET four_eyes = $2 WHERE id = $1",
                &[&authority.as_str(), &on],
            )
            .await
            .map(|n| n > 0)
            .map_err(db_err)
    }

    async fn request_user_change(&self, ch: &NewUserChange) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "INSERT INTO pending_user_changes
                     (authority_id, login, kind, role, password_hash, requested_by, requested_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (login) DO NOTHING
                 RETURNING id",
                &[
                    &ch.authority_id.as_str(),
                    &ch.login,
                    &ch.kind.as_str(),
                    &ch.role.as_str(),
                    &change_hash(ch),
                    &ch.requested_by,
                    &to_ms(ch.requested_at),
                ],
            )
            .await
            .map_err(db_err)?
            .ok_or_else(|| {
                StoreError::AlreadyExists(format!("pending change for user {}", ch.login))
            })?;
        let id: i64 = row.try_get(0).map_err(db_err)?;
        u64::try_from(id).map_err(|_| StoreError::Corrupt("pending change id".into()))
    }

    async fn pending_user_changes(
        &self,
        authority: &AuthorityId,
    ) -> Result<Vec<PendingUserChange>, StoreError> {
        let client = self.client().await?;
        client
            .query(
                &format!(
                    "SELECT {CHANGE_COLUMNS} FROM pending_user_changes
                     WHERE authority_id = $1 ORDER BY id"
                ),
                &[&authority.as_str()],
            )
            .await
            .map_err(db_err)?
            .iter()
            .map(parse)
            .collect()
    }

    async fn confirm_user_change(
        &self,
        id: u64,
        authority: &AuthorityId,
        confirmer: &str,
        at: DateTime<Utc>,
    ) -> Result<Confirmation, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let Some(pending) = locked_change(&*tx, id, authority.as_str()).await? else {
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
                     VALUES ($1, $2, $3, $4, FALSE, $5, TRUE) ON CONFLICT (login) DO NOTHING",
                    &[
                        &change.login,
                        &authority.as_str(),
                        &change.role.as_str(),
                        password_hash,
                        &to_ms(at),
                    ],
                )
                .await
                .map_err(db_err)?,
            UserChangeKind::Role => tx
                .execute(
                    "UPDATE users SET role = $3 WHERE login = $1 AND authority_id = $2",
                    &[&change.login, &authority.as_str(), &change.role.as_str()],
                )
                .await
                .map_err(db_err)?,
        };
        if applied == 0 {
            return Ok(Confirmation::Stale);
        }
        delete_change(&*tx, pending.id).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Confirmation::Applied(pending))
    }

    async fn withdraw_user_change(
        &self,
        id: u64,
        authority: &AuthorityId,
    ) -> Result<Option<PendingUserChange>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let found = locked_change(&*tx, id, authority.as_str()).await?;
        if let Some(p) = &found {
            delete_change(&*tx, p.id).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(found)
    }
}
