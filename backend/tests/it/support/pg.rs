//! A throwaway PostgreSQL schema per test backend, so tests sharing one database do not
//! see each other's rows. The store reaches it through `search_path` in the URL's
//! `options`; the schema is dropped when the backend is.

use tokio_postgres::NoTls;

/// A schema created for one test.
pub struct Schema {
    /// The connection URL that selects the schema.
    pub url: String,
    base: String,
    name: String,
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .expect("FIELDKIT_TEST_DATABASE_URL is reachable");
    tokio::spawn(connection);
    client
}

impl Schema {
    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub async fn create(base: &str) -> Self {
        let name = format!("fk_test_{}", uuid::Uuid::new_v4().simple());
        connect(base)
            .await
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .await
            .expect("schema created");
        let sep = if base.contains('?') { '&' } else { '?' };
        Self {
            url: format!("{base}{sep}options=-csearch_path%3D{name}"),
            base: base.to_owned(),
            name,
        }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        // Drop cannot await; a short-lived runtime on its own thread does the work.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok((client, connection)) = tokio_postgres::connect(&base, NoTls).await {
                    tokio::spawn(connection);
                    let _ = client
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                        .await;
                }
            });
        })
        .join();
    }
}
