//! Back office case work: attachment downloads (decrypted as a stream, logged, only
//! once transferred, never complete when the file differs from its manifest, images
//! previewable), assignment (recorded with the acting reviewer, compare-and-set, only
//! to reviewers of the same authority) and the inbox's clerk and assignment filters.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fieldkit_backend::server::app_router;
use fieldkit_backend::storage::{CaseEventKind, Role};
use sync_protocol::ids::{AttachmentId, RecordId};
use sync_protocol::record::SignedRecord;
use tower::ServiceExt as _;

use crate::office_cases::anmeldung_data;
use crate::records::push;
use crate::support::kit::Spec;
use crate::support::office::{add_user, Browser};
use crate::support::{databases, each_store_once, Backend, Blobs, Db, TestKit};
use crate::uploads::{create, patch};

/// Uploads an attachment of a delivered record completely (tus).
pub async fn upload(backend: &Backend, kit: &TestKit, record: &RecordId, a: &AttachmentId) {
    let ciphertext = kit.ciphertexts[a].clone();
    let resp = create(backend, kit, record, a, ciphertext.len()).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{resp:?}");
    let resp = patch(backend, kit, a, 0, &ciphertext, &ciphertext).await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT, "{resp:?}");
}

/// A backend, a signed-in Musterstadt reviewer and one pushed case made from `spec`.
async fn case_with(db: &Db, spec: &Spec) -> (Backend, TestKit, Browser, SignedRecord) {
    case_on(db, &Blobs::Filesystem, spec).await
}

/// [`case_with`], with attachments in `blobs`.
pub async fn case_on(
    db: &Db,
    blobs: &Blobs,
    spec: &Spec,
) -> (Backend, TestKit, Browser, SignedRecord) {
    let backend = Backend::with_blobs(db, blobs).await;
    let password = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
    let mut kit = backend.kit().await;
    let record = kit.next(spec);
    push(&backend, &kit, &[&record]).await;
    let browser = Browser::signed_in(&backend, "r.berger", &password).await;
    (backend, kit, browser, record)
}

#[tokio::test]
async fn a_transferred_attachment_downloads_decrypted_and_logged_the_rest_is_not_yet_there() {
    for (db, blobs) in each_store_once("a_transferred_attachment_downloads_decrypted_and_logged") {
        // 1.3 MB spans two read windows and many STREAM chunks; the second file is
        // never uploaded.
        let spec = Spec::anmeldung()
            .with_form_data(anmeldung_data())
            .with_attachments(&[1_300_000, 1_000]);
        let (backend, kit, mut browser, record) = case_on(&db, &blobs, &spec).await;
        let id = record.record.record_id;
        let (sent, pending) = (
            record.record.attachments[0].id,
            record.record.attachments[1].id,
        );
        upload(&backend, &kit, &id, &sent).await;

        let page = browser.get(&backend, &format!("/office/cases/{id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let html = page.text();
        let link = format!("/office/cases/{id}/attachments/{sent}");
        assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
        assert!(
            html.contains(&format!(
                "<code>{id}-2-attachment.pdf</code> <span class=\"state\">(noch nicht übertragen)"
            )),
            "{html}"
        );
        assert!(
            html.contains(&format!("href=\"{link}/view\"")),
            "a PDF can be viewed in the office: {html}"
        );
        assert!(
            !html.contains(&format!("attachments/{pending}")),
            "no link to a missing file"
        );
        assert!(!html.contains("<img"), "PDFs have no preview");

        let resp = browser.get(&backend, &link).await;
        assert_eq!(
            resp.status,
            StatusCode::OK,
            "{} + {}",
            db.name(),
            blobs.name()
        );
        assert_eq!(resp.body.as_ref(), kit.plaintexts[&sent].as_slice());
        assert_eq!(resp.header("content-type"), Some("application/pdf"));
        assert_eq!(resp.header("content-length"), Some("1300000"));
        assert_eq!(
            resp.header("content-disposition"),
            Some(format!("attachment; filename=\"{id}-1-form.pdf\"").as_str())
        );
        assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(resp.header("cache-control"), Some("no-store"));
        let purposes: Vec<String> = backend
            .store()
            .decryptions(&id)
            .await
            .expect("log")
            .into_iter()
            .map(|e| format!("{}:{}", e.actor, e.purpose))
            .collect();
        assert_eq!(purposes, ["r.berger:view", "r.berger:attachment"]);

        // Not yet transferred: a clear 404, nothing decrypted.
        let resp = browser
            .get(
                &backend,
                &format!("/office/cases/{id}/attachments/{pending}"),
            )
            .await;
        assert_eq!(resp.status, StatusCode::NOT_FOUND);
        assert!(
            resp.text().contains("noch nicht übertragen"),
            "{}",
            resp.text()
        );
        let en = browser
            .get(
                &backend,
                &format!("/office/cases/{id}/attachments/{pending}?lang=en"),
            )
            .await;
        assert!(en.text().contains("has not been transferred yet"));
        assert_eq!(
            backend.store().decryptions(&id).await.expect("log").len(),
            2
        );
    }
}

#[tokio::test]
async fn bad_attachment_requests_are_refused_without_decrypting() {
    let spec = Spec::anmeldung().with_attachments(&[1_000]);
    let (backend, kit, mut browser, record) = case_with(&Db::Sqlite, &spec).await;
    let id = record.record.record_id;
    let a = record.record.attachments[0].id;
    upload(&backend, &kit, &id, &a).await;
    let base = format!("/office/cases/{id}/attachments");
    for (path, expected) in [
        (format!("{base}/{a}?inline=yes"), StatusCode::BAD_REQUEST),
        (format!("{base}/{a}?colour=blue"), StatusCode::BAD_REQUEST),
        (format!("{base}/not-an-id"), StatusCode::NOT_FOUND),
        (
            format!("{base}/{}", AttachmentId::from_uuid(uuid::Uuid::new_v4())),
            StatusCode::NOT_FOUND,
        ),
        (
            format!(
                "/office/cases/{}/attachments/{a}",
                RecordId::from_uuid(uuid::Uuid::now_v7())
            ),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let resp = browser.get(&backend, &path).await;
        assert_eq!(resp.status, expected, "{path}");
        assert!(resp.text().contains("role=\"alert\""), "{path}: a message");
    }
    assert!(backend
        .store()
        .decryptions(&id)
        .await
        .expect("log")
        .is_empty());
}

/// The purposes of case `id`'s decryption log, oldest first.
pub async fn purposes(backend: &crate::support::Backend, id: RecordId) -> Vec<String> {
    backend
        .store()
        .decryptions(&id)
        .await
        .expect("log")
        .into_iter()
        .map(|e| e.purpose)
        .collect()
}

#[tokio::test]
async fn an_image_is_viewed_in_a_sandboxed_frame_and_each_view_is_logged() {
    let mut spec = Spec::anmeldung().with_attachments(&[5_000]);
    spec.media_type = "image/png";
    let (backend, kit, mut browser, record) = case_with(&Db::Sqlite, &spec).await;
    let id = record.record.record_id;
    let a = record.record.attachments[0].id;
    upload(&backend, &kit, &id, &a).await;
    let html = browser
        .get(&backend, &format!("/office/cases/{id}"))
        .await
        .text();
    assert!(
        !html.contains("<img"),
        "the case page decrypts no file by itself"
    );
    let link = format!("/office/cases/{id}/attachments/{a}");
    let view = format!("{link}/view");
    assert!(html.contains(&format!("href=\"{view}\"")), "{html}");
    let opened = purposes(&backend, id).await;

    let page = browser.get(&backend, &view).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let src = format!("{link}?inline=1");
    assert!(
        page.text().contains(&format!(
            "<iframe class=\"inline-view\" sandbox src=\"{src}\""
        )),
        "{}",
        page.text()
    );
    assert!(page
        .header("content-security-policy")
        .is_some_and(|c| c.contains("frame-src 'self'") && !c.contains("script-src")));
    assert_eq!(
        purposes(&backend, id).await,
        opened,
        "the frame page itself decrypts nothing"
    );

    let resp = browser.get(&backend, &src).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.header("content-type"), Some("image/png"));
    assert_eq!(
        resp.header("content-disposition"),
        Some(format!("inline; filename=\"{id}-1-form.png\"").as_str())
    );
    assert!(resp
        .header("content-security-policy")
        .is_some_and(|c| c.starts_with("sandbox;")
            && c.contains("default-src 'none'")
            && c.contains("frame-ancestors 'self'")));
    assert_eq!(resp.header("x-frame-options"), Some("SAMEORIGIN"));
    assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(resp.body.as_ref(), kit.plaintexts[&a].as_slice());
    let mut expected = opened.clone();
    expected.push("attachment".to_owned());
    assert_eq!(
        purposes(&backend, id).await,
        expected,
        "an inline view is logged like a download"
    );
    let download = browser.get(&backend, &link).await;
    assert_eq!(download.header("x-frame-options"), Some("DENY"));
}

#[tokio::test]
async fn an_attachment_that_differs_from_its_manifest_never_arrives_complete() {
    // The kit's manifest names a wrong plaintext hash: the ciphertext still matches
    // (so the upload is accepted) and every chunk authenticates, but the final chunk
    // must be withheld and the transfer cut.
    for (db, blobs) in each_store_once("an_attachment_that_differs_from_its_manifest") {
        differing_attachment_is_cut(&db, &blobs).await;
    }
}

async fn differing_attachment_is_cut(db: &Db, blobs: &Blobs) {
    let mut spec = Spec::anmeldung().with_attachments(&[150_000]);
    spec.wrong_plaintext_hash = true;
    let (backend, kit, browser, record) = case_on(db, blobs, &spec).await;
    let id = record.record.record_id;
    let a = record.record.attachments[0].id;
    upload(&backend, &kit, &id, &a).await;
    let cookies = browser
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let req = Request::get(format!("/office/cases/{id}/attachments/{a}"))
        .header("cookie", cookies)
        .body(Body::empty())
        .expect("request");
    let response = app_router(backend.app.clone())
        .oneshot(req)
        .await
        .expect("router");
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "headers go out before the end is known"
    );
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await;
    assert!(
        body.is_err(),
        "the body must end with an error, not look complete"
    );
}

async fn assign(
    browser: &mut Browser,
    backend: &Backend,
    id: &RecordId,
    fields: &[(&str, &str)],
) -> crate::support::Resp {
    browser.get(backend, &format!("/office/cases/{id}")).await;
    browser
        .submit(backend, &format!("/office/cases/{id}/assignee"), fields)
        .await
}

#[tokio::test]
async fn assignment_is_recorded_with_the_actor_and_filters_the_inbox() {
    for db in databases("assignment_is_recorded_with_the_actor_and_filters_the_inbox") {
        let backend = Backend::new(&db).await;
        let pw = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
        add_user(&backend, "gemeinde-musterstadt", "s.yilmaz", Role::Reviewer).await;
        add_user(&backend, "landkreis-musterkreis", "k.klein", Role::Reviewer).await;
        add_user(&backend, "gemeinde-musterstadt", "it.ops", Role::ItOperator).await;
        let mut kit = backend.kit().await;
        let mut other = Spec::anmeldung();
        other.clerk = "c-mueller";
        let records = [
            kit.next(&Spec::anmeldung()),
            kit.next(&Spec::anmeldung()),
            kit.next(&other),
        ];
        push(&backend, &kit, &records.iter().collect::<Vec<_>>()).await;
        let ids: Vec<RecordId> = records.iter().map(|r| r.record.record_id).collect();
        let mut browser = Browser::signed_in(&backend, "r.berger", &pw).await;

        let html = browser
            .get(&backend, &format!("/office/cases/{}", ids[0]))
            .await
            .text();
        assert!(
            html.contains("<option value=\"s.yilmaz\">s.yilmaz</option>"),
            "{html}"
        );
        assert!(
            !html.contains("k.klein") && !html.contains("it.ops"),
            "only own reviewers"
        );

        let resp = assign(
            &mut browser,
            &backend,
            &ids[0],
            &[("assignee", "r.berger"), ("expected", "")],
        )
        .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
        let resp = assign(
            &mut browser,
            &backend,
            &ids[1],
            &[("assignee", "s.yilmaz"), ("expected", "")],
        )
        .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
        // A stale page (it still shows nobody) loses against the assignment made meanwhile.
        let resp = assign(
            &mut browser,
            &backend,
            &ids[1],
            &[("assignee", "r.berger"), ("expected", "")],
        )
        .await;
        assert_eq!(resp.status, StatusCode::CONFLICT);

        let events = backend.store().case_events(&ids[0]).await.expect("events");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, CaseEventKind::Assignment);
        assert_eq!(events[0].actor, "r.berger");
        assert_eq!(events[0].assigned_to.as_deref(), Some("r.berger"));
        let case = backend
            .store()
            .case_detail(&ids[1])
            .await
            .expect("store")
            .expect("case");
        assert_eq!(case.case.assigned_to.as_deref(), Some("s.yilmaz"));
        let html = browser
            .get(&backend, &format!("/office/cases/{}", ids[1]))
            .await
            .text();
        assert!(html.contains("Zugewiesen an s.yilmaz"), "history: {html}");

        let listed = |html: &str| -> Vec<RecordId> {
            ids.iter()
                .copied()
                .filter(|id| html.contains(&format!("value=\"{id}\"")))
                .collect()
        };
        let mine = browser
            .get(&backend, "/office/cases?assigned=me")
            .await
            .text();
        assert_eq!(listed(&mine), vec![ids[0]], "{}", db.name());
        assert!(mine.contains("<td>r.berger</td>"), "assignee column");
        let nobody = browser
            .get(&backend, "/office/cases?assigned=none")
            .await
            .text();
        assert_eq!(listed(&nobody), vec![ids[2]]);
        let clerk = browser
            .get(&backend, "/office/cases?clerk=c-mueller")
            .await
            .text();
        assert_eq!(listed(&clerk), vec![ids[2]]);
        assert!(clerk.contains("<td>c-mueller</td>"));
        let clerk = browser
            .get(&backend, "/office/cases?clerk=c-test")
            .await
            .text();
        assert_eq!(listed(&clerk), ids[..2].to_vec());
        assert!(
            clerk.contains("Eingegangen: <span class=\"count\">2</span>"),
            "counts under the clerk filter: {clerk}"
        );
        let clerk = browser
            .get(&backend, "/office/cases?clerk=c-test&assigned=none")
            .await
            .text();
        assert!(listed(&clerk).is_empty());

        // Unassign.
        let resp = assign(
            &mut browser,
            &backend,
            &ids[0],
            &[("assignee", ""), ("expected", "r.berger")],
        )
        .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER);
        let case = backend
            .store()
            .case_detail(&ids[0])
            .await
            .expect("store")
            .expect("case");
        assert_eq!(case.case.assigned_to, None);
    }
}

#[tokio::test]
async fn bad_assignments_and_filters_are_clear_errors_and_change_nothing() {
    let (backend, _kit, mut browser, record) = case_with(&Db::Sqlite, &Spec::anmeldung()).await;
    add_user(&backend, "landkreis-musterkreis", "k.klein", Role::Reviewer).await;
    add_user(&backend, "gemeinde-musterstadt", "it.ops", Role::ItOperator).await;
    let id = record.record.record_id;
    for fields in [
        vec![("assignee", "k.klein"), ("expected", "")],
        vec![("assignee", "it.ops"), ("expected", "")],
        vec![("assignee", "nobody.here"), ("expected", "")],
        vec![("assignee", "r.berger")],
        vec![("expected", "")],
        vec![
            ("assignee", "r.berger"),
            ("assignee", "r.berger"),
            ("expected", ""),
        ],
    ] {
        let resp = assign(&mut browser, &backend, &id, &fields).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{fields:?}");
        assert!(resp.text().contains("role=\"alert\""), "{fields:?}");
    }
    let resp = browser
        .post(
            &backend,
            &format!("/office/cases/{id}/assignee"),
            &[("assignee", "r.berger"), ("expected", "")],
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN, "no CSRF token");
    assert!(backend
        .store()
        .case_events(&id)
        .await
        .expect("events")
        .is_empty());
    for query in [
        "clerk=C%20Test",
        "clerk=-x",
        "assigned=maybe",
        "assigned=me&assigned=none",
    ] {
        let resp = browser
            .get(&backend, &format!("/office/cases?{query}"))
            .await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(resp.text().contains("role=\"alert\""), "{query}");
    }
}
