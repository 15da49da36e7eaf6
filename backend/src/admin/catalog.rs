//! `admin catalog publish PATH`: loads a catalog folder with `fieldkit-catalog`, adds
//! each authority's current HPKE public key (the key kits seal to), signs the bundle
//! with the server key and stores it as the current version, announced to every kit in
//! its changes feed. A version is published once: other content under a published
//! version is refused (raise `version` in `catalog.json`).

use std::path::Path;

use chrono::Utc;
use fieldkit_catalog::{Catalog, PublishedHpkeKey};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::{Admin, AdminError};
use crate::storage::{AdminAction, PublishOutcome, PublishedCatalog};

/// What publishing did.
#[derive(Debug, Clone, Serialize)]
pub struct PublishReport {
    /// The catalog version.
    pub version: String,
    /// `published` or `unchanged`.
    pub outcome: &'static str,
    /// The ETag kits see.
    pub etag: String,
    /// Authorities published with their HPKE key.
    pub authorities_with_keys: Vec<String>,
    /// Catalog authorities this backend does not serve: kits cannot seal to them, so
    /// records routed there are refused (`unknown-routing`).
    pub authorities_without_keys: Vec<String>,
}

/// Publishes the catalog in `dir`.
///
/// # Errors
/// An inconsistent catalog (5); a version published before with other content (4).
pub async fn publish(admin: &Admin, dir: &Path) -> Result<PublishReport, AdminError> {
    let mut catalog = Catalog::from_dir(dir).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let mut with_keys = Vec::new();
    let mut without_keys = Vec::new();
    for authority in &mut catalog.authorities {
        let keys = admin.store.authority_keys(&authority.id).await?;
        match keys.iter().find(|k| k.retired_at.is_none()) {
            Some(current) => {
                authority.hpke_public_key = Some(PublishedHpkeKey {
                    key_id: current.key.key_id.clone(),
                    public_key: sync_protocol::b64::encode(current.key.public_key),
                });
                with_keys.push(authority.id.to_string());
            }
            None => {
                authority.hpke_public_key = None;
                without_keys.push(authority.id.to_string());
            }
        }
    }
    let server_key = admin.server_key().await?;
    let envelope = catalog.sign(&server_key);
    // What kits will do with it: verify against the server key, parse, check.
    Catalog::verify(&envelope, &[server_key.verifying_key()])
        .map_err(|e| AdminError::Invalid(format!("the signed catalog does not verify: {e}")))?;
    let envelope_json = envelope.to_json();
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&envelope_json))[..32]);
    let version = catalog.meta.version.clone();
    let outcome = admin
        .store
        .publish_catalog(&PublishedCatalog {
            version: version.clone(),
            envelope_json,
            etag: etag.clone(),
            published_at: Utc::now(),
        })
        .await?;
    if outcome == PublishOutcome::Published {
        admin
            .record(None, AdminAction::CatalogPublished, &version, Some(&etag))
            .await?;
    }
    Ok(PublishReport {
        version,
        outcome: match outcome {
            PublishOutcome::Published => "published",
            PublishOutcome::Unchanged => "unchanged",
        },
        etag,
        authorities_with_keys: with_keys,
        authorities_without_keys: without_keys,
    })
}
