//! The catalog part of a record's acceptance (PROTOCOL.md §6.3 step 6, issue 5) and the
//! routing policy (§6.3 "Flags").
//!
//! A record is judged by the catalog it was captured with: the backend keeps every
//! published version, and a record is valid if one of them has its service (`form_id`)
//! with that LeiKa key and form version and routes it, for the citizen's ARS, to the
//! record's `authority_id` ([`judge`], newest version first). A record does not name its
//! catalog version on the wire; one that no published version places is refused
//! (`unknown-routing`) — it cannot come from a catalog this backend signed. The
//! authority's existence and its key ids are checked against the database inside the
//! batch transaction ([`crate::ingest`]).
//!
//! Also the [`CatalogCache`]: the parsed published catalogs, re-read whenever the
//! database names another current version (a cache of database state; a published
//! version never changes, so a parsed one stays valid).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use ed25519_dalek::VerifyingKey;
use fieldkit_catalog::{routing, AuthorityKind, Catalog, CatalogError};
use sync_protocol::dsse::Envelope;
use sync_protocol::ids::AuthorityId;
use sync_protocol::record::Record;

use crate::storage::batch::AuthorityArea;
use crate::storage::{Store, StoreError};

/// How the catalog a record was captured with places it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// The newest published version under which the record is valid.
    pub version: String,
    /// That version's receiving authority for the record (where the citizen appears).
    pub receiving: AuthorityId,
    /// Whether the record's authority is in the current catalog.
    pub authority_current: bool,
    /// Whether the receiving authority is in the current catalog.
    pub receiving_current: bool,
}

/// Judges a record against the published catalogs, `catalogs[0]` being the current
/// one. The error is the current catalog's objection, a problem detail for
/// `unknown-routing`; it names ids, never the citizen's ARS or case data.
///
/// # Errors
/// A detail for the `unknown-routing` problem.
pub fn judge(catalogs: &[Arc<Catalog>], record: &Record) -> Result<Routed, String> {
    let current = catalogs
        .first()
        .ok_or_else(|| "no catalog is published".to_owned())?;
    let mut first_error = None;
    for catalog in catalogs {
        match check(Some(catalog), record) {
            Ok(route) => {
                let in_current = |id: &AuthorityId| current.authority(id.as_str()).is_some();
                return Ok(Routed {
                    version: catalog.meta.version.clone(),
                    authority_current: in_current(&record.authority_id),
                    receiving_current: in_current(&route.receiving),
                    receiving: route.receiving,
                });
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| "no catalog is published".to_owned()))
}

/// The default routing policy: a kit of authority `kit` may route a case to `target`
/// if it is `target`'s own kit, if `kit` lies within `target`'s ARS area (a
/// municipality's kit routing to its county or state), or if `target` is a federal
/// office (the catalog decides which federal services go where).
pub fn policy_allows(
    kit: (&AuthorityId, &AuthorityArea),
    target: (&AuthorityId, &AuthorityArea),
) -> bool {
    let (kit_id, kit_area) = kit;
    let (target_id, target_area) = target;
    if kit_id == target_id || target_area.kind == AuthorityKind::Bund {
        return true;
    }
    match (&kit_area.ars, &target_area.ars) {
        (Some(k), Some(t)) => k.as_str().starts_with(t.as_str()),
        _ => false,
    }
}

/// Checks a record's service, form version and handling authority against one
/// catalog; the route on success.
///
/// # Errors
/// A detail for the `unknown-routing` problem.
pub fn check(catalog: Option<&Catalog>, record: &Record) -> Result<routing::Route, String> {
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
    Ok(route)
}

/// The parsed published catalogs, keyed by version, and which one is current.
#[derive(Debug, Default)]
pub struct CatalogCache {
    current: RwLock<Option<(String, Arc<Catalog>)>>,
    all: RwLock<HashMap<String, Arc<Catalog>>>,
}

/// Why a catalog could not be loaded.
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

fn parse_published(
    envelope_json: &[u8],
    server_keys: &[VerifyingKey],
) -> Result<Catalog, CatalogCacheError> {
    Envelope::from_json(envelope_json)
        .map_err(|e| CatalogCacheError::Catalog(e.to_string()))
        .and_then(|env| {
            Catalog::verify(&env, server_keys)
                .map_err(|e| CatalogCacheError::Catalog(e.to_string()))
        })
}

impl CatalogCache {
    /// The current catalog, if one is published. One cheap query when unchanged.
    ///
    /// # Errors
    /// [`CatalogCacheError`].
    pub async fn current(
        &self,
        store: &Store,
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
        let catalog = Arc::new(parse_published(&published.envelope_json, server_keys)?);
        if let Ok(mut guard) = self.current.write() {
            *guard = Some((published.version, Arc::clone(&catalog)));
        }
        Ok(Some(catalog))
    }

    /// Every published catalog, the current one first, then the others newest first
    /// (what [`judge`] takes). Versions parsed before come from the cache.
    ///
    /// # Errors
    /// [`CatalogCacheError`].
    pub async fn published(
        &self,
        store: &Store,
        server_keys: &[VerifyingKey],
    ) -> Result<Vec<Arc<Catalog>>, CatalogCacheError> {
        let Some(current) = self.current(store, server_keys).await? else {
            return Ok(Vec::new());
        };
        let mut out = vec![Arc::clone(&current)];
        for row in store.catalog_versions().await? {
            if row.version == current.meta.version {
                continue;
            }
            let cached = self
                .all
                .read()
                .ok()
                .and_then(|all| all.get(&row.version).cloned());
            let catalog = match cached {
                Some(c) => c,
                None => {
                    let Some(published) = store.catalog(&row.version).await? else {
                        continue;
                    };
                    let c = Arc::new(parse_published(&published.envelope_json, server_keys)?);
                    if let Ok(mut all) = self.all.write() {
                        all.insert(row.version.clone(), Arc::clone(&c));
                    }
                    c
                }
            };
            out.push(catalog);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(ars: Option<&str>, kind: AuthorityKind) -> AuthorityArea {
        AuthorityArea {
            ars: ars.map(|a| sync_protocol::ids::Ars::parse(a).expect("ars")),
            kind,
        }
    }

    #[test]
    fn the_default_policy_admits_own_area_and_federal_offices_only() {
        let id = |s: &str| AuthorityId::parse(s).expect("id");
        let musterstadt = (
            id("gemeinde-musterstadt"),
            area(Some("064320001001"), AuthorityKind::Gemeinde),
        );
        let beispielheim = (
            id("gemeinde-beispielheim"),
            area(Some("064320002002"), AuthorityKind::Gemeinde),
        );
        let kreis = (
            id("landkreis-musterkreis"),
            area(Some("06432"), AuthorityKind::Kreis),
        );
        let bund = (id("bundesamt-fuer-justiz"), area(None, AuthorityKind::Bund));
        let other_kreis = (
            id("landkreis-anderswo"),
            area(Some("06433"), AuthorityKind::Kreis),
        );
        let allows = |k: &(AuthorityId, AuthorityArea), t: &(AuthorityId, AuthorityArea)| {
            policy_allows((&k.0, &k.1), (&t.0, &t.1))
        };
        assert!(allows(&musterstadt, &musterstadt));
        assert!(allows(&musterstadt, &kreis));
        assert!(allows(&musterstadt, &bund));
        assert!(
            !allows(&musterstadt, &beispielheim),
            "a neighbour is unrelated"
        );
        assert!(
            !allows(&musterstadt, &other_kreis),
            "another county is unrelated"
        );
        assert!(
            !allows(&kreis, &musterstadt),
            "a county's kit is not within a municipality"
        );
        assert!(allows(&bund, &bund));
        assert!(!allows(&bund, &kreis));
    }
}
