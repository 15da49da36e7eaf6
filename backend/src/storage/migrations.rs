//! Versioned schema migrations for both stores. Each migration is a version number, a
//! name, the SQL both dialects share (`vN.sql`, its `{bytes}` and `{serial_key}` spelled
//! per dialect by [`Dialect::spell_types`]) and, only where the dialects differ, a
//! script per dialect run after it (`vN.sqlite.sql`, `vN.postgres.sql`: triggers, and
//! SQLite's `counters` table where PostgreSQL has sequences). Both end in the same
//! logical schema. A store applies, in one transaction each, every migration newer than
//! the highest version recorded in `schema_migrations`, and refuses to start on a
//! database newer than this build.
//!
//! Rules: never edit a migration that has shipped; add a new one. Times are stored as
//! milliseconds since the epoch (`BIGINT`), ids as their canonical text, hashes and keys
//! as raw bytes.

use super::sql::{col, write_tx, Db, Dialect};
use super::StoreError;

/// One schema step.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Strictly increasing from 1.
    pub version: i64,
    /// What it does.
    pub name: &'static str,
    /// The script both dialects run first.
    pub shared: &'static str,
    /// What SQLite runs after it.
    pub sqlite: &'static str,
    /// What PostgreSQL runs after it.
    pub postgres: &'static str,
}

impl Migration {
    /// The whole script in `dialect`.
    pub fn text(&self, dialect: Dialect) -> String {
        let own = match dialect {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
        };
        dialect.spell_types(self.shared) + own
    }
}

/// A migration: `vN.sql`, then `vN.sqlite.sql` / `vN.postgres.sql` (`shared`: only the
/// first; `dialects`: only the two others; `both`: all three).
macro_rules! migration {
    ($v:literal shared $name:literal) => {
        migration!(@ $v $name include_str!(concat!("migrations/v", $v, ".sql")), "", "")
    };
    ($v:literal dialects $name:literal) => {
        migration!(@ $v $name "", migration!(@sqlite $v), migration!(@postgres $v))
    };
    ($v:literal both $name:literal) => {
        migration!(@ $v $name include_str!(concat!("migrations/v", $v, ".sql")),
            migration!(@sqlite $v), migration!(@postgres $v))
    };
    (@sqlite $v:literal) => { include_str!(concat!("migrations/v", $v, ".sqlite.sql")) };
    (@postgres $v:literal) => { include_str!(concat!("migrations/v", $v, ".postgres.sql")) };
    (@ $v:literal $name:literal $shared:expr, $sqlite:expr, $postgres:expr) => {
        Migration { version: $v, name: $name, shared: $shared, sqlite: $sqlite, postgres: $postgres }
    };
}

/// Every migration, oldest first: its version, which of its scripts exist, what it does.
pub const MIGRATIONS: &[Migration] = &[
    migration!(1 both "initial schema"),
    migration!(2 both "back office: sessions, login throttling, decryption log, inbox indexes"),
    migration!(3 both "back office: assignment, clerk filter, counts per kit and status, filter indexes"),
    migration!(4 both "back office: admin audit trail (admin_events), audit viewer indexes"),
    migration!(5 both "kit lifecycle: case flags, draining revocation, forwarding"),
    migration!(6 shared "back office: login failures per (login, client address) and per account"),
    migration!(7 shared "back office: own passwords, four-eyes confirmation of user changes"),
    migration!(8 both "kit lifecycle: chain bridges, the way out of a blocked queue"),
    migration!(9 dialects "ingest: case counts kept per INSERT statement on PostgreSQL"),
    migration!(10 shared "back office: find a case by its verification code"),
    migration!(11 shared "back office: the records that reference a case (corrections, withdrawals, answers)"),
    migration!(12 shared "kit lifecycle: the blocked queue a kit reports"),
];

/// The newest schema version this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The bookkeeping table, same in both dialects.
pub const SCHEMA_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)";

/// Applies every migration newer than the database, one transaction each, in the
/// dialect's text. Re-reads the version inside each transaction (after the migration
/// lock), so two processes starting together do not apply a migration twice.
/// [`StoreError::Migration`], also for a database newer than this build.
pub async fn migrate(db: &Db) -> Result<(), StoreError> {
    migrate_up_to(db, latest()).await
}

/// [`migrate`], stopping after version `last` (a restore loads a backup's rows into the
/// schema of the backup's version, then migrates on).
pub async fn migrate_up_to(db: &Db, last: i64) -> Result<(), StoreError> {
    let merr = |e: sqlx::Error| StoreError::Migration(e.to_string());
    // A constant text of this module.
    sqlx::raw_sql(sqlx::AssertSqlSafe(SCHEMA_TABLE))
        .execute(&db.pool)
        .await
        .map_err(merr)?;
    loop {
        let applied = write_tx!(db, async |tx| {
            if let Some(lock) = db.dialect.lock_migrations() {
                sqlx::query(lock).execute(&mut **tx).await.map_err(merr)?;
            }
            let row = sqlx::query(
                "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM schema_migrations",
            )
            .fetch_one(&mut **tx)
            .await
            .map_err(merr)?;
            let current: i64 = col(&row, 0)?;
            if current > latest() {
                return Err(StoreError::Migration(format!(
                    "the database has schema version {current}, newer than this build ({})",
                    latest()
                )));
            }
            let next = MIGRATIONS
                .iter()
                .find(|m| m.version > current && m.version <= last);
            let Some(next) = next else {
                return Ok(None);
            };
            // The migration texts are constants of this module.
            sqlx::raw_sql(sqlx::AssertSqlSafe(next.text(db.dialect)))
                .execute(&mut **tx)
                .await
                .map_err(merr)?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(next.version)
            .bind(next.name)
            .bind(chrono::Utc::now().timestamp_millis())
            .execute(&mut **tx)
            .await
            .map_err(merr)?;
            Ok(Some(next))
        })?;
        match applied {
            None => return Ok(()),
            Some(m) => tracing::info!(version = m.version, name = m.name, "migration applied"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_from_one_without_holes() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
        }
    }

    #[test]
    fn both_dialects_create_the_same_tables() {
        let tables = |sql: &str| {
            let mut t: Vec<String> = sql
                .split("CREATE TABLE ")
                .skip(1)
                .filter_map(|s| s.split_whitespace().next().map(str::to_owned))
                .filter(|t| t != "counters")
                .collect();
            t.sort();
            t
        };
        for m in MIGRATIONS {
            let (sqlite, postgres) = (m.text(Dialect::Sqlite), m.text(Dialect::Postgres));
            assert_eq!(tables(&sqlite), tables(&postgres), "{}", m.name);
            assert!(!sqlite.contains("{bytes}") && !postgres.contains("{serial_key}"));
        }
    }
}
