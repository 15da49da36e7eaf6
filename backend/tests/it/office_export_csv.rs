//! The CSV export as a spreadsheet in German locale opens it: UTF-8 with BOM, `;`,
//! CRLF, RFC 4180 quoting, no cell that starts a formula; an export of one service and
//! one form version with one column per form field under the catalog's German label;
//! any other export with the generic columns; wrong `version` input a 400 before
//! anything is decrypted. Issue 17, item 8.

use axum::http::StatusCode;
use fieldkit_backend::storage::Role;
use sync_protocol::ids::RecordId;

use crate::office_cases::anmeldung_data;
use crate::records::push;
use crate::support::kit::Spec;
use crate::support::office::{add_user, Browser};
use crate::support::{databases, Backend, Db, Resp};

/// The place of birth of person 1: a `;`, a line break and umlauts inside one value.
const PLACE: &str = "Bad Homburg; v. d. Höhe\nOT Kirdorf";
/// The first names of person 2: what a spreadsheet would run as a formula.
const FORMULA: &str = "=HYPERLINK(\"http://example.invalid\";\"x\")";

fn tricky_anmeldung() -> serde_json::Value {
    let mut data = anmeldung_data();
    data["persons"][0]["place_of_birth"] = PLACE.into();
    data["persons"][1]["first_names"] = FORMULA.into();
    data
}

fn certificate() -> Spec {
    Spec {
        form: "meldebescheinigung",
        leika: "99115003012000",
        ..Spec::anmeldung()
    }
}

/// The rows of a CSV export, header first, after checking what every export must be:
/// BOM, CRLF after every record, `;` between cells.
fn csv_rows(resp: &Resp) -> Vec<Vec<String>> {
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("text/csv; charset=utf-8"));
    let body = resp
        .body
        .strip_prefix(&[0xEF, 0xBB, 0xBF][..])
        .expect("the file starts with the UTF-8 byte-order mark");
    assert!(body.ends_with(b"\r\n"), "CRLF after the last record");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .from_reader(body);
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| {
            r.expect("an RFC 4180 record")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    // Every record ends in CRLF: as many CRLFs outside quotes as records.
    let mut quoted = false;
    let mut line_ends = 0;
    for pair in body.windows(2) {
        match pair {
            [b'"', _] => quoted = !quoted,
            [b'\r', b'\n'] if !quoted => line_ends += 1,
            _ => {}
        }
    }
    assert_eq!(line_ends, rows.len(), "one CRLF per record");
    rows
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name:?} in {header:?}"))
}

#[tokio::test]
async fn one_service_and_version_exports_a_column_per_field_under_the_catalog_labels() {
    for db in
        databases("one_service_and_version_exports_a_column_per_field_under_the_catalog_labels")
    {
        let backend = Backend::new(&db).await;
        let pw = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
        let mut kit = backend.kit().await;
        let family = kit.next(&Spec::anmeldung().with_form_data(tricky_anmeldung()));
        let other = kit.next(&certificate());
        push(&backend, &kit, &[&family, &other]).await;
        let mut browser = Browser::signed_in(&backend, "r.berger", &pw).await;

        let inbox = browser
            .get(&backend, "/office/cases?service=anmeldung")
            .await
            .text();
        assert!(
            inbox.contains("<select id=\"x-version\" name=\"version\">"),
            "the export form offers the labelled columns for a service filter"
        );

        let resp = browser
            .get(
                &backend,
                "/office/cases/export?format=csv&service=anmeldung&version=1",
            )
            .await;
        let raw = resp.text();
        let rows = csv_rows(&resp);
        assert_eq!(rows.len(), 2, "{}: header and the one Anmeldung", db.name());
        let (header, row) = (&rows[0], &rows[1]);
        assert_eq!(header.len(), row.len());
        assert_eq!(&header[..3], ["Vorgangsnummer", "Prüfcode", "Vorgangs-ID"]);
        assert_eq!(row[2], family.record.record_id.to_string());
        assert_eq!(
            row[column(header, "Leistung")],
            "Anmeldung / Ummeldung einer Wohnung"
        );
        assert_eq!(row[column(header, "Status")], "Eingegangen");
        assert_eq!(row[column(header, "Besuchstag")], "21.11.2026");
        assert_eq!(row[column(header, "Signatur gültig")], "ja");
        let name = column(header, "Meldepflichtige Personen 1: Familienname");
        assert_eq!(row[name], "Özdemir", "an umlaut survives");
        assert_eq!(
            row[column(header, "Meldepflichtige Personen 1: Geburtsdatum")],
            "29.02.1984"
        );
        assert_eq!(
            row[column(header, "Meldepflichtige Personen 2: Geschlecht")],
            "männlich",
            "enum values carry the catalog's label"
        );
        assert_eq!(
            row[column(header, "Meldepflichtige Personen 1: Geburtsort")],
            PLACE,
            "`;` and a line break inside one cell"
        );
        assert!(
            raw.contains(&format!("\"{PLACE}\"")),
            "the cell is quoted in the file"
        );
        assert_eq!(
            row[column(header, "Meldepflichtige Personen 2: Vornamen")],
            format!("'{FORMULA}"),
            "a would-be formula starts with an apostrophe"
        );
        assert_eq!(
            row[column(header, "Meldepflichtige Personen 4: Familienname")],
            "",
            "every possible person has columns; absent ones stay empty"
        );
        assert!(
            header.iter().all(|h| !h.contains("persons")),
            "no JSON keys in the headers: {header:?}"
        );
        assert_eq!(header.last().map(String::as_str), Some("Weitere Angaben"));

        let log = backend
            .store()
            .decryptions(&family.record.record_id)
            .await
            .expect("log");
        assert_eq!(log.len(), 1);
        assert_eq!(
            (log[0].purpose.as_str(), log[0].actor.as_str()),
            ("export", "r.berger")
        );
        let other_log = backend
            .store()
            .decryptions(&other.record.record_id)
            .await
            .expect("log");
        assert!(
            other_log.is_empty(),
            "a case outside the export is not opened"
        );

        let en = browser
            .get(
                &backend,
                "/office/cases/export?format=csv&service=anmeldung&version=1&lang=en",
            )
            .await;
        let en = csv_rows(&en);
        assert_eq!(en[0][0], "Case number");
        column(&en[0], "Persons registering 1: Family name");
    }
}

#[tokio::test]
async fn an_export_of_several_services_keeps_the_generic_columns() {
    let backend = Backend::new(&Db::Sqlite).await;
    let pw = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
    let mut kit = backend.kit().await;
    let family = kit.next(&Spec::anmeldung().with_form_data(tricky_anmeldung()));
    let other = kit.next(&certificate());
    push(&backend, &kit, &[&family, &other]).await;
    let mut browser = Browser::signed_in(&backend, "r.berger", &pw).await;

    for query in [
        "format=csv",
        "format=csv&service=anmeldung",
        "format=csv&version=",
    ] {
        let resp = browser
            .get(&backend, &format!("/office/cases/export?{query}"))
            .await;
        let rows = csv_rows(&resp);
        let header = &rows[0];
        assert_eq!(&header[..2], ["case_id", "service_id"], "{query}");
        let data = column(header, "form_data");
        let family_row = rows
            .iter()
            .find(|r| r[0] == family.record.record_id.to_string())
            .expect("the Anmeldung");
        let form: serde_json::Value =
            serde_json::from_str(&family_row[data]).expect("the form as JSON");
        assert_eq!(
            form,
            tricky_anmeldung(),
            "{query}: the whole form, nothing lost"
        );
        let services: Vec<&str> = rows[1..].iter().map(|r| r[1].as_str()).collect();
        if query == "format=csv" {
            assert_eq!(services, ["anmeldung", "meldebescheinigung"]);
        }
    }
}

#[tokio::test]
async fn a_wrong_form_version_is_a_clear_400_before_anything_is_decrypted() {
    let backend = Backend::new(&Db::Sqlite).await;
    let pw = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
    let mut kit = backend.kit().await;
    let family = kit.next(&Spec::anmeldung().with_form_data(anmeldung_data()));
    push(&backend, &kit, &[&family]).await;
    let mut browser = Browser::signed_in(&backend, "r.berger", &pw).await;

    for (query, says) in [
        ("format=csv&version=1", "nur zusammen mit einer Leistung"),
        ("format=csv&service=anmeldung&version=eins", "ist eine Zahl"),
        (
            "format=csv&service=anmeldung&version=9",
            "gibt es für die Leistung nicht",
        ),
        (
            "format=csv&service=anmeldung&version=1&version=1",
            "mehrfach angegeben",
        ),
    ] {
        let resp = browser
            .get(&backend, &format!("/office/cases/export?{query}"))
            .await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(resp.text().contains(says), "{query}: {}", resp.text());
        assert!(
            resp.text().contains("version"),
            "{query}: names the parameter"
        );
    }
    assert!(backend
        .store()
        .decryptions(&family.record.record_id)
        .await
        .expect("log")
        .is_empty());
}

#[tokio::test]
async fn another_authoritys_reviewer_exports_none_of_the_cases() {
    let backend = Backend::new(&Db::Sqlite).await;
    let county = add_user(
        &backend,
        "landkreis-musterkreis",
        "k.sommer",
        Role::Reviewer,
    )
    .await;
    let admin = add_user(
        &backend,
        "gemeinde-musterstadt",
        "a.admin",
        Role::AuthorityAdmin,
    )
    .await;
    let mut kit = backend.kit().await;
    let family = kit.next(&Spec::anmeldung().with_form_data(anmeldung_data()));
    push(&backend, &kit, &[&family]).await;
    let path = "/office/cases/export?format=csv&service=anmeldung&version=1";

    let mut browser = Browser::signed_in(&backend, "k.sommer", &county).await;
    let rows = csv_rows(&browser.get(&backend, path).await);
    assert_eq!(rows.len(), 1, "the header only");

    let mut browser = Browser::signed_in(&backend, "a.admin", &admin).await;
    assert_eq!(
        browser.get(&backend, path).await.status,
        StatusCode::FORBIDDEN,
        "exports are for reviewers"
    );
    let id: RecordId = family.record.record_id;
    assert!(backend
        .store()
        .decryptions(&id)
        .await
        .expect("log")
        .is_empty());
}
