//! The production store: PostgreSQL, shared by several backend processes. The
//! operations are those of every store ([`super::Store`]).

use super::{Store, StoreError};

/// Opens the PostgreSQL store.
#[derive(Debug, Clone, Copy)]
pub struct PgStore;

impl PgStore {
    /// Connects a pool of `pool_size` connections and migrates the database.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] if the URL is bad or the database unreachable;
    /// [`StoreError::Migration`].
    pub async fn open(url: &str, pool_size: usize) -> Result<Store, StoreError> {
        Store::open_postgres(url, pool_size).await
    }
}
