//! Attachment media types are the kit's claim: a manifest saying `text/html` or
//! `image/svg+xml` must not make the back office serve a page or a script in its own
//! origin. Only allow-listed types keep their type; everything else is a sandboxed
//! `application/octet-stream` download.

use axum::http::StatusCode;
use fieldkit_backend::storage::Role;

use crate::office_casework::upload;
use crate::records::push;
use crate::support::kit::Spec;
use crate::support::office::{add_user, Browser};
use crate::support::{Backend, Db};

/// Serves one uploaded attachment whose manifest claims `media_type`; returns the
/// download and the inline (view page) answers and the file's plaintext.
async fn served(media_type: &'static str) -> (crate::support::Resp, crate::support::Resp, Vec<u8>) {
    let backend = Backend::new(&Db::Sqlite).await;
    let password = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
    let mut kit = backend.kit().await;
    let mut spec = Spec::anmeldung().with_attachments(&[3_000]);
    spec.media_type = media_type;
    let record = kit.next(&spec);
    push(&backend, &kit, &[&record]).await;
    let (id, a) = (record.record.record_id, record.record.attachments[0].id);
    upload(&backend, &kit, &id, &a).await;
    let mut browser = Browser::signed_in(&backend, "r.berger", &password).await;
    let link = format!("/office/cases/{id}/attachments/{a}");
    let download = browser.get(&backend, &link).await;
    let inline = browser.get(&backend, &format!("{link}?inline=1")).await;
    (download, inline, kit.plaintexts[&a].clone())
}

#[tokio::test]
async fn html_and_svg_from_a_kit_are_served_as_sandboxed_octet_stream_downloads() {
    for claimed in ["text/html", "image/svg+xml", "application/xhtml+xml"] {
        let (download, inline, plaintext) = served(claimed).await;
        assert_eq!(download.status, StatusCode::OK, "{claimed}");
        assert_eq!(download.body.as_ref(), plaintext.as_slice());
        assert_eq!(
            download.header("content-type"),
            Some("application/octet-stream"),
            "{claimed}"
        );
        let csp = download.header("content-security-policy").expect("csp");
        assert!(csp.starts_with("sandbox;"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert_eq!(download.header("x-content-type-options"), Some("nosniff"));
        let disposition = download.header("content-disposition").expect("disposition");
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(disposition.ends_with(".bin\""), "{disposition}");
        // Nor can it be shown in the office's view page.
        assert_eq!(inline.status, StatusCode::BAD_REQUEST, "{claimed}");
    }
}

#[tokio::test]
async fn allow_listed_types_keep_their_type_and_are_sandboxed_too() {
    for (claimed, previewable) in [
        ("application/pdf", true),
        ("image/png", true),
        ("image/jpeg", true),
        ("image/gif", false),
        ("image/webp", false),
        ("image/tiff", false),
        ("text/plain", false),
    ] {
        let (download, inline, _) = served(claimed).await;
        assert_eq!(download.status, StatusCode::OK, "{claimed}");
        assert_eq!(download.header("content-type"), Some(claimed));
        assert!(download
            .header("content-security-policy")
            .is_some_and(|c| c.starts_with("sandbox;")));
        let expected = if previewable {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(inline.status, expected, "{claimed}");
        if previewable {
            assert_eq!(inline.header("content-type"), Some(claimed));
            assert!(inline
                .header("content-security-policy")
                .is_some_and(|c| c.starts_with("sandbox;")));
        }
    }
}
