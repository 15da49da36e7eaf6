//! The production store: PostgreSQL through tokio-postgres with a deadpool connection
//! pool. Several backend processes may share one database: batches of one kit
//! serialize on its row (`SELECT … FOR UPDATE`), nonces and enrolment codes are
//! decided by unique keys, log positions and feed cursors come from sequences, and
//! migrations take an advisory lock.
//!
//! Connections use no TLS: run the database on the same host (unix socket) or a
//! private network. (TLS to the database is listed as missing in the issue notes.)

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::migrations::{latest, MIGRATIONS, SCHEMA_TABLE};
use super::StoreError;

mod store;

/// An arbitrary, fixed key for the migration advisory lock.
const MIGRATION_LOCK: i64 = 0x6669_656c_646b_6974; // "fieldkit"

/// The PostgreSQL implementation of [`super::Store`].
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// The pool of the operations already written once for both databases.
    pub(crate) db: super::sql::Db,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

pub(crate) fn db_err(e: tokio_postgres::Error) -> StoreError {
    if e.is_closed() || e.code().is_none() {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Database(e.to_string())
    }
}

impl PgStore {
    /// Connects a pool of `pool_size` connections and migrates the database.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] if the URL is bad or the database unreachable;
    /// [`StoreError::Migration`].
    pub async fn open(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(10)))
            .create_timeout(Some(std::time::Duration::from_secs(10)))
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let db = super::sql::Db::open(
            super::sql::Target::Postgres(url),
            u32::try_from(pool_size).unwrap_or(u32::MAX),
        )
        .await?;
        let store = Self { pool, db };
        store.migrate().await?;
        Ok(store)
    }

    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let merr = |e: tokio_postgres::Error| StoreError::Migration(e.to_string());
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(merr)?;
        tx.batch_execute(SCHEMA_TABLE).await.map_err(merr)?;
        let current: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations",
                &[],
            )
            .await
            .map_err(merr)?
            .get(0);
        if current > latest() {
            return Err(StoreError::Migration(format!(
                "the database has schema version {current}, newer than this build ({})",
                latest()
            )));
        }
        for m in MIGRATIONS.iter().filter(|m| m.version > current) {
            tx.batch_execute(m.postgres).await.map_err(merr)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                &[&m.version, &m.name, &chrono::Utc::now().timestamp_millis()],
            )
            .await
            .map_err(merr)?;
            tracing::info!(
                version = m.version,
                name = m.name,
                "postgresql migration applied"
            );
        }
        tx.commit().await.map_err(merr)
    }
}

impl super::sql::SqlBacked for PgStore {
    fn db(&self) -> &super::sql::Db {
        &self.db
    }
}
