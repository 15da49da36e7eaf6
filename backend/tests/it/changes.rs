//! `GET /v1/changes` (PROTOCOL.md §6.5) and `GET /v1/catalog/current` (§6.6): status
//! changes for the kit's own cases, catalog announcements, paging by cursor, the wipe
//! of a revoked kit, and the signed catalog with its ETag. Protocol version 2: every
//! change signed for its kit and cursor, key and pin rollovers (signed by the key they
//! replace), and what a kit of version 1 is (not) sent.

use axum::http::StatusCode;
use chrono::Utc;
use fieldkit_backend::storage::AdminAction;
use fieldkit_catalog::Catalog;
use sync_protocol::api::{CaseStatus, Change, ChangeKind, ChangesPage, KitState};
use sync_protocol::change::{PageVerifier, SignedChange, SignedChangesPage, TrustedKey};
use sync_protocol::dsse::Envelope;

use crate::records::push;
use crate::support::kit::Spec;
use crate::support::{databases, Backend, Db, TestKit};

#[tokio::test]
async fn status_changes_reach_only_the_capturing_kit_page_by_page() {
    let backend = Backend::new(&Db::Sqlite).await;
    let mut kit = backend.kit().await;
    let other = backend.kit().await;
    let record = kit.next(&Spec::anmeldung());
    push(&backend, &kit, &[&record]).await;
    let id = record.record.record_id;
    for (status, comment) in [
        (CaseStatus::InReview, None),
        (
            CaseStatus::NeedsInformation,
            Some("Wohnungsgeberbestätigung fehlt."),
        ),
        (CaseStatus::Approved, None),
    ] {
        assert!(backend
            .store()
            .set_case_status(&id, status, comment, "r.berger", Utc::now())
            .await
            .expect("status set"));
    }
    let page: ChangesPage = backend
        .send(kit.signed("GET", "/v1/changes?after=0&limit=2", Vec::new()))
        .await
        .json();
    assert_eq!(page.changes.len(), 2);
    assert!(page.more);
    // The first change is the catalog published before the kit enrolled.
    assert!(matches!(page.changes[0].change, ChangeKind::Catalog { .. }));
    assert!(matches!(
        page.changes[1].change,
        ChangeKind::Status { record_id, status: CaseStatus::InReview, .. } if record_id == id
    ));
    let rest: ChangesPage = backend
        .send(kit.signed(
            "GET",
            &format!("/v1/changes?after={}", page.next_cursor),
            Vec::new(),
        ))
        .await
        .json();
    assert_eq!(rest.changes.len(), 2);
    assert!(!rest.more);
    assert!(matches!(
        &rest.changes[0].change,
        ChangeKind::Status { comment: Some(c), .. } if c == "Wohnungsgeberbestätigung fehlt."
    ));
    let empty: ChangesPage = backend
        .send(kit.signed(
            "GET",
            &format!("/v1/changes?after={}", rest.next_cursor),
            Vec::new(),
        ))
        .await
        .json();
    assert!(empty.changes.is_empty());
    assert_eq!(
        empty.next_cursor, rest.next_cursor,
        "an empty page keeps the cursor"
    );
    let theirs: ChangesPage = backend
        .send(other.signed("GET", "/v1/changes", Vec::new()))
        .await
        .json();
    assert!(theirs
        .changes
        .iter()
        .all(|c| matches!(c.change, ChangeKind::Catalog { .. })));
}

#[tokio::test]
async fn bad_change_queries_are_malformed_requests() {
    let backend = Backend::new(&Db::Sqlite).await;
    let kit = backend.kit().await;
    for query in [
        "limit=0",
        "limit=501",
        "after=-1",
        "after=01",
        "after=x",
        "foo=1",
        "after=1&after=2",
        "after",
    ] {
        let resp = backend
            .send(kit.signed("GET", &format!("/v1/changes?{query}"), Vec::new()))
            .await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(resp.code(), "malformed-request", "{query}");
    }
}

#[tokio::test]
async fn a_revoked_kit_is_refused_everywhere_but_receives_its_wipe() {
    let backend = Backend::new(&Db::Sqlite).await;
    let mut kit = backend.kit().await;
    let record = kit.next(&Spec::anmeldung());
    fieldkit_backend::admin::kit::revoke(
        &backend.admin,
        &kit.kit_id.to_string(),
        "Gerät als verloren gemeldet",
    )
    .await
    .expect("revoked");
    for req in [
        kit.push(&[&record]),
        kit.signed("GET", "/v1/state", Vec::new()),
        kit.signed("GET", "/v1/catalog/current", Vec::new()),
    ] {
        let resp = backend.send(req).await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN);
        assert_eq!(resp.code(), "kit-revoked");
    }
    let changes = signed_changes(&backend, &kit, 0).await;
    assert!(matches!(
        changes.last().map(|c| &c.change),
        Some(ChangeKind::Wipe { reason }) if reason == "Gerät als verloren gemeldet"
    ));
    // A kit of protocol version 1 cannot verify a wipe: it is withheld, the cursor
    // still moves past it.
    let v1 = backend
        .send(kit.signed_as("1", "GET", "/v1/changes", Vec::new()))
        .await;
    assert_eq!(v1.header("fieldkit-protocol"), Some("1"));
    let page: ChangesPage = v1.json();
    assert!(page.changes.iter().all(|c| c.change.known_to_v1()));
    assert_eq!(page.next_cursor, changes.last().map_or(0, |c| c.cursor));
}

/// Fetches the kit's whole feed under protocol version 2 and verifies every entry as a
/// kit must (PROTOCOL.md §6.5), against the server keys it got at enrolment.
pub async fn signed_changes(backend: &Backend, kit: &TestKit, after: u64) -> Vec<Change> {
    let resp = backend
        .send(kit.signed_as(
            "2",
            "GET",
            &format!("/v1/changes?after={after}&limit=500"),
            Vec::new(),
        ))
        .await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.header("fieldkit-protocol"), Some("2"));
    let page: SignedChangesPage = resp.json();
    assert!(!page.more);
    let keys = kit
        .server_keys
        .iter()
        .copied()
        .map(TrustedKey::new)
        .collect();
    let mut verifier = PageVerifier::new(kit.kit_id, after, keys);
    page.changes
        .iter()
        .map(|env| {
            verifier
                .next(env)
                .expect("every change verifies")
                .into_change()
        })
        .collect()
}

#[tokio::test]
async fn a_signed_change_names_its_kit_and_cursor_so_it_cannot_be_replayed_elsewhere() {
    let backend = Backend::new(&Db::Sqlite).await;
    let kit = backend.kit().await;
    let other = backend.kit().await;
    fieldkit_backend::admin::kit::revoke(&backend.admin, &other.kit_id.to_string(), "verloren")
        .await
        .expect("revoked");
    let page: SignedChangesPage = backend
        .send(other.signed_as("2", "GET", "/v1/changes", Vec::new()))
        .await
        .json();
    let wipe = page.changes.last().expect("the wipe").clone();
    let keys: Vec<TrustedKey> = kit
        .server_keys
        .iter()
        .copied()
        .map(TrustedKey::new)
        .collect();
    // The other kit's wipe, validly signed, does not verify for this kit.
    let err = PageVerifier::new(kit.kit_id, 0, keys.clone())
        .next(&wipe)
        .expect_err("another kit's wipe");
    assert!(err.to_string().contains("another kit"), "{err}");
    // Nor, for its own kit, once the kit has moved past it.
    let cursor = page.next_cursor;
    assert!(PageVerifier::new(other.kit_id, cursor, keys.clone())
        .next(&wipe)
        .is_err());
    // A wipe signed by anyone but the server is refused.
    let rogue = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let forged = SignedChange::new(
        kit.kit_id,
        &Change {
            cursor: 1,
            at: Utc::now(),
            change: ChangeKind::Wipe { reason: "x".into() },
        },
    )
    .sign(&rogue);
    assert!(PageVerifier::new(kit.kit_id, 0, keys)
        .next(&forged)
        .is_err());
}

/// A server process restarted after `server-key rotate`: it signs with the new key and
/// holds the earlier ones for the rollovers (as `serve` does).
async fn restart(backend: &mut Backend) {
    let key = fieldkit_backend::state::server_signing_key(backend.store(), &backend.admin.master)
        .await
        .expect("current key");
    let ring = fieldkit_backend::state::server_key_ring(backend.store(), &backend.admin.master)
        .await
        .expect("key ring");
    let master = fieldkit_backend::keys::MasterKey::from_text(&backend.admin.master.to_text())
        .expect("master key");
    let app = fieldkit_backend::state::AppState::with_master_key(
        std::sync::Arc::clone(&backend.admin.store),
        key,
        backend.app.public_base_url.clone(),
        backend.app.blobs.clone(),
        master,
    );
    app.set_server_key_ring(ring);
    backend.app = app;
}

#[tokio::test]
async fn a_server_key_rotation_reaches_kits_signed_by_the_key_it_replaces() {
    for db in databases("server key rotation") {
        let mut backend = Backend::new(&db).await;
        let mut kit = backend.kit().await;
        let first = kit.next(&Spec::anmeldung());
        push(&backend, &kit, &[&first]).await;
        let old_id = sync_protocol::receipt::ed25519_key_id(&kit.server_keys[0]);
        let rollover = fieldkit_backend::admin::trust::rotate_server_key(&backend.admin, 30)
            .await
            .expect("rotated");
        assert_eq!(rollover.replaces.as_deref(), Some(old_id.as_str()));
        let events = crate::office_admin::admin_events(&backend, crate::office_admin::TOWN).await;
        assert!(
            events
                .iter()
                .any(|e| e.action == AdminAction::ServerKeyRotated.as_str()
                    && e.subject == rollover.new),
            "the rotation is in every authority's admin trail"
        );
        restart(&mut backend).await;
        let before = Utc::now();
        // The kit learns the new key from its feed, signed by the key it trusts...
        let changes = signed_changes(&backend, &kit, 0).await;
        let Some(ChangeKind::ServerKey {
            key,
            replaces,
            overlap_until,
        }) = changes
            .iter()
            .map(|c| &c.change)
            .find(|c| matches!(c, ChangeKind::ServerKey { .. }))
        else {
            panic!("no rollover in {changes:?}");
        };
        assert_eq!(key.key_id, rollover.new);
        assert_eq!(replaces, &old_id);
        assert!(*overlap_until > before + chrono::Duration::days(29));
        // ... and then verifies receipts signed by the new key.
        kit.server_keys.push(key.to_key().expect("valid key"));
        let second = kit.next(&Spec::anmeldung());
        let results = push(&backend, &kit, &[&second]).await;
        let receipt = results.results[0].receipt.as_ref().expect("receipt");
        assert_eq!(receipt.claimed_keyid().expect("keyid"), rollover.new);
        // A kit enrolled after the rotation got the new key at enrolment and is not
        // sent the rollover it could not verify.
        let late = backend.kit().await;
        assert_eq!(
            sync_protocol::receipt::ed25519_key_id(&late.server_keys[0]),
            rollover.new
        );
        assert!(signed_changes(&backend, &late, 0)
            .await
            .iter()
            .all(|c| !matches!(c.change, ChangeKind::ServerKey { .. })));
        // Out-of-range overlaps are refused before anything changes.
        for days in [0, 366] {
            assert!(matches!(
                fieldkit_backend::admin::trust::rotate_server_key(&backend.admin, days).await,
                Err(fieldkit_backend::admin::AdminError::Invalid(_))
            ));
        }
        assert_eq!(backend.store().server_keys().await.expect("keys").len(), 2);
    }
}

#[tokio::test]
async fn a_tls_pin_announcement_reaches_every_kit_and_a_bad_certificate_is_refused() {
    for db in databases("tls pin announcement") {
        let backend = Backend::new(&db).await;
        let kit = backend.kit().await;
        let dir = tempfile::tempdir().expect("dir");
        let cert =
            rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
        let pem = dir.path().join("new.pem");
        std::fs::write(&pem, cert.cert.pem()).expect("write");
        let announced = fieldkit_backend::admin::trust::announce_tls_pin(&backend.admin, &pem, 14)
            .await
            .expect("announced");
        let expected = fieldkit_backend::tls::tls_pin(&pem).expect("pin");
        assert_eq!(announced.new, expected.spki_sha256);
        let changes = signed_changes(&backend, &kit, 0).await;
        assert!(changes.iter().any(|c| matches!(
            &c.change,
            ChangeKind::TlsPin { pin, .. } if *pin == expected
        )));
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a certificate").expect("write");
        for (path, days) in [(garbage.as_path(), 14), (pem.as_path(), 0)] {
            assert!(matches!(
                fieldkit_backend::admin::trust::announce_tls_pin(&backend.admin, path, days).await,
                Err(fieldkit_backend::admin::AdminError::Invalid(_))
            ));
        }
        assert_eq!(
            signed_changes(&backend, &kit, 0)
                .await
                .iter()
                .filter(|c| matches!(c.change, ChangeKind::TlsPin { .. }))
                .count(),
            1,
            "refused announcements leave nothing behind"
        );
    }
}

#[tokio::test]
async fn the_catalog_is_served_signed_with_an_etag_and_verifies_with_the_enrolment_keys() {
    let backend = Backend::new(&Db::Sqlite).await;
    let kit = backend.kit().await;
    let resp = backend
        .send(kit.signed("GET", "/v1/catalog/current", Vec::new()))
        .await;
    assert_eq!(resp.status, StatusCode::OK);
    let etag = resp.header("etag").expect("etag").to_owned();
    let envelope = Envelope::from_json(&resp.body).expect("an envelope");
    let catalog = Catalog::verify(&envelope, &kit.server_keys).expect("verifies");
    let state: KitState = backend
        .send(kit.signed("GET", "/v1/state", Vec::new()))
        .await
        .json();
    assert_eq!(
        state.catalog_version.as_deref(),
        Some(catalog.meta.version.as_str())
    );
    let musterstadt = catalog
        .authority("gemeinde-musterstadt")
        .and_then(|a| a.hpke_public_key.clone())
        .expect("the published catalog carries the authority's key");
    let keys = backend
        .store()
        .authority_keys(
            &sync_protocol::ids::AuthorityId::parse("gemeinde-musterstadt").expect("id"),
        )
        .await
        .expect("keys");
    assert_eq!(musterstadt.key_id, keys[0].key.key_id);
    let cached = backend
        .send(kit.signed_with(
            "GET",
            "/v1/catalog/current",
            Vec::new(),
            &[("if-none-match", &etag)],
            Utc::now().timestamp(),
        ))
        .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert!(cached.body.is_empty());
}
