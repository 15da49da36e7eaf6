//! The installed service catalog: verified against the server keys from enrolment when
//! installed (from the backend or a signed file), kept in the store with every older
//! version, and loaded once per session.

use std::cmp::Ordering;

use chrono::NaiveDate;
use fieldkit_catalog::{Catalog, CatalogMeta, FormValidator};
use rusqlite::params;
use sync_protocol::dsse::Envelope;

use crate::kit::{now_text, Session};
use crate::KitError;

/// Orders catalog versions `YEAR.MONTH.N` numerically.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let parts = |v: &str| {
        v.split('.')
            .map(|p| p.parse::<u64>().unwrap_or(0))
            .collect::<Vec<_>>()
    };
    parts(a).cmp(&parts(b))
}

impl Session {
    /// Verifies a signed catalog with the trusted server keys and installs it. Installing
    /// the same version again is a no-op; an older version than the installed one is
    /// refused (a replayed old catalog must not roll back forms).
    ///
    /// # Errors
    /// [`KitError::NotEnrolled`]; catalog signature or consistency errors;
    /// [`KitError::Conflict`] for a downgrade.
    pub fn install_catalog(&mut self, envelope: &Envelope) -> Result<CatalogMeta, KitError> {
        let trusted = self.trusted_server_keys()?;
        let catalog = Catalog::verify(envelope, &trusted)?;
        let version = catalog.meta.version.clone();
        if let Some(current) = self.installed_version()? {
            match compare_versions(&version, &current) {
                Ordering::Less => {
                    return Err(KitError::Conflict(format!(
                        "catalog {version} is older than the installed {current}"
                    )))
                }
                Ordering::Equal => return Ok(catalog.meta),
                Ordering::Greater => {}
            }
        }
        let json = String::from_utf8(envelope.to_json())
            .map_err(|e| KitError::Corrupted(e.to_string()))?;
        self.conn.execute(
            "INSERT INTO catalogs (version, envelope, installed_at) VALUES (?1, ?2, ?3)",
            params![version, json, now_text()],
        )?;
        let meta = catalog.meta.clone();
        self.catalog = Some(catalog);
        self.validators.clear();
        Ok(meta)
    }

    /// The newest installed catalog version.
    ///
    /// # Errors
    /// Database errors.
    pub fn installed_version(&self) -> Result<Option<String>, KitError> {
        let mut stmt = self.conn.prepare("SELECT version FROM catalogs")?;
        let versions = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(versions.into_iter().max_by(|a, b| compare_versions(a, b)))
    }

    /// The installed catalog (loaded on first use).
    ///
    /// # Errors
    /// [`KitError::NoCatalog`]; [`KitError::Corrupted`] if the stored copy no longer
    /// parses.
    pub fn catalog(&mut self) -> Result<&Catalog, KitError> {
        if self.catalog.is_none() {
            let version = self.installed_version()?.ok_or(KitError::NoCatalog)?;
            let json: String = self.conn.query_row(
                "SELECT envelope FROM catalogs WHERE version = ?1",
                [&version],
                |r| r.get(0),
            )?;
            let envelope = Envelope::from_json(json.as_bytes())?;
            // Verified at install time with the then-trusted keys; the store is ours
            // and encrypted, so here it only needs to parse.
            let payload = sync_protocol::b64::decode("payload", &envelope.payload)?;
            let catalog = Catalog::from_bundle(&payload)
                .map_err(|e| KitError::Corrupted(format!("installed catalog {version}: {e}")))?;
            self.catalog = Some(catalog);
        }
        self.catalog.as_ref().ok_or(KitError::NoCatalog)
    }

    /// A compiled validator for a form version on a day, cached for the session.
    pub(crate) fn validator(
        &mut self,
        service_id: &str,
        version: u32,
        day: NaiveDate,
    ) -> Result<&FormValidator, KitError> {
        let key = (service_id.to_owned(), version, day);
        if !self.validators.contains_key(&key) {
            let catalog = self.catalog()?;
            let service = catalog.service(service_id)?;
            let form = service.form(version).ok_or_else(|| {
                fieldkit_catalog::CatalogError::UnknownFormVersion {
                    service: service_id.to_owned(),
                    version,
                }
            })?;
            let validator = FormValidator::new(service, form, day)?;
            self.validators.insert(key.clone(), validator);
        }
        self.validators
            .get(&key)
            .ok_or_else(|| KitError::NotFound(format!("validator for {service_id} v{version}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_versions_compare_numerically() {
        assert_eq!(
            compare_versions("2026.11.10", "2026.11.9"),
            Ordering::Greater
        );
        assert_eq!(compare_versions("2026.2.1", "2026.11.1"), Ordering::Less);
        assert_eq!(compare_versions("2026.11.1", "2026.11.1"), Ordering::Equal);
    }
}
