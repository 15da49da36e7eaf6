//! Back-office users, their sessions and the login throttle, once for both databases:
//! adding, listing and disabling users; creating, touching (with the idle and absolute
//! timeouts), deleting and purging sessions; and the failed-login counters the throttle
//! ([`crate::login_throttle`]) reads and counts in one transaction.
//! (Issue 15: ported from the `sqlite/` and `postgres/` twins.)

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

use super::rows::{self, USER_COLUMNS};
use super::sql::{col, finish, write_tx, Tx};
use super::{from_ms, to_ms, LoginFailures, NewSession, SessionRow, StoreError, UserRow};
use crate::login_throttle::{self, Admission, ACCOUNT_WIDE};

impl super::Store {
    /// Adds a user. [`StoreError::NotFound`] for an unknown authority,
    /// [`StoreError::AlreadyExists`] for a login in use.
    pub async fn add_user(&self, u: &UserRow) -> Result<(), StoreError> {
        write_tx!(self.db, async |tx| {
            super::authorities::require_authority(tx, &u.authority_id).await?;
            let inserted = sqlx::query(
                "INSERT INTO users (login, authority_id, role, password_hash, disabled,
                         created_at, must_change_password)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (login) DO NOTHING",
            )
            .bind(u.login.clone())
            .bind(u.authority_id.to_string())
            .bind(u.role.as_str())
            .bind(u.password_hash.clone())
            .bind(u.disabled)
            .bind(to_ms(u.created_at))
            .bind(u.must_change_password)
            .execute(&mut **tx)
            .await?;
            if inserted.rows_affected() == 0 {
                return Err(StoreError::AlreadyExists(format!("user {}", u.login)));
            }
            Ok(())
        })
    }

    /// Every user, by login.
    pub async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY login");
        // Built from constants only.
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(rows::user_row)
            .collect()
    }

    /// Disables a user (their sessions stop being returned); false for an unknown login.
    pub async fn disable_user(&self, login: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE users SET disabled = TRUE WHERE login = $1")
            .bind(login.to_owned())
            .execute(&self.db.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The user `login`, if there is one.
    pub async fn user(&self, login: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE login = $1");
        // Built from constants only.
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(login.to_owned())
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| rows::user_row(&r))
            .transpose()
    }

    /// Stores a new session (only the SHA-256 of its token).
    pub async fn create_session(&self, s: &NewSession) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, login, csrf_token, created_at, last_seen_at,
                 expires_at)
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(s.token_hash.to_vec())
        .bind(s.login.clone())
        .bind(s.csrf_token.clone())
        .bind(to_ms(s.created_at))
        .bind(to_ms(s.expires_at))
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// The live session of `token_hash` with its user, its last use moved to `now`; `None`
    /// when it has expired (`now` past its end, or idle longer than `idle_ms`), its user is
    /// disabled, or there is no such session.
    pub async fn touch_session(
        &self,
        token_hash: &[u8; 32],
        now: DateTime<Utc>,
        idle: chrono::Duration,
    ) -> Result<Option<SessionRow>, StoreError> {
        let now = to_ms(now);
        let idle_ms = idle.num_milliseconds();
        // PostgreSQL's twin did this in one `UPDATE … FROM users … RETURNING` with the
        // user's columns; SQLite's RETURNING cannot name a FROM table, so the session is
        // checked and touched in one statement (the user's state included, as both twins
        // did) and the user read after it. A user disabled in between is caught by the
        // check below, so no disabled user's session is ever returned.
        let Some(s) = sqlx::query(
            "UPDATE sessions SET last_seen_at = $2
             WHERE token_hash = $1 AND expires_at > $2 AND last_seen_at > $3
               AND EXISTS (SELECT 1 FROM users u WHERE u.login = sessions.login AND NOT u.disabled)
             RETURNING login, csrf_token, created_at, expires_at",
        )
        .bind(token_hash.to_vec())
        .bind(now)
        .bind(now.saturating_sub(idle_ms))
        .fetch_optional(&self.db.pool)
        .await?
        else {
            return Ok(None);
        };
        let login: String = col(&s, 0)?;
        let Some(user) = self.user(&login).await? else {
            return Ok(None);
        };
        if user.disabled {
            return Ok(None);
        }
        Ok(Some(SessionRow {
            user,
            csrf_token: col(&s, 1)?,
            created_at: from_ms(col(&s, 2)?)?,
            expires_at: from_ms(col(&s, 3)?)?,
        }))
    }

    /// Ends the session of `token_hash` (nothing if there is none).
    pub async fn delete_session(&self, token_hash: &[u8; 32]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash.to_vec())
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// Forgets sessions that ended before `before`; how many.
    pub async fn purge_sessions(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(to_ms(before))
            .execute(&self.db.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// The failed logins counted for `login` from `client` ([`ACCOUNT_WIDE`] for all).
    pub async fn login_failures(
        &self,
        login: &str,
        client: &str,
    ) -> Result<Option<LoginFailures>, StoreError> {
        sqlx::query(
            "SELECT failures, last_failure_at FROM login_failures WHERE login = $1 AND client = $2",
        )
        .bind(login.to_owned())
        .bind(client.to_owned())
        .fetch_optional(&self.db.pool)
        .await?
        .map(|r| failures(&r))
        .transpose()
    }

    /// Whether an attempt to log in as `login` from `client` may have its password checked
    /// at `now`; if so it is counted as a failure (for the client and account-wide) in the
    /// same transaction, until [`login_succeeded`] undoes it.
    pub async fn admit_login(
        &self,
        login: &str,
        client: &str,
        now: DateTime<Utc>,
    ) -> Result<Admission, StoreError> {
        // Both rows are locked before they are read (PostgreSQL's twin; SQLite's read them
        // under `BEGIN IMMEDIATE`, which `Db::begin` still does), so parallel attempts for
        // one login are decided one after the other — including the first ones, whose rows
        // do not exist yet. Unlike PostgreSQL's twin, an attempt told to wait writes
        // nothing: the rows created to lock are rolled back (as SQLite's twin never made
        // them), so no zero-failure rows are left behind.
        let at = to_ms(now);
        let mut tx = self.db.begin().await?;
        let result: Result<_, StoreError> = async {
            let own = lock_failures(&mut tx, login, client, at).await?;
            let account = lock_failures(&mut tx, login, ACCOUNT_WIDE, at).await?;
            let admission = login_throttle::admit(Some(&own), Some(&account), now);
            if admission != Admission::Check {
                return Ok((admission, false));
            }
            sqlx::query(
                "UPDATE login_failures SET failures = failures + 1, last_failure_at = $3
                 WHERE login = $1 AND client IN ($2, $4)",
            )
            .bind(login.to_owned())
            .bind(client.to_owned())
            .bind(at)
            .bind(ACCOUNT_WIDE)
            .execute(&mut *tx)
            .await?;
            Ok((admission, true))
        }
        .await;
        match result {
            // Nothing is counted: the rows made to lock are rolled back.
            Ok((admission, false)) => {
                tx.rollback().await?;
                Ok(admission)
            }
            other => finish(tx, other.map(|(admission, _)| admission)).await,
        }
    }

    /// Undoes the counting of a successful login's attempts: the client's failures are
    /// forgotten and taken off the account-wide count.
    pub async fn login_succeeded(&self, login: &str, client: &str) -> Result<(), StoreError> {
        write_tx!(self.db, async |tx| {
            let deleted = sqlx::query(
                "DELETE FROM login_failures WHERE login = $1 AND client = $2 RETURNING failures",
            )
            .bind(login.to_owned())
            .bind(client.to_owned())
            .fetch_optional(&mut **tx)
            .await?;
            let counted: i64 = deleted.map_or(Ok(0), |r| col(&r, 0))?;
            if counted > 0 {
                // `CASE` for PostgreSQL's `GREATEST` / SQLite's two-argument `MAX`.
                sqlx::query(
                    "UPDATE login_failures
                     SET failures = CASE WHEN failures > $3 THEN failures - $3 ELSE 0 END
                     WHERE login = $1 AND client = $2",
                )
                .bind(login.to_owned())
                .bind(ACCOUNT_WIDE)
                .bind(counted)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        })
    }

    /// Forgets failure rows whose last failure was before `before`; how many.
    pub async fn purge_login_failures(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM login_failures WHERE last_failure_at < $1")
            .bind(to_ms(before))
            .execute(&self.db.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

/// The counts of a `login_failures` row selected as `failures, last_failure_at`.
fn failures(r: &AnyRow) -> Result<LoginFailures, StoreError> {
    let n: i64 = col(r, 0)?;
    Ok(LoginFailures {
        failures: u32::try_from(n).unwrap_or(u32::MAX),
        last_failure_at: from_ms(col(r, 1)?)?,
    })
}

/// Locks the row of (`login`, `client`) inside `tx`, creating it with no failures if
/// missing (a concurrent creator on PostgreSQL waits on the primary key), and returns
/// its counts. A row with no failures admits like a missing one.
async fn lock_failures(
    tx: &mut Tx<'_>,
    login: &str,
    client: &str,
    at: i64,
) -> Result<LoginFailures, StoreError> {
    let r = sqlx::query(
        "INSERT INTO login_failures (login, client, failures, last_failure_at)
         VALUES ($1, $2, 0, $3)
         ON CONFLICT (login, client) DO UPDATE SET failures = login_failures.failures
         RETURNING failures, last_failure_at",
    )
    .bind(login.to_owned())
    .bind(client.to_owned())
    .bind(at)
    .fetch_one(&mut **tx)
    .await?;
    failures(&r)
}
