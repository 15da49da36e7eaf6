//! A throwaway PostgreSQL schema for one scenario, on the cluster `scripts/test.sh`
//! starts (`FIELDKIT_TEST_DATABASE_URL`). Dropped with the value.

use tokio_postgres::NoTls;

/// The variable naming the test cluster.
pub const PG_ENV: &str = "FIELDKIT_TEST_DATABASE_URL";

/// A schema created for one scenario.
pub struct Schema {
    /// The URL selecting the schema (through `search_path`).
    pub url: String,
    base: String,
    name: String,
}

/// Runs `sql` (one or more statements) on the cluster at `base`.
///
/// # Panics
/// When the cluster is unreachable or a statement fails.
pub fn execute(base: &str, sql: &str) {
    let (base, sql) = (base.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&base, NoTls)
                .await
                .expect("the test PostgreSQL is reachable");
            tokio::spawn(connection);
            client.batch_execute(&sql).await.expect("statement");
        });
    })
    .join()
    .expect("statement thread");
}

impl Schema {
    /// A fresh schema, or `None` when no test cluster is configured. Under CI
    /// (`CI` set) a missing cluster is an error, never a silent skip.
    ///
    /// # Panics
    /// Under CI without `FIELDKIT_TEST_DATABASE_URL`; when the cluster is unreachable.
    pub fn create() -> Option<Self> {
        let Ok(base) = std::env::var(PG_ENV) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{PG_ENV} must be set under CI (scripts/test.sh starts PostgreSQL)"
            );
            return None;
        };
        let name = format!("fk_e2e_{}", uuid::Uuid::new_v4().simple());
        execute(&base, &format!("CREATE SCHEMA {name}"));
        let sep = if base.contains('?') { '&' } else { '?' };
        Some(Self {
            url: format!("{base}{sep}options=-csearch_path%3D{name}"),
            base,
            name,
        })
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        execute(
            &self.base,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        );
    }
}
