//! Loading a catalog from its folder or from a published bundle, and signing and
//! verifying bundles. Every way in ends in [`crate::check::check`], so a catalog in hand
//! is always consistent.

use std::path::Path;

use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sync_protocol::api::CATALOG_PAYLOAD_TYPE;
use sync_protocol::dsse::{self, Envelope};
use sync_protocol::receipt::ed25519_key_id;

use crate::model::{Authority, CatalogMeta, RoutingRule, Service};
use crate::CatalogError;

/// The catalog folder of this source tree (the folder of this crate).
pub const CATALOG_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// A whole catalog: what a bundle contains and what the folder holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Version and provenance.
    pub meta: CatalogMeta,
    /// The authorities.
    pub authorities: Vec<Authority>,
    /// Routing overrides.
    pub routing: Vec<RoutingRule>,
    /// The services, sorted by id.
    pub services: Vec<Service>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthoritiesFile {
    authorities: Vec<Authority>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoutingFile {
    rules: Vec<RoutingRule>,
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, CatalogError> {
    let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Read {
        path: path.display().to_string(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| CatalogError::Parse {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

impl Catalog {
    /// Loads `catalog.json`, `authorities.json`, `routing.json` and `services/*.json`
    /// from a catalog folder and checks the result.
    ///
    /// # Errors
    /// [`CatalogError::Read`], [`CatalogError::Parse`] naming the file, or
    /// [`CatalogError::Inconsistent`] listing every problem.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, CatalogError> {
        let dir = dir.as_ref();
        let meta: CatalogMeta = read_json(&dir.join("catalog.json"))?;
        let authorities = read_json::<AuthoritiesFile>(&dir.join("authorities.json"))?.authorities;
        let routing = read_json::<RoutingFile>(&dir.join("routing.json"))?.rules;
        let services_dir = dir.join("services");
        let entries = std::fs::read_dir(&services_dir).map_err(|source| CatalogError::Read {
            path: services_dir.display().to_string(),
            source,
        })?;
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        let mut services = Vec::with_capacity(paths.len());
        let mut problems = Vec::new();
        for path in paths {
            let service: Service = read_json(&path)?;
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if service.id.as_str() != stem {
                problems.push(format!(
                    "{}: id {} differs from the file name",
                    path.display(),
                    service.id
                ));
            }
            services.push(service);
        }
        if !problems.is_empty() {
            return Err(CatalogError::Inconsistent(problems));
        }
        Self::checked(Self {
            meta,
            authorities,
            routing,
            services,
        })
    }

    /// The catalog as installed by kits: parses a bundle and checks it.
    ///
    /// # Errors
    /// [`CatalogError::Parse`] or [`CatalogError::Inconsistent`].
    pub fn from_bundle(bytes: &[u8]) -> Result<Self, CatalogError> {
        let catalog: Self = serde_json::from_slice(bytes).map_err(|e| CatalogError::Parse {
            path: "bundle".into(),
            reason: e.to_string(),
        })?;
        Self::checked(catalog)
    }

    fn checked(mut catalog: Self) -> Result<Self, CatalogError> {
        catalog.services.sort_by(|a, b| a.id.cmp(&b.id));
        let problems = crate::check::check(&catalog);
        if problems.is_empty() {
            Ok(catalog)
        } else {
            Err(CatalogError::Inconsistent(problems))
        }
    }

    /// The bundle bytes: the whole catalog as one JSON document.
    pub fn to_bundle(&self) -> Vec<u8> {
        // Plain data with string keys always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Signs the bundle with a server key, as the backend publishes it.
    pub fn sign(&self, server_key: &SigningKey) -> Envelope {
        dsse::sign(
            CATALOG_PAYLOAD_TYPE,
            &self.to_bundle(),
            &ed25519_key_id(&server_key.verifying_key()),
            server_key,
        )
    }

    /// Verifies a signed bundle against the server keys a kit trusts, then parses and
    /// checks it. Nothing is parsed before the signature holds.
    ///
    /// # Errors
    /// [`CatalogError::Signature`], then as [`Catalog::from_bundle`].
    pub fn verify(envelope: &Envelope, trusted: &[VerifyingKey]) -> Result<Self, CatalogError> {
        let verified = envelope.verify_with_trusted(CATALOG_PAYLOAD_TYPE, trusted)?;
        Self::from_bundle(&verified.payload)
    }

    /// A service by id.
    ///
    /// # Errors
    /// [`CatalogError::UnknownService`].
    pub fn service(&self, id: &str) -> Result<&Service, CatalogError> {
        self.services
            .iter()
            .find(|s| s.id.as_str() == id)
            .ok_or_else(|| CatalogError::UnknownService(id.to_owned()))
    }

    /// An authority by id.
    pub fn authority(&self, id: &str) -> Option<&Authority> {
        self.authorities.iter().find(|a| a.id.as_str() == id)
    }
}
