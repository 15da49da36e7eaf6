//! Back office: the inbox (filters, counts, keyset pages in a stable order), the case
//! view (decrypted with the authority's key, labelled with the catalog's form labels,
//! every decryption logged first), and workflow transitions (checked, recorded with the
//! reviewer's login, sent to the capturing kit's changes feed; bad input changes
//! nothing).

use axum::http::StatusCode;
use fieldkit_backend::storage::Role;
use sync_protocol::api::{CaseStatus, ChangeKind, ChangesPage};
use sync_protocol::ids::{AuthorityId, RecordId};

use crate::records::push;
use crate::support::kit::Spec;
use crate::support::office::{add_user, Browser};
use crate::support::{databases, Backend, Db, TestKit};

/// The golden Anmeldung of the catalog's tests: real form data.
pub fn anmeldung_data() -> serde_json::Value {
    let path = format!(
        "{}/tests/golden/anmeldung/valid-family-of-three-moving-together.json",
        fieldkit_catalog::CATALOG_DIR
    );
    let text = std::fs::read_to_string(path).expect("golden file");
    let golden: serde_json::Value = serde_json::from_str(&text).expect("json");
    golden["data"].clone()
}

/// A backend with a Musterstadt reviewer (signed in) and one pushed Anmeldung.
async fn one_case(db: &Db) -> (Backend, TestKit, Browser, RecordId) {
    let backend = Backend::new(db).await;
    let password = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
    let mut kit = backend.kit().await;
    let record = kit.next(&Spec::anmeldung().with_form_data(anmeldung_data()));
    push(&backend, &kit, &[&record]).await;
    let browser = Browser::signed_in(&backend, "r.berger", &password).await;
    (backend, kit, browser, record.record.record_id)
}

/// The status changes of case `id` in the kit's changes feed, oldest first.
async fn statuses_sent(
    backend: &Backend,
    kit: &TestKit,
    id: &RecordId,
) -> Vec<(CaseStatus, Option<String>)> {
    let page: ChangesPage = backend
        .send(kit.signed("GET", "/v1/changes", Vec::new()))
        .await
        .json();
    page.changes
        .iter()
        .filter_map(|c| match &c.change {
            ChangeKind::Status {
                record_id,
                status,
                comment,
            } if record_id == id => Some((*status, comment.clone())),
            _ => None,
        })
        .collect()
}

fn case_ids(html: &str) -> Vec<String> {
    html.split("href=\"/office/cases/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}

fn next_link(html: &str) -> Option<String> {
    let end = html.find("\" rel=\"next\"")?;
    let start = html[..end].rfind("href=\"")? + "href=\"".len();
    Some(html[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}

#[tokio::test]
async fn opening_a_case_logs_the_decryption_and_shows_the_form_labels() {
    for db in databases("opening_a_case_logs_the_decryption_and_shows_the_form_labels") {
        let (backend, _kit, mut browser, id) = one_case(&db).await;
        let page = browser.get(&backend, &format!("/office/cases/{id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let html = page.text();
        assert!(
            html.contains("<dt>Familienname</dt><dd>Özdemir</dd>"),
            "{html}"
        );
        assert!(!html.contains("family_name"), "no raw JSON keys");
        assert!(html.contains("Signatur des Koffers</dt><dd>gültig"));
        assert!(html.contains("vom Server signiert, gültig"));
        let log = backend.store().decryptions(&id).await.expect("log");
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].actor, "r.berger");
        assert_eq!(log[0].purpose, "view");
        assert_eq!(
            log[0].authority_id,
            AuthorityId::parse("gemeinde-musterstadt").expect("id")
        );
        let en = browser
            .get(&backend, &format!("/office/cases/{id}?lang=en"))
            .await;
        assert!(en.text().contains("<dt>Family name</dt><dd>Özdemir</dd>"));
        assert_eq!(
            backend.store().decryptions(&id).await.expect("log").len(),
            2
        );
    }
}

#[tokio::test]
async fn a_transition_is_recorded_with_the_reviewer_and_reaches_the_kit() {
    for db in databases("a_transition_is_recorded_with_the_reviewer_and_reaches_the_kit") {
        let (backend, kit, mut browser, id) = one_case(&db).await;
        let path = format!("/office/cases/{id}");
        let status_path = format!("{path}/status");
        for (to, comment) in [
            ("in_review", ""),
            ("needs_information", "Wohnungsgeberbestätigung fehlt."),
        ] {
            browser.get(&backend, &path).await;
            let resp = browser
                .submit(
                    &backend,
                    &status_path,
                    &[("status", to), ("comment", comment)],
                )
                .await;
            assert_eq!(resp.status, StatusCode::SEE_OTHER, "{to}: {}", resp.text());
        }
        let events = backend.store().case_events(&id).await.expect("events");
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|e| e.actor == "r.berger"));
        assert_eq!(events[1].status, CaseStatus::NeedsInformation);
        let statuses = statuses_sent(&backend, &kit, &id).await;
        assert_eq!(
            statuses,
            vec![
                (CaseStatus::InReview, None),
                (
                    CaseStatus::NeedsInformation,
                    Some("Wohnungsgeberbestätigung fehlt.".to_owned())
                ),
            ],
            "{}",
            db.name()
        );
        let html = browser.get(&backend, &path).await.text();
        assert!(
            html.contains("Wohnungsgeberbestätigung fehlt."),
            "history shown"
        );
    }
}

#[tokio::test]
async fn bad_transitions_are_clear_errors_and_change_nothing() {
    let (backend, kit, mut browser, id) = one_case(&Db::Sqlite).await;
    let path = format!("/office/cases/{id}");
    let status_path = format!("{path}/status");
    let long = "x".repeat(1001);
    let cases: Vec<(Vec<(&str, &str)>, StatusCode)> = vec![
        (
            vec![("status", "completed")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // A refusal without the reason the citizen must learn.
        (
            vec![("status", "rejected")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (vec![("status", "bogus")], StatusCode::BAD_REQUEST),
        (vec![], StatusCode::BAD_REQUEST),
        (
            vec![("status", "in_review"), ("comment", &long)],
            StatusCode::BAD_REQUEST,
        ),
        (
            vec![("status", "in_review"), ("comment", "a\u{1}b")],
            StatusCode::BAD_REQUEST,
        ),
        (
            vec![("status", "in_review"), ("status", "in_review")],
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (fields, expected) in cases {
        browser.get(&backend, &path).await;
        let resp = browser.submit(&backend, &status_path, &fields).await;
        assert_eq!(resp.status, expected, "{fields:?}");
        assert!(
            resp.text().contains("role=\"alert\""),
            "a message: {fields:?}"
        );
    }
    // Missing or wrong CSRF token: 403.
    for fields in [
        vec![("status", "in_review")],
        vec![("status", "in_review"), ("csrf", "nope")],
    ] {
        let resp = browser.post(&backend, &status_path, &fields).await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN, "{fields:?}");
    }
    assert!(backend
        .store()
        .case_events(&id)
        .await
        .expect("events")
        .is_empty());
    let page: ChangesPage = backend
        .send(kit.signed("GET", "/v1/changes", Vec::new()))
        .await
        .json();
    assert!(page
        .changes
        .iter()
        .all(|c| !matches!(c.change, ChangeKind::Status { .. })));
    // A rejection needs a comment.
    browser.get(&backend, &path).await;
    browser
        .submit(&backend, &status_path, &[("status", "in_review")])
        .await;
    browser.get(&backend, &path).await;
    let resp = browser
        .submit(&backend, &status_path, &[("status", "rejected")])
        .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        backend
            .store()
            .case_events(&id)
            .await
            .expect("events")
            .len(),
        1
    );
}

#[tokio::test]
async fn the_inbox_filters_counts_and_pages_in_a_stable_order() {
    for db in databases("the_inbox_filters_counts_and_pages_in_a_stable_order") {
        let backend = Backend::new(&db).await;
        let password = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
        let (mut kit_a, mut kit_b) = (backend.kit().await, backend.kit().await);
        // 90 + 30 Anmeldungen in batches (equal received_at within a batch, so the
        // record id must break ties), and driving licences that go to the county.
        for _ in 0..3 {
            let batch: Vec<_> = (0..30).map(|_| kit_a.next(&Spec::anmeldung())).collect();
            push(&backend, &kit_a, &batch.iter().collect::<Vec<_>>()).await;
        }
        let batch: Vec<_> = (0..30).map(|_| kit_b.next(&Spec::anmeldung())).collect();
        push(&backend, &kit_b, &batch.iter().collect::<Vec<_>>()).await;
        let county = kit_b.next(&Spec::driving_licence());
        push(&backend, &kit_b, &[&county]).await;

        let authority = AuthorityId::parse("gemeinde-musterstadt").expect("id");
        let mut expected: Vec<_> = backend
            .store()
            .inbox(&authority)
            .await
            .expect("inbox")
            .into_iter()
            .map(|c| (c.received_at, c.record_id.to_string()))
            .collect();
        expected.sort();
        let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
        assert_eq!(expected.len(), 120);

        let mut browser = Browser::signed_in(&backend, "r.berger", &password).await;
        let walk = |start: &'static str| {
            let backend = &backend;
            let mut browser = browser.clone();
            async move {
                let (mut seen, mut link, mut pages) = (Vec::new(), Some(start.to_owned()), 0);
                while let Some(l) = link {
                    let resp = browser.get(backend, &l).await;
                    assert_eq!(resp.status, StatusCode::OK, "{l}");
                    seen.extend(case_ids(&resp.text()));
                    link = next_link(&resp.text());
                    pages += 1;
                    assert!(pages <= 5, "the pages end: {l} -> {link:?}");
                }
                (seen, pages)
            }
        };
        let (oldest, pages) = walk("/office/cases").await;
        assert_eq!(pages, 3);
        assert_eq!(oldest, expected, "{}", db.name());
        let (newest, _) = walk("/office/cases?sort=newest").await;
        assert_eq!(newest, expected.iter().rev().cloned().collect::<Vec<_>>());
        assert!(!oldest.contains(&county.record.record_id.to_string()));

        for id in &expected[..3] {
            let id: RecordId = id.parse().expect("id");
            backend
                .store()
                .set_case_status(
                    &id,
                    CaseStatus::InReview,
                    None,
                    "r.berger",
                    chrono::Utc::now(),
                )
                .await
                .expect("status");
        }
        let html = browser
            .get(&backend, "/office/cases?status=in_review")
            .await
            .text();
        assert_eq!(case_ids(&html), expected[..3].to_vec());
        assert!(html.contains("In Bearbeitung: <span class=\"count\">3</span>"));
        assert!(html.contains("Eingegangen: <span class=\"count\">117</span>"));
        let html = browser
            .get(&backend, &format!("/office/cases?kit={}", kit_b.kit_id))
            .await
            .text();
        assert!(
            html.contains("Eingegangen: <span class=\"count\">30</span>"),
            "{html}"
        );
        // Days are Berlin days; typed as in Germany or as a date picker sends them.
        let today = fieldkit_backend::office::local_time::today();
        let german = today.format("%d.%m.%Y");
        let range = format!("/office/cases?from={german}&to={today}&sort=newest");
        assert_eq!(
            case_ids(&browser.get(&backend, &range).await.text()).len(),
            50
        );
        let later = format!("/office/cases?from={}", today.succ_opt().expect("date"));
        assert!(case_ids(&browser.get(&backend, &later).await.text()).is_empty());
        let county_only = "/office/cases?service=fahrerlaubnis-ersterteilung";
        assert!(case_ids(&browser.get(&backend, county_only).await.text()).is_empty());
    }
}

#[tokio::test]
async fn bad_inbox_filters_are_400_pages_naming_the_problem() {
    let (backend, _kit, mut browser, _id) = one_case(&Db::Sqlite).await;
    for query in [
        "status=bogus",
        "from=2026-13-01",
        "from=31.11.2026",
        "from=21.11.26",
        "to=2026-02-30",
        "from=2026-11-22&to=2026-11-21",
        "kit=not-a-uuid",
        "service=no-such-service",
        "sort=sideways",
        "after=garbage",
        "colour=blue",
        "status=received&status=approved",
    ] {
        let resp = browser
            .get(&backend, &format!("/office/cases?{query}"))
            .await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(resp.text().contains("role=\"alert\""), "{query}");
    }
}

#[tokio::test]
async fn a_case_is_found_by_its_case_number_or_verification_code_in_its_own_authority_only() {
    use sync_protocol::codes::{case_number, verification_code};
    for db in databases("a_case_is_found_by_its_case_number_or_verification_code") {
        let backend = Backend::new(&db).await;
        let password = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
        let mut kit = backend.kit().await;
        let ours = kit.next(&Spec::anmeldung());
        // The county's case: the same kit, another authority's inbox.
        let theirs = kit.next(&Spec::driving_licence());
        push(&backend, &kit, &[&ours, &theirs]).await;
        let mut browser = Browser::signed_in(&backend, "r.berger", &password).await;
        let number = case_number(&ours.record.kit_id, ours.record.seq);
        let code = verification_code(&ours.hash);
        let case = format!("/office/cases/{}", ours.record.record_id);

        // Typed as on the kit, and as people type: lower case, spaces, O for 0, no hyphen.
        let sloppy_number = format!(" {} ", number.to_lowercase().replace('0', "o"));
        let sloppy_code = code.replace('-', "").to_lowercase();
        for typed in [number.as_str(), &sloppy_number, code.as_str(), &sloppy_code] {
            let query = serde_urlencoded::to_string([("code", typed)]).expect("query");
            let resp = browser
                .get(&backend, &format!("/office/cases?{query}"))
                .await;
            assert_eq!(
                resp.status,
                StatusCode::SEE_OTHER,
                "{typed}: {}",
                resp.text()
            );
            assert_eq!(resp.header("location"), Some(case.as_str()), "{typed}");
        }

        // The page shows both codes; the inbox lists the case by its number.
        let page = browser.get(&backend, &case).await.text();
        assert!(page.contains(&number) && page.contains(&code), "{page}");
        let inbox = browser.get(&backend, "/office/cases").await.text();
        assert!(inbox.contains(&format!(">{number}</a>")), "{inbox}");

        // Another authority's case is never named, by either code.
        for typed in [
            case_number(&theirs.record.kit_id, theirs.record.seq),
            verification_code(&theirs.hash),
        ] {
            let query = serde_urlencoded::to_string([("code", typed.as_str())]).expect("q");
            let resp = browser
                .get(&backend, &format!("/office/cases?{query}"))
                .await;
            assert_eq!(resp.status, StatusCode::OK, "{typed}");
            let html = resp.text();
            assert!(html.contains("Kein Fall Ihrer Behörde"), "{typed}: {html}");
            assert!(
                !html.contains(&theirs.record.record_id.to_string()),
                "{typed}"
            );
        }

        // Not a code at all: a 400 page naming the field; nothing is looked up.
        for junk in ["K7F3Q-0000", "ABCD-EFG", "<script>", "ABCU-EFGH"] {
            let query = serde_urlencoded::to_string([("code", junk)]).expect("q");
            let resp = browser
                .get(&backend, &format!("/office/cases?{query}"))
                .await;
            assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{junk}");
            assert!(
                resp.text().contains("Vorgangsnummer oder Prüfcode"),
                "{junk}"
            );
        }
    }
}

#[tokio::test]
async fn a_received_case_is_decided_in_one_step_and_the_kit_learns_it() {
    for db in databases("a_received_case_is_decided_in_one_step") {
        let (backend, kit, mut browser, id) = one_case(&db).await;
        let path = format!("/office/cases/{id}");
        let page = browser.get(&backend, &path).await.text();
        for offered in ["in_review", "approved", "rejected", "needs_information"] {
            assert!(
                page.contains(&format!("value=\"{offered}\"")),
                "{offered} is offered on a received case"
            );
        }
        let resp = browser
            .submit(
                &backend,
                &format!("{path}/status"),
                &[("status", "approved"), ("comment", "Vollständig.")],
            )
            .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
        let events = backend.store().case_events(&id).await.expect("events");
        assert_eq!(events.len(), 1, "one step, one history entry");
        assert_eq!(events[0].status, CaseStatus::Approved);
        let statuses = statuses_sent(&backend, &kit, &id).await;
        assert_eq!(
            statuses,
            vec![(CaseStatus::Approved, Some("Vollständig.".to_owned()))],
            "{}",
            db.name()
        );
    }
}
