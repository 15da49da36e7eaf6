//! Versioned schema migrations for both stores. Each migration is a version number, a
//! name and one SQL script per dialect (`vN.sqlite.sql`, `vN.postgres.sql`; one `vN.sql`
//! where the dialects do not differ); both create the same logical schema
//! (SQLite spells byte strings `BLOB` and counts with a `counters` table, PostgreSQL
//! uses `BYTEA` and sequences). A store applies, in one transaction each, every
//! migration newer than the highest version recorded in `schema_migrations`, and
//! refuses to start on a database newer than this build.
//!
//! Rules: never edit a migration that has shipped; add a new one. Times are stored as
//! milliseconds since the epoch (`BIGINT`), ids as their canonical text, hashes and keys
//! as raw bytes.

/// One schema step.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Strictly increasing from 1.
    pub version: i64,
    /// What it does.
    pub name: &'static str,
    /// The script for SQLite.
    pub sqlite: &'static str,
    /// The script for PostgreSQL.
    pub postgres: &'static str,
}

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial schema",
        sqlite: include_str!("migrations/v1.sqlite.sql"),
        postgres: include_str!("migrations/v1.postgres.sql"),
    },
    Migration {
        version: 2,
        name: "back office: sessions, login throttling, decryption log, inbox indexes",
        sqlite: include_str!("migrations/v2.sqlite.sql"),
        postgres: include_str!("migrations/v2.postgres.sql"),
    },
    Migration {
        version: 3,
        name: "back office: assignment, clerk filter, counts per kit and status, filter indexes",
        sqlite: include_str!("migrations/v3.sqlite.sql"),
        postgres: include_str!("migrations/v3.postgres.sql"),
    },
    Migration {
        version: 4,
        name: "back office: admin audit trail (admin_events), audit viewer indexes",
        sqlite: include_str!("migrations/v4.sqlite.sql"),
        postgres: include_str!("migrations/v4.postgres.sql"),
    },
    Migration {
        version: 5,
        name: "kit lifecycle: case flags, draining revocation, forwarding",
        sqlite: include_str!("migrations/v5.sqlite.sql"),
        postgres: include_str!("migrations/v5.postgres.sql"),
    },
    Migration {
        version: 6,
        name: "back office: login failures per (login, client address) and per account",
        sqlite: include_str!("migrations/v6.sql"),
        postgres: include_str!("migrations/v6.sql"),
    },
    Migration {
        version: 7,
        name: "back office: own passwords, four-eyes confirmation of user changes",
        sqlite: include_str!("migrations/v7.sqlite.sql"),
        postgres: include_str!("migrations/v7.postgres.sql"),
    },
    Migration {
        version: 8,
        name: "kit lifecycle: chain bridges, the way out of a blocked queue",
        sqlite: include_str!("migrations/v8.sqlite.sql"),
        postgres: include_str!("migrations/v8.postgres.sql"),
    },
    Migration {
        version: 9,
        name: "ingest: case counts kept per INSERT statement on PostgreSQL",
        sqlite: include_str!("migrations/v9.sqlite.sql"),
        postgres: include_str!("migrations/v9.postgres.sql"),
    },
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
///
/// # Errors
/// [`StoreError::Migration`], also for a database newer than this build.
pub async fn migrate(db: &super::sql::Db) -> Result<(), super::StoreError> {
    use super::sql::{col, finish, Dialect};
    use super::StoreError;
    let merr = |e: sqlx::Error| StoreError::Migration(e.to_string());
    // A constant text of this module.
    sqlx::raw_sql(sqlx::AssertSqlSafe(SCHEMA_TABLE))
        .execute(&db.pool)
        .await
        .map_err(merr)?;
    loop {
        let mut tx = db.begin().await?;
        let result: Result<Option<&Migration>, StoreError> = async {
            if let Some(lock) = db.dialect.lock_migrations() {
                sqlx::query(lock).execute(&mut *tx).await.map_err(merr)?;
            }
            let row = sqlx::query(
                "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM schema_migrations",
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(merr)?;
            let current: i64 = col(&row, 0)?;
            if current > latest() {
                return Err(StoreError::Migration(format!(
                    "the database has schema version {current}, newer than this build ({})",
                    latest()
                )));
            }
            let Some(next) = MIGRATIONS.iter().find(|m| m.version > current) else {
                return Ok(None);
            };
            let text = match db.dialect {
                Dialect::Sqlite => next.sqlite,
                Dialect::Postgres => next.postgres,
            };
            // The migration texts are constants of this module.
            sqlx::raw_sql(sqlx::AssertSqlSafe(text))
                .execute(&mut *tx)
                .await
                .map_err(merr)?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(next.version)
            .bind(next.name)
            .bind(chrono::Utc::now().timestamp_millis())
            .execute(&mut *tx)
            .await
            .map_err(merr)?;
            Ok(Some(next))
        }
        .await;
        match finish(tx, result).await? {
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
            assert_eq!(tables(m.sqlite), tables(m.postgres), "{}", m.name);
        }
    }
}
