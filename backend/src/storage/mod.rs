//! Storage: ONE type, [`Store`], on SQLite (embedded default, one file:
//! [`Store::open_sqlite`]) or PostgreSQL (production; several backend processes may
//! share one database: [`Store::open_postgres`]), chosen at start-up by the database URL
//! ([`open`]) and checked by one conformance suite on both
//! (`backend/tests/it/conformance.rs`).
//!
//! Every operation is a method of [`Store`] written once, in the module of its entity —
//! [`kits`], [`authorities`] (and keys), [`users`] (and sessions), [`batch`] (records
//! and receipts), [`cases`], [`inbox`], [`uploads`], [`catalogs`] (and the changes feed),
//! `audit`, `accounts` — as SQL in PostgreSQL's `$N` form over [`sql`] (sqlx's `Any`
//! driver). What differs between the databases is listed once, in [`sql::Dialect`].
//! Migrations are `.sql` files per version, per dialect only where they differ
//! ([`migrations`]). The values operations take and return are [`crate::model`]'s.
//!
//! Every operation fails with a [`StoreError`] when the database does
//! ([`StoreError::Unavailable`] is retryable) or a stored value does not parse
//! ([`StoreError::Corrupt`]); an operation's doc names only the errors of its own (not
//! found, already exists, conflict). Every method is one transaction. Everything correctness depends on — chain heads,
//! receipts, nonces, enrolment codes, upload offsets, feed cursors, log positions — is
//! in the database. The direction is one way — handler → `ingest` → storage → model:
//! the batch algorithm lives once in [`crate::ingest`] and runs on a [`batch::BatchTx`]
//! it opens; no store operation calls back into ingest.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use fieldkit_catalog::AuthorityKind;
use sync_protocol::api::CaseStatus;
use sync_protocol::record::RecordKind;

use crate::config::DatabaseUrl;

mod accounts;
mod audit;
pub mod authorities;
pub mod batch;
pub mod cases;
pub mod catalogs;
pub mod dump;
pub mod inbox;
pub mod kits;
pub mod migrations;
pub(crate) mod rows;
pub mod sql;
mod store;
pub mod uploads;
pub mod users;

pub use store::Store;

// The values the operations take and return are the model's (a layer below storage and
// its callers); re-exported so that an operation and its types are named in one place.
pub use crate::model::{
    audit::*, authorities::*, cases::*, catalogs::*, inbox::*, kits::*, users::*,
};

/// What a store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (retryable).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database refused an operation.
    #[error("database error: {0}")]
    Database(String),
    /// The thing to add exists already.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The thing named does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The operation contradicts what is stored.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The kit may not push records in its current standing.
    #[error("the kit is {0}")]
    KitNotActive(KitStatus),
    /// A stored value does not parse (a bug or manual tampering).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Migrations failed or the database is newer than this build.
    #[error("migration: {0}")]
    Migration(String),
}

/// Opens (creating and migrating as needed) the store a URL names.
/// [`StoreError::Unavailable`] or [`StoreError::Migration`].
pub async fn open(url: &DatabaseUrl, pool_size: usize) -> Result<Arc<Store>, StoreError> {
    match url {
        DatabaseUrl::Sqlite(path) => Ok(Arc::new(Store::open_sqlite(path).await?)),
        DatabaseUrl::Postgres(url) => Ok(Arc::new(Store::open_postgres(url, pool_size).await?)),
    }
}

/// Milliseconds since the epoch, as stored.
pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// The stored milliseconds as a time.
pub(crate) fn from_ms(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt(format!("time {ms}")))
}

/// A stored non-negative integer.
pub(crate) fn to_u64(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative {v}")))
}

/// An integer to store (all of ours are ≤ 2^53 − 1).
pub(crate) fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("too large {v}")))
}

/// 32 stored bytes.
pub(crate) fn to_32(bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("{} bytes where 32 belong", bytes.len())))
}

/// A stored id or other validated text.
pub(crate) fn parse<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what} {s:?}")))
}

/// The JSON of a case status, kind or change, as stored.
pub(crate) fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A stored JSON value.
pub(crate) fn from_json_text<T: serde::de::DeserializeOwned>(
    what: &str,
    s: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// The stored name of a case status (`"in_review"`) and back.
pub(crate) fn status_name(s: CaseStatus) -> String {
    json_text(&s).trim_matches('"').to_owned()
}

/// Parses a stored case status name.
pub(crate) fn parse_status(s: &str) -> Result<CaseStatus, StoreError> {
    from_json_text("case status", &format!("\"{s}\""))
}

/// The stored name of a record kind.
pub(crate) fn kind_name(k: RecordKind) -> String {
    json_text(&k).trim_matches('"').to_owned()
}

/// Parses a stored record kind.
pub(crate) fn parse_kind(s: &str) -> Result<RecordKind, StoreError> {
    from_json_text("record kind", &format!("\"{s}\""))
}

/// The stored name of an authority kind.
pub(crate) fn authority_kind_name(k: AuthorityKind) -> String {
    json_text(&k).trim_matches('"').to_owned()
}

/// Parses a stored authority kind.
pub(crate) fn parse_authority_kind(s: &str) -> Result<AuthorityKind, StoreError> {
    from_json_text("authority kind", &format!("\"{s}\""))
}
