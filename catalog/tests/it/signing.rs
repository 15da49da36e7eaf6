//! Catalog bundles as kits install them: signed by the backend, verified before parsing.

use ed25519_dalek::SigningKey;
use fieldkit_catalog::{Catalog, CatalogError};
use sync_protocol::b64;

use crate::repo_catalog;

#[test]
fn a_signed_bundle_verifies_and_round_trips() {
    let catalog = repo_catalog();
    let server = SigningKey::from_bytes(&[7; 32]);
    let envelope = catalog.sign(&server);
    let installed = Catalog::verify(&envelope, &[server.verifying_key()]).expect("verifies");
    assert_eq!(installed, catalog);
}

#[test]
fn a_tampered_or_foreign_bundle_is_refused() {
    let catalog = repo_catalog();
    let server = SigningKey::from_bytes(&[7; 32]);
    let mut envelope = catalog.sign(&server);
    let other = SigningKey::from_bytes(&[8; 32]);
    assert!(matches!(
        Catalog::verify(&envelope, &[other.verifying_key()]),
        Err(CatalogError::Signature(_))
    ));
    let mut payload = b64::decode("payload", &envelope.payload).expect("b64");
    let pos = payload.len() / 2;
    payload[pos] ^= 0x20;
    envelope.payload = b64::encode(payload);
    assert!(matches!(
        Catalog::verify(&envelope, &[server.verifying_key()]),
        Err(CatalogError::Signature(_))
    ));
}

#[test]
fn a_validly_signed_but_inconsistent_bundle_is_refused() {
    let mut catalog = repo_catalog();
    catalog.meta.version = "latest".into();
    let server = SigningKey::from_bytes(&[7; 32]);
    let envelope = catalog.sign(&server);
    assert!(matches!(
        Catalog::verify(&envelope, &[server.verifying_key()]),
        Err(CatalogError::Inconsistent(_))
    ));
    assert!(matches!(
        Catalog::from_bundle(b"{not json"),
        Err(CatalogError::Parse { .. })
    ));
}
