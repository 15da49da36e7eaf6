//! Kit lifecycle at the backend (issue 13): captures survive catalog changes (a record is
//! judged by the catalog version it was captured with; a retired authority's case lands
//! flagged `needs-routing`), the routing policy (a kit routing outside it lands in its
//! own authority's inbox, flagged `outside-policy`), the flag actions in the back office
//! (forward, refuse, release, with their wrong inputs), and one undecodable envelope
//! that does not abort its batch. Revocation is in `revocation.rs`.

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use fieldkit_backend::admin;
use fieldkit_backend::storage::{CaseEventKind, CaseFlag, Role};
use sync_protocol::api::{CaseStatus, Outcome, PushBatchResponse};
use sync_protocol::ids::{AuthorityId, RecordId};

use crate::office_cases::anmeldung_data;
use crate::records::push;
use crate::support::kit::Spec;
use crate::support::office::{add_user, Browser};
use crate::support::{databases, Backend};

/// The version after the shipped catalog's (its last part raised by one), so the test
/// publishes "n + 1" whatever version the repository ships.
fn next_version() -> String {
    let meta: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(fieldkit_catalog::CATALOG_DIR).join("catalog.json"))
            .expect("catalog.json"),
    )
    .expect("json");
    let shipped = meta["version"].as_str().expect("a version");
    let (head, last) = shipped.rsplit_once('.').expect("year.month.n");
    format!("{head}.{}", last.parse::<u32>().expect("a number") + 1)
}

/// A copy of the shipped catalog as version `version`, changed by `edit`.
fn catalog_copy(version: &str, edit: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("catalog");
    copy_dir(Path::new(fieldkit_catalog::CATALOG_DIR), &dir);
    let meta_path = dir.join("catalog.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&meta_path).expect("catalog.json")).expect("json");
    meta["version"] = serde_json::Value::String(version.to_owned());
    std::fs::write(&meta_path, serde_json::to_vec_pretty(&meta).expect("json")).expect("write");
    edit(&dir);
    (tmp, dir)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Removes the authority `id` from a catalog copy.
fn without_authority(dir: &Path, id: &str) {
    let path = dir.join("authorities.json");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("authorities")).expect("json");
    doc["authorities"]
        .as_array_mut()
        .expect("array")
        .retain(|a| a["id"] != id);
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).expect("json")).expect("write");
}

async fn publish(backend: &Backend, dir: &Path) {
    admin::catalog::publish(&backend.admin, dir)
        .await
        .expect("the changed catalog publishes");
}

pub fn accepted(response: &PushBatchResponse) -> usize {
    response
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::Accepted)
        .count()
}

/// The cases of `authority` with their open flags.
pub async fn inbox_flags(backend: &Backend, authority: &str) -> Vec<(RecordId, Vec<CaseFlag>)> {
    let authority = AuthorityId::parse(authority).expect("id");
    let mut out = Vec::new();
    for case in backend.store().inbox(&authority).await.expect("inbox") {
        let flags = backend
            .store()
            .case_flags(&case.record_id)
            .await
            .expect("flags")
            .into_iter()
            .filter(|f| f.resolved.is_none())
            .map(|f| f.flag)
            .collect();
        out.push((case.record_id, flags));
    }
    out
}

#[tokio::test]
async fn captures_on_catalog_n_land_after_n_plus_1_retires_the_service() {
    for db in databases("captures_on_catalog_n_land_after_n_plus_1_retires_the_service") {
        let backend = Backend::new(&db).await;
        let mut kit = backend.kit().await;
        // Captured offline on the shipped catalog N…
        let records = [kit.next(&Spec::anmeldung()), kit.next(&Spec::anmeldung())];
        // …then N+1 retires the Anmeldung.
        let (_tmp, dir) = catalog_copy(&next_version(), |d| {
            std::fs::remove_file(d.join("services/anmeldung.json")).expect("retire");
        });
        publish(&backend, &dir).await;
        let response = push(&backend, &kit, &[&records[0], &records[1]]).await;
        assert_eq!(accepted(&response), 2, "{}: {response:?}", db.name());
        let inbox = inbox_flags(&backend, "gemeinde-musterstadt").await;
        assert_eq!(inbox.len(), 2, "{}", db.name());
        assert!(inbox.iter().all(|(_, f)| f.is_empty()), "{inbox:?}");

        // A record no published version places is still refused, naming the current
        // catalog's objection.
        let stray = kit.next(&Spec {
            form_version: 99,
            ..Spec::anmeldung()
        });
        let response = push(&backend, &kit, &[&stray]).await;
        assert_eq!(response.results[0].outcome, Outcome::Rejected);
        let problem = response.results[0].problem.as_ref().expect("problem");
        assert_eq!(
            serde_json::to_value(problem.code).expect("code"),
            "unknown-routing"
        );
    }
}

#[tokio::test]
async fn a_case_for_a_retired_authority_lands_flagged_and_is_forwarded_by_a_person() {
    for db in databases("a_case_for_a_retired_authority_lands_flagged") {
        let backend = Backend::new(&db).await;
        let reviewer = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
        let neighbour = add_user(&backend, "gemeinde-beispielheim", "r.neu", Role::Reviewer).await;
        let mut kit = backend.kit().await;
        let record = kit.next(&Spec::driving_licence().with_form_data(anmeldung_data()));
        let (_tmp, dir) = catalog_copy(&next_version(), |d| {
            without_authority(d, "landkreis-musterkreis");
        });
        publish(&backend, &dir).await;
        let response = push(&backend, &kit, &[&record]).await;
        assert_eq!(accepted(&response), 1, "{}: {response:?}", db.name());
        let id = record.record.record_id;
        // The county is gone from the catalog: the case waits with a person in the
        // kit's own authority.
        let inbox = inbox_flags(&backend, "gemeinde-musterstadt").await;
        assert_eq!(
            inbox,
            vec![(id, vec![CaseFlag::NeedsRouting])],
            "{}",
            db.name()
        );
        assert!(inbox_flags(&backend, "landkreis-musterkreis")
            .await
            .is_empty());

        let mut browser = Browser::signed_in(&backend, "r.berger", &reviewer).await;
        let list = browser.get(&backend, "/office/cases?flagged=1").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(
            list.text().contains("Weiterleitung nötig"),
            "{}",
            list.text()
        );
        let page = browser.get(&backend, &format!("/office/cases/{id}")).await;
        assert!(
            page.text().contains("data-flag=\"needs-routing\""),
            "{}",
            page.text()
        );
        let action = format!("/office/cases/{id}/flags");

        // Wrong inputs change nothing.
        for (fields, status) in [
            (vec![("action", "teleport")], StatusCode::BAD_REQUEST),
            (
                vec![("action", "forward"), ("to", "nowhere")],
                StatusCode::BAD_REQUEST,
            ),
            (
                vec![("action", "forward"), ("to", "gemeinde-musterstadt")],
                StatusCode::BAD_REQUEST,
            ),
            (vec![("action", "refuse")], StatusCode::UNPROCESSABLE_ENTITY),
            (
                vec![("action", "release")],
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ] {
            browser.get(&backend, &format!("/office/cases/{id}")).await;
            let resp = browser.submit(&backend, &action, &fields).await;
            assert_eq!(resp.status, status, "{fields:?}: {}", resp.text());
        }
        assert_eq!(
            inbox_flags(&backend, "gemeinde-musterstadt").await,
            vec![(id, vec![CaseFlag::NeedsRouting])]
        );

        browser.get(&backend, &format!("/office/cases/{id}")).await;
        let resp = browser
            .submit(
                &backend,
                &action,
                &[("action", "forward"), ("to", "gemeinde-beispielheim")],
            )
            .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
        assert!(inbox_flags(&backend, "gemeinde-musterstadt")
            .await
            .is_empty());
        assert_eq!(
            inbox_flags(&backend, "gemeinde-beispielheim").await,
            vec![(id, vec![])]
        );
        let events = backend.store().case_events(&id).await.expect("events");
        let flag_event = events
            .iter()
            .find(|e| e.kind == CaseEventKind::Flag)
            .expect("the forwarding is in the history");
        assert_eq!(flag_event.actor, "r.berger");
        assert!(flag_event
            .comment
            .as_deref()
            .is_some_and(|c| c.contains("forwarded:gemeinde-beispielheim")));

        // The receiving reviewer opens it (sealed to the county, opened with its key);
        // the first one no longer can.
        let mut other = Browser::signed_in(&backend, "r.neu", &neighbour).await;
        let page = other.get(&backend, &format!("/office/cases/{id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let opened = backend.store().decryptions(&id).await.expect("log");
        assert!(opened.iter().any(|d| d.actor == "r.neu"), "{opened:?}");
        let gone = browser.get(&backend, &format!("/office/cases/{id}")).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_kit_routing_outside_its_policy_lands_in_its_own_inbox_for_a_person_to_refuse() {
    for db in databases("a_kit_routing_outside_its_policy_lands_in_its_own_inbox") {
        let backend = Backend::new(&db).await;
        let password = add_user(&backend, "gemeinde-beispielheim", "r.neu", Role::Reviewer).await;
        // A Beispielheim kit routes an Anmeldung to Musterstadt, an unrelated
        // municipality: accepted, not delivered there.
        let mut kit = backend.kit_of("gemeinde-beispielheim").await;
        let record = kit.next(&Spec::anmeldung().with_form_data(anmeldung_data()));
        let county = kit.next(&Spec::driving_licence());
        let response = push(&backend, &kit, &[&record, &county]).await;
        assert_eq!(accepted(&response), 2, "{}: {response:?}", db.name());
        let id = record.record.record_id;
        assert!(inbox_flags(&backend, "gemeinde-musterstadt")
            .await
            .is_empty());
        assert_eq!(
            inbox_flags(&backend, "gemeinde-beispielheim").await,
            vec![(id, vec![CaseFlag::OutsidePolicy])],
            "{}",
            db.name()
        );
        // Its county is within policy: delivered there without a flag.
        assert_eq!(
            inbox_flags(&backend, "landkreis-musterkreis").await,
            vec![(county.record.record_id, vec![])]
        );

        let mut browser = Browser::signed_in(&backend, "r.neu", &password).await;
        let page = browser.get(&backend, &format!("/office/cases/{id}")).await;
        assert!(page.text().contains("data-flag=\"outside-policy\""));
        let resp = browser
            .submit(
                &backend,
                &format!("/office/cases/{id}/flags"),
                &[
                    ("action", "refuse"),
                    ("comment", "Bitte beim Wohnort beantragen."),
                ],
            )
            .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
        let case = backend
            .store()
            .case_detail(&id)
            .await
            .expect("detail")
            .expect("case");
        assert_eq!(case.case.status, CaseStatus::Rejected);
        assert!(inbox_flags(&backend, "gemeinde-beispielheim")
            .await
            .iter()
            .all(|(_, f)| f.is_empty()));
        // The kit learns the refusal like any decision.
        let changes = backend
            .store()
            .changes(&kit.kit_id, 0, 100)
            .await
            .expect("changes")
            .0;
        assert!(changes.iter().any(|c| matches!(
            &c.change,
            sync_protocol::api::ChangeKind::Status { record_id, status: CaseStatus::Rejected, .. }
                if *record_id == id
        )));
    }
}

#[tokio::test]
async fn one_undecodable_envelope_is_rejected_alone_and_the_batch_goes_on() {
    for db in databases("one_undecodable_envelope_is_rejected_alone") {
        let backend = Backend::new(&db).await;
        let mut kit = backend.kit().await;
        let first = kit.next(&Spec::anmeldung());
        let second = kit.next(&Spec::anmeldung());
        let mut odd = serde_json::to_value(&first.envelope).expect("json");
        odd["extra"] = serde_json::json!(1);
        let body = serde_json::to_vec(&serde_json::json!({
            "envelopes": [first.envelope, odd, 7, second.envelope]
        }))
        .expect("json");
        let resp = backend.send(kit.signed("POST", "/v1/records", body)).await;
        assert_eq!(resp.status, StatusCode::OK, "{}: {resp:?}", db.name());
        let response: PushBatchResponse = resp.json();
        let outcomes: Vec<Outcome> = response.results.iter().map(|r| r.outcome).collect();
        assert_eq!(
            outcomes,
            [
                Outcome::Accepted,
                Outcome::Rejected,
                Outcome::Rejected,
                Outcome::Accepted
            ]
        );
        for r in &response.results[1..3] {
            assert_eq!(r.record_id, None);
            let p = r.problem.as_ref().expect("problem");
            assert_eq!(
                serde_json::to_value(p.code).expect("code"),
                "bad-record-signature"
            );
        }
        // The batch's own shape still fails as a whole.
        let body = br#"{"envelopes":[],"more":1}"#.to_vec();
        let resp = backend.send(kit.signed("POST", "/v1/records", body)).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    }
}
