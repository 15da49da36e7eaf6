//! The attachment store misbehaving (issue 16, "Bad input, and nothing lost"): an
//! object store that refuses or hangs mid-upload, or is not there at all, is a retryable
//! 503 with `Retry-After` and nothing of the request counts; the upload resumes at the
//! database's offset once the store is back and ends byte-exact. A part deleted or
//! altered behind the backend's back restarts the upload or fails the whole-file hash,
//! never completes it wrong. A reviewer asking for an attachment while the store is down
//! gets a 503 page and nothing is decrypted or logged. And a tus upload continues on
//! another backend node that shares only the database and the object store.
//!
//! The S3 parts need `FIELDKIT_TEST_S3_URL` (moto, started by `scripts/test.sh`); a
//! [`Gate`] in front of it plays the failing store, so the server other tests share keeps
//! running.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use fieldkit_backend::blobs::{BlobConfig, BlobStore, S3Config};
use fieldkit_backend::server::app_router;
use fieldkit_backend::state::AppState;
use sync_protocol::ids::{AttachmentId, Sha256Hash};
use tower::ServiceExt as _;

use crate::office_casework::{case_on, upload};
use crate::support::kit::Spec;
use crate::support::s3::{self, Gate, Mode};
use crate::support::{blob_stores, s3_url, Backend, Blobs, Db, Resp, TestKit};
use crate::uploads::{create, delivered_attachment, head, patch};

/// An S3 configuration through `endpoint` with one-second timeouts, so that a hanging
/// store is noticed quickly.
fn impatient(endpoint: &str, bucket: &str) -> Blobs {
    let mut config = S3Config::new(endpoint, bucket, s3::ACCESS_KEY_ID, s3::SECRET_ACCESS_KEY);
    config.timeout = Duration::from_secs(1);
    config.connect_timeout = Duration::from_secs(1);
    Blobs::Config(BlobConfig::S3(config))
}

async fn offset(backend: &Backend, kit: &TestKit, a: &AttachmentId) -> String {
    let resp = head(backend, kit, a).await;
    assert_eq!(resp.status, StatusCode::OK, "{resp:?}");
    resp.header("upload-offset").unwrap_or_default().to_owned()
}

fn assert_retryable_503(resp: &Resp, what: &str) {
    assert_eq!(
        resp.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {resp:?}"
    );
    assert_eq!(resp.code(), "unavailable", "{what}");
    assert!(resp.problem().retryable, "{what}");
    assert_eq!(resp.header("retry-after"), Some("5"), "{what}");
    assert_eq!(resp.header("tus-resumable"), Some("1.0.0"), "{what}");
}

#[tokio::test]
async fn an_object_store_that_goes_away_mid_upload_is_a_503_and_the_upload_resumes_byte_exact() {
    let Some(url) = s3_url("object store outage mid-upload") else {
        return;
    };
    let gate = Gate::new(&url).await;
    let blobs = impatient(&gate.url(), &s3::fresh_bucket(&url).await);
    let backend = Backend::with_blobs(&Db::Sqlite, &blobs).await;
    let (kit, record, a, ct) = delivered_attachment(&backend, 300_000).await;
    let (one, two) = (100_000, 200_000);
    create(&backend, &kit, &record, &a, ct.len()).await;
    let first = patch(&backend, &kit, &a, 0, &ct[..one], &ct[..one]).await;
    assert_eq!(first.status, StatusCode::NO_CONTENT, "{first:?}");

    for mode in [Mode::Refuse, Mode::Stall] {
        gate.set(mode);
        let started = Instant::now();
        let resp = patch(&backend, &kit, &a, one, &ct[one..two], &ct[one..two]).await;
        assert_retryable_503(&resp, &format!("{mode:?}"));
        eprintln!("store {mode:?}: 503 after {:?}", started.elapsed());
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{mode:?}: answered within the store's timeouts, not the request's ({:?})",
            started.elapsed()
        );
        gate.set(Mode::Open);
        assert_eq!(
            offset(&backend, &kit, &a).await,
            one.to_string(),
            "{mode:?}"
        );
    }
    let second = patch(&backend, &kit, &a, one, &ct[one..two], &ct[one..two]).await;
    assert_eq!(second.status, StatusCode::NO_CONTENT, "resumes: {second:?}");

    // The last chunk while the store is down: the upload must not count as complete.
    gate.set(Mode::Refuse);
    let last = patch(&backend, &kit, &a, two, &ct[two..], &ct[two..]).await;
    assert_retryable_503(&last, "completion");
    assert_eq!(offset(&backend, &kit, &a).await, two.to_string());
    let row = backend
        .store()
        .upload(&kit.kit_id, &a, None)
        .await
        .expect("row")
        .expect("upload");
    assert!(!row.complete, "never complete while the file is not stored");

    gate.set(Mode::Open);
    let last = patch(&backend, &kit, &a, two, &ct[two..], &ct[two..]).await;
    assert_eq!(last.status, StatusCode::NO_CONTENT, "{last:?}");
    let stored = s3::stored(&backend.blob_config, &Sha256Hash::of(&ct)).await;
    assert!(stored.as_deref() == Some(ct.as_slice()), "byte-exact");
    assert_eq!(s3::part_count(&backend.blob_config, &a).await, 0);
}

#[tokio::test]
async fn an_unreachable_object_store_is_a_retryable_503_and_nothing_counts() {
    // A port nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let blobs = impatient(&format!("http://127.0.0.1:{port}"), "nowhere");
    let backend = Backend::with_blobs(&Db::Sqlite, &blobs).await;
    let (kit, record, a, ct) = delivered_attachment(&backend, 1_000).await;
    let created = create(&backend, &kit, &record, &a, ct.len()).await;
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "creation needs only the database"
    );
    let resp = patch(&backend, &kit, &a, 0, &ct, &ct).await;
    assert_retryable_503(&resp, "closed port");
    assert_eq!(offset(&backend, &kit, &a).await, "0");
    let terminate = backend
        .send(kit.signed_with(
            "DELETE",
            &format!("/v1/uploads/{a}"),
            Vec::new(),
            &[("tus-resumable", "1.0.0")],
            chrono::Utc::now().timestamp(),
        ))
        .await;
    assert_retryable_503(&terminate, "termination");
}

#[tokio::test]
async fn a_part_deleted_behind_the_backends_back_restarts_the_upload_never_completes_it_wrong() {
    for blobs in blob_stores("part deleted behind the backend's back") {
        let backend = Backend::with_blobs(&Db::Sqlite, &blobs).await;
        let (kit, record, a, ct) = delivered_attachment(&backend, 300_000).await;
        let (one, two) = (100_000, 200_000);
        create(&backend, &kit, &record, &a, ct.len()).await;
        patch(&backend, &kit, &a, 0, &ct[..one], &ct[..one]).await;
        patch(&backend, &kit, &a, one, &ct[one..two], &ct[one..two]).await;
        s3::delete_part(&backend.blob_config, &a, one as u64).await;
        // The last chunk finds a gap: 409 with the offset to go on from, 0.
        let resp = patch(&backend, &kit, &a, two, &ct[two..], &ct[two..]).await;
        assert_eq!(
            resp.status,
            StatusCode::CONFLICT,
            "{}: {resp:?}",
            blobs.name()
        );
        assert_eq!(resp.code(), "offset-mismatch");
        assert_eq!(offset(&backend, &kit, &a).await, "0", "{}", blobs.name());
        let hash = Sha256Hash::of(&ct);
        assert!(s3::stored(&backend.blob_config, &hash).await.is_none());
        // The kit starts again, in other chunk sizes; stale parts are never read.
        let mid = 150_000;
        let again = patch(&backend, &kit, &a, 0, &ct[..mid], &ct[..mid]).await;
        assert_eq!(again.status, StatusCode::NO_CONTENT);
        let rest = patch(&backend, &kit, &a, mid, &ct[mid..], &ct[mid..]).await;
        assert_eq!(
            rest.status,
            StatusCode::NO_CONTENT,
            "{}: {rest:?}",
            blobs.name()
        );
        let stored = s3::stored(&backend.blob_config, &hash).await;
        assert!(
            stored.as_deref() == Some(ct.as_slice()),
            "{}: byte-exact",
            blobs.name()
        );
    }
}

#[tokio::test]
async fn a_part_altered_behind_the_backends_back_fails_the_whole_file_hash() {
    for blobs in blob_stores("part altered behind the backend's back") {
        let backend = Backend::with_blobs(&Db::Sqlite, &blobs).await;
        let (kit, record, a, ct) = delivered_attachment(&backend, 2_000).await;
        create(&backend, &kit, &record, &a, ct.len()).await;
        patch(&backend, &kit, &a, 0, &ct[..1_000], &ct[..1_000]).await;
        let mut altered = ct[..1_000].to_vec();
        altered[10] ^= 0xff;
        s3::put_part(&backend.blob_config, &a, 0, altered).await;
        let resp = patch(&backend, &kit, &a, 1_000, &ct[1_000..], &ct[1_000..]).await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            blobs.name()
        );
        assert_eq!(resp.code(), "attachment-hash-mismatch");
        assert_eq!(offset(&backend, &kit, &a).await, "0");
        let hash = Sha256Hash::of(&ct);
        assert!(s3::stored(&backend.blob_config, &hash).await.is_none());
    }
}

async fn send_via(app: &AppState, req: axum::http::Request<axum::body::Body>) -> Resp {
    let response = app_router(app.clone()).oneshot(req).await.expect("router");
    let (parts, body) = response.into_parts();
    Resp {
        status: parts.status,
        headers: parts.headers,
        body: axum::body::to_bytes(body, usize::MAX).await.expect("body"),
    }
}

#[tokio::test]
async fn a_tus_upload_continues_on_another_node_sharing_only_database_and_object_store() {
    let Some(url) = s3_url("upload across nodes") else {
        return;
    };
    let backend = Backend::with_blobs(&Db::Sqlite, &Blobs::S3(url)).await;
    // A second node: the same database and bucket, no data folder, its own process
    // memory (upload claims, caches).
    let node_b = AppState::new(
        std::sync::Arc::clone(&backend.admin.store),
        backend.admin.server_key().await.expect("key"),
        backend.base_url.clone(),
        BlobStore::open(&backend.blob_config).expect("store"),
    );
    let (kit, record, a, ct) = delivered_attachment(&backend, 500_000).await;
    create(&backend, &kit, &record, &a, ct.len()).await;
    let chunk = 65_536;
    for (n, start) in (0..ct.len()).step_by(chunk).enumerate() {
        let end = (start + chunk).min(ct.len());
        let body = &ct[start..end];
        let resp = if n % 2 == 0 {
            patch(&backend, &kit, &a, start, body, body).await
        } else {
            let sum = format!(
                "sha256 {}",
                sync_protocol::b64::encode(<sha2::Sha256 as sha2::Digest>::digest(body))
            );
            let off = start.to_string();
            send_via(
                &node_b,
                kit.signed_with(
                    "PATCH",
                    &format!("/v1/uploads/{a}"),
                    body.to_vec(),
                    &[
                        ("tus-resumable", "1.0.0"),
                        ("content-type", "application/offset+octet-stream"),
                        ("upload-offset", &off),
                        ("upload-checksum", &sum),
                    ],
                    chrono::Utc::now().timestamp(),
                ),
            )
            .await
        };
        assert_eq!(resp.status, StatusCode::NO_CONTENT, "chunk {n}: {resp:?}");
    }
    let stored = s3::stored(&backend.blob_config, &Sha256Hash::of(&ct)).await;
    assert!(stored.as_deref() == Some(ct.as_slice()), "byte-exact");
}

#[tokio::test]
async fn an_attachment_view_while_the_object_store_is_down_is_a_503_page_and_decrypts_nothing() {
    let Some(url) = s3_url("attachment view while the store is down") else {
        return;
    };
    let gate = Gate::new(&url).await;
    let blobs = impatient(&gate.url(), &s3::fresh_bucket(&url).await);
    let spec = Spec::anmeldung().with_attachments(&[10_000]);
    let (backend, kit, mut browser, record) = case_on(&Db::Sqlite, &blobs, &spec).await;
    let id = record.record.record_id;
    let a = record.record.attachments[0].id;
    upload(&backend, &kit, &id, &a).await;
    let link = format!("/office/cases/{id}/attachments/{a}");
    gate.set(Mode::Refuse);
    let down = browser.get(&backend, &link).await;
    assert_eq!(
        down.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        down.text()
    );
    assert!(down.text().contains("Anlagenspeicher"), "{}", down.text());
    assert_eq!(
        attachment_decryptions(&backend, &id).await,
        0,
        "nothing decrypted, nothing logged"
    );

    gate.set(Mode::Open);
    let up = browser.get(&backend, &link).await;
    assert_eq!(up.status, StatusCode::OK);
    assert!(up.body.as_ref() == kit.plaintexts[&a].as_slice());
    assert_eq!(attachment_decryptions(&backend, &id).await, 1);
}

async fn attachment_decryptions(backend: &Backend, id: &sync_protocol::ids::RecordId) -> usize {
    let log = backend.store().decryptions(id).await.expect("log");
    log.iter().filter(|e| e.purpose == "attachment").count()
}
