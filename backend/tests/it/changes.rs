//! `GET /v1/changes` (PROTOCOL.md §6.5) and `GET /v1/catalog/current` (§6.6): status
//! changes for the kit's own cases, catalog announcements, paging by cursor, the wipe
//! of a revoked kit, and the signed catalog with its ETag.

use axum::http::StatusCode;
use chrono::Utc;
use fieldkit_catalog::Catalog;
use sync_protocol::api::{CaseStatus, ChangeKind, ChangesPage, KitState};
use sync_protocol::dsse::Envelope;

use crate::records::push;
use crate::support::kit::Spec;
use crate::support::{Backend, Db};

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
    let page: ChangesPage = backend
        .send(kit.signed("GET", "/v1/changes", Vec::new()))
        .await
        .json();
    assert!(matches!(
        page.changes.last().map(|c| &c.change),
        Some(ChangeKind::Wipe { reason }) if reason == "Gerät als verloren gemeldet"
    ));
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
