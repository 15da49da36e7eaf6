//! The embedded store: one SQLite file, the default for a single backend process. WAL
//! journal, `synchronous=FULL` (a committed batch — and so every receipt sent —
//! survives power loss), foreign keys on, a busy timeout so the admin CLI can write
//! while the server runs (`storage::sql`). The operations are those of every store
//! ([`super::Store`]).

use std::path::Path;

use super::{Store, StoreError};

/// Opens the embedded store.
#[derive(Debug, Clone, Copy)]
pub struct SqliteStore;

impl SqliteStore {
    /// Opens the file (creating it and its folder), sets the pragmas and migrates.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] if it cannot be opened, [`StoreError::Migration`].
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_sqlite(path).await
    }
}
