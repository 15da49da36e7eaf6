//! Published catalog versions.

use chrono::{DateTime, Utc};

/// A published catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedCatalog {
    /// The catalog's version (`meta.version`).
    pub version: String,
    /// The signed DSSE envelope as JSON, served as is.
    pub envelope_json: Vec<u8>,
    /// Entity tag (quoted) for conditional requests.
    pub etag: String,
    /// When it was published.
    pub published_at: DateTime<Utc>,
}

/// Whether publishing changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishOutcome {
    /// Stored as the new current version, and announced in the changes feed.
    Published,
    /// This exact version and content was published before; nothing changed.
    Unchanged,
}

/// A published catalog version as listed (without its envelope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogVersionRow {
    /// `meta.version`.
    pub version: String,
    /// Its ETag.
    pub etag: String,
    /// When it was published.
    pub published_at: DateTime<Utc>,
    /// Whether kits get it now.
    pub current: bool,
}
