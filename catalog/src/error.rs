//! Errors of loading, verifying and using a catalog.

use thiserror::Error;

/// What can go wrong with a catalog. Validation findings about form data are not errors
/// but data ([`crate::FieldError`]).
#[derive(Debug, Error)]
pub enum CatalogError {
    /// A catalog file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A catalog file is not valid JSON of the expected shape.
    #[error("{path} is not a valid catalog file: {reason}")]
    Parse {
        /// The file (or "bundle").
        path: String,
        /// What the parser said.
        reason: String,
    },
    /// The catalog's content is inconsistent; every problem is listed.
    #[error("the catalog is inconsistent:\n  {}", .0.join("\n  "))]
    Inconsistent(Vec<String>),
    /// A signed catalog does not verify.
    #[error("signed catalog rejected: {0}")]
    Signature(#[from] sync_protocol::ProtocolError),
    /// No service with this id.
    #[error("unknown service {0:?}")]
    UnknownService(String),
    /// The service has no form with this version.
    #[error("service {service:?} has no form version {version}")]
    UnknownFormVersion {
        /// The service.
        service: String,
        /// The version asked for.
        version: u32,
    },
    /// The service cannot be captured offline; the reason is for the clerk.
    #[error("{service} cannot be captured offline: {reason}")]
    NotAvailableOffline {
        /// The service.
        service: String,
        /// The legal reason, in German.
        reason: String,
    },
    /// A form's JSON Schema does not compile.
    #[error("form {service} v{version} has an invalid schema: {reason}")]
    Schema {
        /// The service.
        service: String,
        /// The form version.
        version: u32,
        /// The validator's complaint.
        reason: String,
    },
    /// No authority of the needed kind covers the residence.
    #[error("no {kind} authority in this catalog is responsible for ARS {ars} ({service})")]
    NoAuthority {
        /// The service.
        service: String,
        /// The authority kind needed.
        kind: String,
        /// The residence's ARS.
        ars: String,
    },
}
