//! `fieldkit-catalog` is the one reader of the service catalog: what a clerk can record,
//! with which form, for which authority. The data lives beside this crate in
//! `catalog/` (one file per service, plus authorities and routing); kit-core and the
//! backend both load it through this crate, so nothing parses it twice.
//!
//! - [`Catalog`] loads the folder ([`Catalog::from_dir`]) or a published bundle
//!   ([`Catalog::from_bundle`]), and signs and verifies bundles as DSSE envelopes with
//!   the backend's key.
//! - [`check`] finds every inconsistency in a catalog: invalid schemas, labels missing
//!   in one language, fields without a legal basis, unknown authority kinds.
//! - [`FormValidator`] validates form data against a form version (JSON Schema 2020-12
//!   via the `jsonschema` crate) and reports errors by field path and rule, in German
//!   and English.
//! - [`din91379`] is DIN 91379 for names and addresses: the normative characters and
//!   sequences per data type (generated from the published list into
//!   `din91379/din91379.json`, which the UI reads too), NFC normalization, and a checker
//!   that names the first offending character and its position. The formats
//!   `person-name` (type A) and `din91379-text` (type B) use it.
//! - [`routing`] maps (service, ARS of the residence) to the receiving, deciding and
//!   handling authority.
//!
//! # Boundaries
//!
//! Depends on `sync-protocol` for ids, envelopes and keys. It never depends on
//! `kit-core` or `fieldkit-backend`, and does no I/O beyond reading the catalog folder
//! in [`Catalog::from_dir`].

pub mod check;
pub mod din91379;
mod error;
mod form;
mod load;
mod model;
pub mod routing;
mod rules;

pub use error::CatalogError;
pub use form::{FieldError, FormValidator};
pub use load::{Catalog, CATALOG_DIR};
pub use model::*;
