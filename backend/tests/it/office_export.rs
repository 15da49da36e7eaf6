//! Back office exports: every case of a filter across several keyset pages in CSV,
//! JSON and FIT-Connect NDJSON (with SHA-512 over the decrypted attachment), each
//! exported case logged in the decryption log; selected cases by POST; bad input is a
//! 400 page before anything is decrypted or streamed.

use axum::http::StatusCode;
use fieldkit_backend::storage::Role;
use sha2::{Digest as _, Sha512};
use sync_protocol::ids::{AuthorityId, RecordId};

use crate::office_cases::anmeldung_data;
use crate::office_casework::upload;
use crate::records::push;
use crate::support::kit::Spec;
use crate::support::office::{add_user, Browser};
use crate::support::{each_store_once, Backend, Db};

/// The Musterstadt case ids in inbox order (oldest first).
async fn inbox_order(backend: &Backend) -> Vec<String> {
    let authority = AuthorityId::parse("gemeinde-musterstadt").expect("id");
    let mut cases: Vec<_> = backend
        .store()
        .inbox(&authority)
        .await
        .expect("inbox")
        .into_iter()
        .map(|c| (c.received_at, c.record_id.to_string()))
        .collect();
    cases.sort();
    cases.into_iter().map(|(_, id)| id).collect()
}

#[tokio::test]
async fn exports_stream_every_case_of_the_filter_across_pages_and_log_each() {
    let test = "exports_stream_every_case_of_the_filter_across_pages_and_log_each";
    for (db, blobs) in each_store_once(test) {
        let backend = Backend::with_blobs(&db, &blobs).await;
        let pw = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
        let mut kit = backend.kit().await;
        // 120 cases = three inbox pages; the first carries an uploaded attachment.
        let first = kit.next(
            &Spec::anmeldung()
                .with_form_data(anmeldung_data())
                .with_attachments(&[70_000]),
        );
        push(&backend, &kit, &[&first]).await;
        let a = first.record.attachments[0].id;
        upload(&backend, &kit, &first.record.record_id, &a).await;
        for _ in 0..7 {
            let batch: Vec<_> = (0..17).map(|_| kit.next(&Spec::anmeldung())).collect();
            push(&backend, &kit, &batch.iter().collect::<Vec<_>>()).await;
        }
        let county = kit.next(&Spec::driving_licence());
        push(&backend, &kit, &[&county]).await;
        let expected = inbox_order(&backend).await;
        assert_eq!(expected.len(), 120);
        let mut browser = Browser::signed_in(&backend, "r.berger", &pw).await;

        let csv = browser
            .get(&backend, "/office/cases/export?format=csv")
            .await;
        assert_eq!(csv.status, StatusCode::OK, "{}", csv.text());
        assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
        assert!(csv
            .header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment; filename=\"fieldkit-export-")
                && d.ends_with(".csv\"")));
        // For a spreadsheet in German locale: a UTF-8 byte-order mark and `;` between
        // the cells.
        let body = csv
            .body
            .strip_prefix(&[0xEF, 0xBB, 0xBF][..])
            .expect("the file starts with the UTF-8 byte-order mark");
        assert!(body.starts_with(b"case_id;service_id;"), "{}", csv.text());
        let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_reader(body);
        let headers = reader.headers().expect("header row").clone();
        assert_eq!(&headers[0], "case_id");
        assert_eq!(&headers[15], "form_data");
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
        let ids: Vec<String> = rows.iter().map(|r| r[0].to_owned()).collect();
        assert_eq!(
            ids,
            expected,
            "{}: every case once, in inbox order",
            db.name()
        );
        let row = &rows[0];
        assert_eq!(&row[1], "anmeldung");
        assert_eq!(&row[3], "99115005104000");
        assert_eq!(&row[6], "received");
        assert_eq!(&row[8], "2026-11-21");
        assert_eq!(&row[10], "c-test");
        assert_eq!(&row[12], "true");
        assert_eq!((&row[13], &row[14]), ("1", "1"));
        let data: serde_json::Value = serde_json::from_str(&row[15]).expect("form data JSON");
        assert_eq!(data, anmeldung_data());
        assert!(!ids.contains(&county.record.record_id.to_string()));

        let json = browser
            .get(&backend, "/office/cases/export?format=json&sort=newest")
            .await;
        assert_eq!(json.header("content-type"), Some("application/json"));
        let cases: Vec<serde_json::Value> = json.json();
        let newest: Vec<String> = cases
            .iter()
            .map(|c| c["caseId"].as_str().expect("id").to_owned())
            .collect();
        assert_eq!(newest, expected.iter().rev().cloned().collect::<Vec<_>>());
        assert_eq!(cases[119]["data"], anmeldung_data());
        assert_eq!(cases[119]["attachments"][0]["transferred"], true);

        let fit = browser
            .get(
                &backend,
                "/office/cases/export?format=fitconnect&clerk=c-test",
            )
            .await;
        assert_eq!(fit.header("content-type"), Some("application/x-ndjson"));
        let lines: Vec<serde_json::Value> = fit
            .text()
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect();
        assert_eq!(lines.len(), 120);
        let m = &lines[0];
        assert_eq!(
            m["publicServiceType"]["identifier"],
            "urn:de:fim:leika:leistung:99115005104000"
        );
        assert_eq!(
            m["additionalReferenceInfo"]["senderReference"],
            expected[0].as_str()
        );
        assert_eq!(
            m["additionalReferenceInfo"]["applicationDate"],
            "2026-11-21"
        );
        let att = &m["contentStructure"]["attachments"][0];
        assert_eq!(att["hash"]["type"], "sha512");
        assert_eq!(
            att["hash"]["content"],
            hex::encode(Sha512::digest(&kit.plaintexts[&a]))
        );
        assert_eq!(att["purpose"], "form");
        assert_eq!(att["mimeType"], "application/pdf");
        assert_eq!(att["filename"], format!("{}-1-form.pdf", expected[0]));
        let data_bytes = serde_json::to_vec(&m["data"]).expect("data");
        assert_eq!(
            m["contentStructure"]["data"]["hash"]["content"],
            hex::encode(Sha512::digest(&data_bytes))
        );
        assert_eq!(m["data"], anmeldung_data());

        // Three exports, each logging every exported case.
        for id in [&expected[0], &expected[119]] {
            let log = backend
                .store()
                .decryptions(&id.parse::<RecordId>().expect("id"))
                .await
                .expect("log");
            assert_eq!(log.len(), 3, "{id}");
            assert!(log
                .iter()
                .all(|e| e.purpose == "export" && e.actor == "r.berger"));
        }
        let county_log = backend
            .store()
            .decryptions(&county.record.record_id)
            .await
            .expect("log");
        assert!(
            county_log.is_empty(),
            "another authority's case is never opened"
        );
    }
}

#[tokio::test]
async fn selected_cases_export_by_post_and_foreign_ones_are_not_found() {
    let backend = Backend::new(&Db::Sqlite).await;
    let pw = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
    let mut kit = backend.kit().await;
    let records: Vec<_> = (0..3).map(|_| kit.next(&Spec::anmeldung())).collect();
    let county = kit.next(&Spec::driving_licence());
    push(
        &backend,
        &kit,
        &records.iter().chain([&county]).collect::<Vec<_>>(),
    )
    .await;
    let ids: Vec<String> = records
        .iter()
        .map(|r| r.record.record_id.to_string())
        .collect();
    let mut browser = Browser::signed_in(&backend, "r.berger", &pw).await;

    let inbox = browser.get(&backend, "/office/cases").await.text();
    assert!(inbox.contains(&format!(
        "<input type=\"checkbox\" name=\"case\" value=\"{}\"",
        ids[0]
    )));
    let resp = browser
        .submit(
            &backend,
            "/office/cases/export",
            &[
                ("format", "csv"),
                ("case", &ids[2]),
                ("case", &ids[0]),
                ("case", &ids[2]),
            ],
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    let body = resp
        .body
        .strip_prefix(&[0xEF, 0xBB, 0xBF][..])
        .expect("BOM");
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_reader(body);
    let got: Vec<String> = reader
        .records()
        .map(|r| r.expect("row")[0].to_owned())
        .collect();
    assert_eq!(
        got,
        vec![ids[2].clone(), ids[0].clone()],
        "the selection, once each"
    );
    assert!(backend
        .store()
        .decryptions(&records[1].record.record_id)
        .await
        .expect("log")
        .is_empty());

    // A case of another authority in the selection: 404 like an unknown one, nothing exported.
    browser.get(&backend, "/office/cases").await;
    let foreign = county.record.record_id.to_string();
    let resp = browser
        .submit(
            &backend,
            "/office/cases/export",
            &[("format", "json"), ("case", &ids[1]), ("case", &foreign)],
        )
        .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert!(backend
        .store()
        .decryptions(&records[1].record.record_id)
        .await
        .expect("log")
        .is_empty());
    let resp = browser
        .post(
            &backend,
            "/office/cases/export",
            &[("format", "csv"), ("case", &ids[1])],
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN, "no CSRF token");
}

#[tokio::test]
async fn bad_export_requests_are_400_pages_with_no_partial_file() {
    let backend = Backend::new(&Db::Sqlite).await;
    let pw = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
    let mut kit = backend.kit().await;
    let record = kit.next(&Spec::anmeldung());
    push(&backend, &kit, &[&record]).await;
    let mut browser = Browser::signed_in(&backend, "r.berger", &pw).await;
    for (query, message) in [
        ("", "Bitte wählen Sie ein Exportformat"),
        ("format=xls", "unbekanntes Exportformat"),
        ("format=csv&format=json", "mehrfach angegeben"),
        ("format=csv&status=bogus", "Status: ungültiger Wert"),
        ("format=csv&from=2026-02-30", "kein gültiges Datum"),
        ("format=csv&clerk=Not%20A%20Clerk", "ungültiger Wert"),
        ("format=csv&assigned=someone", "ungültiger Wert"),
        ("format=csv&kit=nope", "ungültiger Wert"),
        ("format=csv&colour=blue", "unbekannter Parameter"),
    ] {
        let resp = browser
            .get(&backend, &format!("/office/cases/export?{query}"))
            .await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            resp.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{query}"
        );
        assert!(
            resp.header("content-disposition").is_none(),
            "{query}: no file"
        );
        assert!(resp.text().contains(message), "{query}: {}", resp.text());
    }
    let en = browser
        .get(&backend, "/office/cases/export?format=xls&lang=en")
        .await;
    assert!(en.text().contains("unknown export format"));
    browser.get(&backend, "/office/cases").await;
    for fields in [
        vec![("format", "csv")],
        vec![("format", "pdf"), ("case", "x")],
        vec![("format", "csv"), ("case", "x"), ("extra", "1")],
    ] {
        let resp = browser
            .submit(&backend, "/office/cases/export", &fields)
            .await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{fields:?}");
    }
    let resp = browser
        .submit(
            &backend,
            "/office/cases/export",
            &[("format", "csv"), ("case", "not-an-id")],
        )
        .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert!(backend
        .store()
        .decryptions(&record.record.record_id)
        .await
        .expect("log")
        .is_empty());
}
