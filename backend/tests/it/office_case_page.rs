//! The case page as a reviewer works with it (issue 17, items 7 and 10): decision and
//! assignment first, evidence folded, empty sections left out, attachments under the
//! catalog's label with a sandboxed inline view of a PDF (logged like a download), a
//! refused decision that returns to the case with the input kept, and a print view
//! that is logged as an opening. Another authority's reviewer gets 404 everywhere.

use axum::http::StatusCode;
use fieldkit_backend::storage::Role;
use sync_protocol::api::CaseStatus;
use sync_protocol::record::SignedRecord;

use crate::office_cases::anmeldung_data;
use crate::office_casework::{case_on, purposes, upload};
use crate::support::kit::Spec;
use crate::support::office::{add_user, Browser};
use crate::support::{databases, Backend, Blobs, Db};

/// Where `needle` is in `html` (panics naming it when absent).
fn at(html: &str, needle: &str) -> usize {
    html.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not on the page:\n{html}"))
}

async fn anmeldung_with_files(db: &Db) -> (Backend, Browser, SignedRecord) {
    let spec = Spec::anmeldung()
        .with_form_data(anmeldung_data())
        .with_attachments(&[2_000, 1_000]);
    let (backend, kit, browser, record) = case_on(db, &Blobs::Filesystem, &spec).await;
    for a in &record.record.attachments {
        upload(&backend, &kit, &record.record.record_id, &a.id).await;
    }
    (backend, browser, record)
}

#[tokio::test]
async fn the_case_page_puts_the_decision_first_and_labels_files_from_the_catalog() {
    for db in databases("the_case_page_puts_the_decision_first_and_labels_files_from_the_catalog") {
        let (backend, mut browser, record) = anmeldung_with_files(&db).await;
        let id = record.record.record_id;
        let html = browser
            .get(&backend, &format!("/office/cases/{id}"))
            .await
            .text();
        let decision = at(&html, "id=\"transition-heading\"");
        let assignment = at(&html, "id=\"assignment-heading\"");
        let data = at(&html, "id=\"data-heading\"");
        let files = at(&html, "id=\"attachments-heading\"");
        let evidence = at(&html, "<details class=\"evidence\">");
        assert!(
            decision < data && assignment < data,
            "{}: work first",
            db.name()
        );
        assert!(data < files && files < evidence, "evidence last, folded");
        assert!(at(&html, "Signatur des Koffers") > evidence);
        assert!(
            !html.contains("id=\"history-heading\""),
            "no empty history section"
        );
        // The catalog's labels, with the file names beside them.
        let printout = at(&html, ">Unterschriebener Ausdruck der Meldedaten</th>");
        let landlord = at(&html, ">Wohnungsgeberbestätigung (Scan)</th>");
        assert!(printout < landlord);
        assert!(html.contains(&format!("<code>{id}-2-attachment.pdf</code>")));
        let a = record.record.attachments[1].id;
        let view = format!("/office/cases/{id}/attachments/{a}/view");
        assert!(html.contains(&format!("href=\"{view}\"")), "{html}");
        assert!(html.contains("href=\"/office/cases/") && html.contains("?print=1\""));

        // The PDF in the office: an <object> of the sandboxed inline answer, with the
        // download as its fallback; only loading the file decrypts and logs it.
        let before = purposes(&backend, id).await;
        let page = browser.get(&backend, &view).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let text = page.text();
        let inline = format!("/office/cases/{id}/attachments/{a}?inline=1");
        assert!(
            text.contains(&format!("data=\"{inline}\" type=\"application/pdf\"")),
            "{text}"
        );
        assert!(text.contains("<h1>Wohnungsgeberbestätigung (Scan)</h1>"));
        assert_eq!(purposes(&backend, id).await, before);
        let file = browser.get(&backend, &inline).await;
        assert_eq!(file.status, StatusCode::OK);
        assert_eq!(file.header("content-type"), Some("application/pdf"));
        assert!(file
            .header("content-disposition")
            .is_some_and(|d| d.starts_with("inline;")));
        assert!(file
            .header("content-security-policy")
            .is_some_and(|c| c.starts_with("sandbox;")));
        assert_eq!(file.header("x-content-type-options"), Some("nosniff"));
        let mut expected = before.clone();
        expected.push("attachment".to_owned());
        assert_eq!(purposes(&backend, id).await, expected);
    }
}

#[tokio::test]
async fn a_refused_decision_returns_to_the_case_with_the_input_kept() {
    for db in databases("a_refused_decision_returns_to_the_case_with_the_input_kept") {
        let (backend, mut browser, record) = anmeldung_with_files(&db).await;
        let id = record.record.record_id;
        let path = format!("/office/cases/{id}");
        let status_path = format!("{path}/status");
        let long = "ä".repeat(1001);
        for (fields, code, kept, says) in [
            (
                vec![("status", "rejected")],
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                "ein Kommentar erforderlich",
            ),
            (
                vec![
                    ("status", "completed"),
                    ("comment", "Bitte <Reisepass> & Meldeschein"),
                ],
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("Bitte &#60;Reisepass&#62; &#38; Meldeschein"),
                "nicht vorgesehen",
            ),
            (
                vec![("status", "needs_information"), ("comment", long.as_str())],
                StatusCode::BAD_REQUEST,
                Some(long.as_str()),
                "länger als 1000 Zeichen",
            ),
        ] {
            browser.get(&backend, &path).await;
            let resp = browser.submit(&backend, &status_path, &fields).await;
            assert_eq!(resp.status, code, "{}: {fields:?}", db.name());
            let html = resp.text();
            assert!(
                html.contains("id=\"decision-errors\"") && html.contains(says),
                "{fields:?}: the error on the case page:\n{html}"
            );
            assert!(
                html.contains("id=\"data-heading\""),
                "the case, not a bare error page"
            );
            let chosen = fields[0].1;
            if chosen != "completed" {
                assert!(
                    html.contains(&format!(
                        "id=\"to-{chosen}\" name=\"status\" value=\"{chosen}\" required checked"
                    )),
                    "{fields:?}: the chosen status stays chosen"
                );
            }
            if let Some(kept) = kept {
                assert!(
                    html.contains(&format!(
                        "aria-describedby=\"comment-hint\">{kept}</textarea>"
                    )),
                    "{fields:?}: the comment as typed"
                );
            }
            // The page was just submitted from can submit again: the CSRF token is there.
            assert!(html.contains("name=\"csrf\""));
        }
        let case = backend
            .store()
            .case_detail(&id)
            .await
            .expect("case")
            .expect("exists");
        assert_eq!(case.case.status, CaseStatus::Received, "nothing changed");

        // Then the reviewer adds the comment and the one-step decision goes through.
        browser.get(&backend, &path).await;
        let resp = browser
            .submit(
                &backend,
                &status_path,
                &[("status", "rejected"), ("comment", "Keine Wohnung.")],
            )
            .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
    }
}

#[tokio::test]
async fn the_print_view_shows_the_case_without_navigation_and_is_logged() {
    let (backend, mut browser, record) = anmeldung_with_files(&Db::Sqlite).await;
    let id = record.record.record_id;
    let resp = browser
        .get(&backend, &format!("/office/cases/{id}?print=1"))
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    let html = resp.text();
    assert!(!html.contains("<nav"), "no navigation");
    assert!(!html.contains("<form"), "no forms");
    assert!(!html.contains("/attachments/"), "no file links");
    for shown in [
        "data-code=\"case-number\"",
        "data-code=\"verification\"",
        "<strong>Eingegangen</strong>",
        "<dt>Familienname</dt><dd>Özdemir</dd>",
        ">Wohnungsgeberbestätigung (Scan)</th>",
        "<details class=\"evidence\" open>",
    ] {
        assert!(html.contains(shown), "{shown}:\n{html}");
    }
    assert_eq!(purposes(&backend, id).await, ["print"]);

    for bad in ["?print=2", "?print=1&x=1"] {
        let resp = browser
            .get(&backend, &format!("/office/cases/{id}{bad}"))
            .await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(
        purposes(&backend, id).await,
        ["print"],
        "bad input opens nothing"
    );
}

#[tokio::test]
async fn another_authoritys_reviewer_gets_none_of_the_new_views() {
    let (backend, _, record) = anmeldung_with_files(&Db::Sqlite).await;
    let id = record.record.record_id;
    let a = record.record.attachments[1].id;
    let pw = add_user(
        &backend,
        "landkreis-musterkreis",
        "k.sommer",
        Role::Reviewer,
    )
    .await;
    let mut county = Browser::signed_in(&backend, "k.sommer", &pw).await;
    for path in [
        format!("/office/cases/{id}?print=1"),
        format!("/office/cases/{id}/attachments/{a}/view"),
        format!("/office/cases/{id}/attachments/{a}?inline=1"),
    ] {
        assert_eq!(
            county.get(&backend, &path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    county.get(&backend, "/office/cases").await;
    let resp = county
        .submit(
            &backend,
            &format!("/office/cases/{id}/status"),
            &[("status", "rejected")],
        )
        .await;
    assert_eq!(
        resp.status,
        StatusCode::NOT_FOUND,
        "a refused decision on a foreign case shows nothing of it"
    );
    assert!(purposes(&backend, id).await.is_empty());
}

#[tokio::test]
async fn the_sealed_kind_and_file_name_label_a_file_on_the_page_and_in_the_export() {
    // The kit seals what each file is and the name the clerk picked (PROTOCOL.md §5.3).
    // The kinds here contradict the purposes on purpose: the sealed kind must win over
    // the office's guess. The file name is hostile: a path, markup and a right-to-left
    // override that would disguise the extension.
    let spec = Spec::anmeldung()
        .with_form_data(anmeldung_data())
        .with_attachments(&[2_000, 1_000])
        .with_labels(&[
            ("landlord-confirmation", None),
            (
                "signed-printout",
                Some("..\\Scans\\Pass <Kowalski>\u{202E}fdp.exe"),
            ),
        ]);
    let (backend, kit, mut browser, record) = case_on(&Db::Sqlite, &Blobs::Filesystem, &spec).await;
    for a in &record.record.attachments {
        upload(&backend, &kit, &record.record.record_id, &a.id).await;
    }
    let id = record.record.record_id;
    let html = browser
        .get(&backend, &format!("/office/cases/{id}"))
        .await
        .text();
    at(
        &html,
        "data-purpose=\"form\">Wohnungsgeberbestätigung (Scan)</th>",
    );
    at(
        &html,
        "data-purpose=\"attachment\">Unterschriebener Ausdruck der Meldedaten</th>",
    );
    let sanitized = "Pass _Kowalski_fdp.exe";
    at(
        &html,
        &format!("<span data-testid=\"file-name\">{sanitized}</span>"),
    );
    assert!(!html.contains('\u{202E}') && !html.contains("<Kowalski"));

    let export = browser
        .get(&backend, "/office/cases/export?format=json")
        .await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.text());
    let text = export.text();
    assert!(
        text.contains(&format!("\"filename\":\"{sanitized}\"")),
        "the export names the file as the clerk did: {text}"
    );
}
