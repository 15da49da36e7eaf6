//! The catalog part of a record's acceptance (PROTOCOL.md §6.3 step 6, issue 5): the
//! service (`form_id`) with its LeiKa key and form version must be in the current
//! catalog, and the record's `authority_id` must be the authority that
//! `fieldkit_catalog::routing::route` names as handling for that service and the
//! citizen's ARS. The authority's existence and its key ids are checked against the
//! database inside the batch transaction ([`crate::ingest`]).
//!
//! Also the [`CatalogCache`]: the parsed current catalog, re-read whenever the database
//! names another current version (a cache of database state, never a source of truth).

use std::sync::{Arc, RwLock};

use ed25519_dalek::VerifyingKey;
use fieldkit_catalog::{routing, Catalog, CatalogError};
use sync_protocol::dsse::Envelope;
use sync_protocol::record::Record;

use crate::storage::{Store, StoreError};

/// Checks a record's service, form version and handling authority against the
/// catalog. The error is a problem detail for `unknown-routing`; it names ids, never
/// the citizen's ARS or case data.
///
/// # Errors
/// A detail for the `unknown-routing` problem.
pub fn check(catalog: Option<&Catalog>, record: &Record) -> Result<(), String> {
    let catalog = catalog.ok_or_else(|| "no catalog is published".to_owned())?;
    let form = record.form_id.as_str();
    let service = catalog
        .service(form)
        .map_err(|_| format!("form {form} is not in the catalog"))?;
    if service.leika.key != record.leika {
        return Err(format!(
            "leika {} is not the key of form {form}",
            record.leika
        ));
    }
    if service.form(record.form_version).is_none() {
        return Err(format!(
            "form {form} version {} is not in the catalog",
            record.form_version
        ));
    }
    let route = routing::route(catalog, form, &record.ars).map_err(|e| match e {
        CatalogError::NoAuthority { kind, .. } => {
            format!("no {kind} authority of the catalog handles {form} for this residence")
        }
        CatalogError::NotAvailableOffline { .. } => {
            format!("form {form} cannot be captured offline")
        }
        _ => format!("form {form} cannot be routed"),
    })?;
    if route.handling != record.authority_id {
        return Err(format!(
            "the catalog routes {form} for this residence to {}, not {}",
            route.handling, record.authority_id
        ));
    }
    Ok(())
}

/// The parsed current catalog, keyed by its version.
#[derive(Debug, Default)]
pub struct CatalogCache {
    current: RwLock<Option<(String, Arc<Catalog>)>>,
}

/// Why the current catalog could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogCacheError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored catalog does not verify or parse (it was signed by this backend, so
    /// this means tampering or a lost server key).
    #[error("the stored catalog is unusable: {0}")]
    Catalog(String),
}

impl CatalogCache {
    /// The current catalog, if one is published. One cheap query when unchanged.
    ///
    /// # Errors
    /// [`CatalogCacheError`].
    pub async fn current(
        &self,
        store: &dyn Store,
        server_keys: &[VerifyingKey],
    ) -> Result<Option<Arc<Catalog>>, CatalogCacheError> {
        let Some(version) = store.current_catalog_version().await? else {
            return Ok(None);
        };
        if let Ok(guard) = self.current.read() {
            if let Some((v, c)) = guard.as_ref() {
                if *v == version {
                    return Ok(Some(Arc::clone(c)));
                }
            }
        }
        let Some(published) = store.current_catalog().await? else {
            return Ok(None);
        };
        let catalog = Envelope::from_json(&published.envelope_json)
            .map_err(|e| CatalogCacheError::Catalog(e.to_string()))
            .and_then(|env| {
                Catalog::verify(&env, server_keys)
                    .map_err(|e| CatalogCacheError::Catalog(e.to_string()))
            })?;
        let catalog = Arc::new(catalog);
        if let Ok(mut guard) = self.current.write() {
            *guard = Some((published.version, Arc::clone(&catalog)));
        }
        Ok(Some(catalog))
    }
}
