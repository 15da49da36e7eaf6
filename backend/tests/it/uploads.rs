//! tus 1.0.0 uploads (PROTOCOL.md §6.4): creation, resumable PATCHes with sha256
//! checksums, the whole-file hash against the signed manifest, termination, and every
//! refusal leaving nothing of the refused request behind — on every database and on
//! both attachment stores (the data folder, and S3 when `FIELDKIT_TEST_S3_URL` is set).
//! Failing object stores and lost parts: `blob_faults.rs`.

use axum::http::StatusCode;
use sha2::{Digest as _, Sha256};
use sync_protocol::api::KitState;
use sync_protocol::b64;
use sync_protocol::ids::{AttachmentId, RecordId, Sha256Hash};

use crate::records::push;
use crate::support::kit::Spec;
use crate::support::{blob_stores, s3, setups, Backend, Db, Resp, TestKit};

const TUS: (&str, &str) = ("tus-resumable", "1.0.0");

fn metadata(record: &RecordId, attachment: &AttachmentId) -> String {
    format!(
        "record_id {},attachment_id {}",
        b64::encode(record.to_string()),
        b64::encode(attachment.to_string())
    )
}

pub async fn create(
    backend: &Backend,
    kit: &TestKit,
    record: &RecordId,
    a: &AttachmentId,
    len: usize,
) -> Resp {
    let length = len.to_string();
    let meta = metadata(record, a);
    backend
        .send(kit.signed_with(
            "POST",
            "/v1/uploads",
            Vec::new(),
            &[TUS, ("upload-length", &length), ("upload-metadata", &meta)],
            chrono::Utc::now().timestamp(),
        ))
        .await
}

pub async fn patch(
    backend: &Backend,
    kit: &TestKit,
    a: &AttachmentId,
    offset: usize,
    chunk: &[u8],
    sum_of: &[u8],
) -> Resp {
    let offset = offset.to_string();
    let sum = format!("sha256 {}", b64::encode(Sha256::digest(sum_of)));
    backend
        .send(kit.signed_with(
            "PATCH",
            &format!("/v1/uploads/{a}"),
            chunk.to_vec(),
            &[
                TUS,
                ("content-type", "application/offset+octet-stream"),
                ("upload-offset", &offset),
                ("upload-checksum", &sum),
            ],
            chrono::Utc::now().timestamp(),
        ))
        .await
}

pub async fn head(backend: &Backend, kit: &TestKit, a: &AttachmentId) -> Resp {
    backend
        .send(kit.signed_with(
            "HEAD",
            &format!("/v1/uploads/{a}"),
            Vec::new(),
            &[TUS],
            chrono::Utc::now().timestamp(),
        ))
        .await
}

async fn state(backend: &Backend, kit: &TestKit) -> KitState {
    backend
        .send(kit.signed("GET", "/v1/state", Vec::new()))
        .await
        .json()
}

/// A kit with one delivered record carrying one attachment of `size` plaintext bytes.
pub async fn delivered_attachment(
    backend: &Backend,
    size: usize,
) -> (TestKit, RecordId, AttachmentId, Vec<u8>) {
    let mut kit = backend.kit().await;
    let record = kit.next(&Spec::anmeldung().with_attachments(&[size]));
    push(backend, &kit, &[&record]).await;
    let a = record.record.attachments[0].id;
    let ciphertext = kit.ciphertexts[&a].clone();
    (kit, record.record.record_id, a, ciphertext)
}

#[tokio::test]
async fn an_attachment_uploads_in_chunks_resumes_and_is_stored_by_content_on_every_store() {
    for (db, blobs) in setups("upload story") {
        let backend = Backend::serve_with(&db, &blobs).await;
        let on = format!("{} + {}", db.name(), blobs.name());
        let (kit, record, a, ct) = delivered_attachment(&backend, 150_000).await;
        let pending = state(&backend, &kit).await.pending_uploads;
        assert_eq!(pending.len(), 1);
        assert_eq!((pending[0].offset, pending[0].length), (0, ct.len() as u64));

        let created = create(&backend, &kit, &record, &a, ct.len()).await;
        assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
        assert_eq!(
            created.header("location"),
            Some(format!("/v1/uploads/{a}").as_str())
        );
        assert_eq!(created.header("upload-offset"), Some("0"));
        assert_eq!(created.header("tus-resumable"), Some("1.0.0"));

        let first = patch(&backend, &kit, &a, 0, &ct[..65_536], &ct[..65_536]).await;
        assert_eq!(first.status, StatusCode::NO_CONTENT, "{first:?}");
        assert_eq!(first.header("upload-offset"), Some("65536"));
        // The connection broke; the kit asks where to go on.
        let h = head(&backend, &kit, &a).await;
        assert_eq!(h.status, StatusCode::OK);
        assert_eq!(h.header("upload-offset"), Some("65536"));
        assert_eq!(
            h.header("upload-length"),
            Some(ct.len().to_string().as_str())
        );
        assert_eq!(h.header("cache-control"), Some("no-store"));
        assert!(h.body.is_empty());
        // A stale offset is refused and keeps nothing.
        let stale = patch(&backend, &kit, &a, 0, &ct[..10], &ct[..10]).await;
        assert_eq!(stale.status, StatusCode::CONFLICT);
        assert_eq!(stale.code(), "offset-mismatch");
        // Creation is idempotent and reports the current offset.
        let again = create(&backend, &kit, &record, &a, ct.len()).await;
        assert_eq!(again.status, StatusCode::CREATED);
        assert_eq!(again.header("upload-offset"), Some("65536"));

        let last = patch(&backend, &kit, &a, 65_536, &ct[65_536..], &ct[65_536..]).await;
        assert_eq!(last.status, StatusCode::NO_CONTENT, "{last:?}");
        assert_eq!(
            last.header("upload-offset"),
            Some(ct.len().to_string().as_str())
        );
        assert!(state(&backend, &kit).await.pending_uploads.is_empty());
        let stored = s3::stored(&backend.blob_config, &Sha256Hash::of(&ct)).await;
        assert!(stored.as_deref() == Some(ct.as_slice()), "{on}: byte-exact");
        assert_eq!(
            s3::part_count(&backend.blob_config, &a).await,
            0,
            "{on}: the parts are gone once the file is stored"
        );
        let after = patch(&backend, &kit, &a, ct.len(), b"", b"").await;
        assert_eq!(after.status, StatusCode::CONFLICT);
        assert_eq!(
            after.code(),
            "conflict",
            "a complete upload takes no more bytes"
        );
    }
}

#[tokio::test]
async fn a_checksum_mismatch_is_460_and_keeps_nothing() {
    let backend = Backend::new(&Db::Sqlite).await;
    let (kit, record, a, ct) = delivered_attachment(&backend, 1000).await;
    create(&backend, &kit, &record, &a, ct.len()).await;
    let bad = patch(&backend, &kit, &a, 0, &ct[..100], b"something else").await;
    assert_eq!(bad.status.as_u16(), 460);
    assert_eq!(bad.code(), "checksum-mismatch");
    assert!(bad.problem().retryable);
    assert_eq!(
        head(&backend, &kit, &a).await.header("upload-offset"),
        Some("0")
    );
}

#[tokio::test]
async fn a_completed_upload_with_the_wrong_hash_is_discarded_and_restarts_at_zero() {
    for blobs in blob_stores("wrong whole-file hash") {
        let backend = Backend::with_blobs(&Db::Sqlite, &blobs).await;
        let (kit, record, a, ct) = delivered_attachment(&backend, 1000).await;
        create(&backend, &kit, &record, &a, ct.len()).await;
        let mut corrupt = ct.clone();
        corrupt[500] ^= 1;
        // In two chunks, so that a stale part would be there to be read wrongly.
        let first = patch(&backend, &kit, &a, 0, &corrupt[..600], &corrupt[..600]).await;
        assert_eq!(first.status, StatusCode::NO_CONTENT);
        let resp = patch(&backend, &kit, &a, 600, &corrupt[600..], &corrupt[600..]).await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            blobs.name()
        );
        assert_eq!(resp.code(), "attachment-hash-mismatch");
        assert_eq!(
            head(&backend, &kit, &a).await.header("upload-offset"),
            Some("0")
        );
        let hash = Sha256Hash::of(&ct);
        assert!(s3::stored(&backend.blob_config, &hash).await.is_none());
        assert_eq!(s3::part_count(&backend.blob_config, &a).await, 0);
        let good = patch(&backend, &kit, &a, 0, &ct, &ct).await;
        assert_eq!(good.status, StatusCode::NO_CONTENT);
        let stored = s3::stored(&backend.blob_config, &hash).await;
        assert!(stored.as_deref() == Some(ct.as_slice()), "{}", blobs.name());
    }
}

#[tokio::test]
async fn termination_discards_the_held_bytes_and_a_complete_upload_cannot_be_terminated() {
    for blobs in blob_stores("termination") {
        termination_on(&blobs).await;
    }
}

async fn termination_on(blobs: &crate::support::Blobs) {
    let backend = Backend::with_blobs(&Db::Sqlite, blobs).await;
    let (kit, record, a, ct) = delivered_attachment(&backend, 1000).await;
    create(&backend, &kit, &record, &a, ct.len()).await;
    patch(&backend, &kit, &a, 0, &ct[..100], &ct[..100]).await;
    assert_eq!(s3::part_count(&backend.blob_config, &a).await, 1);
    let delete = |kit: &TestKit| {
        kit.signed_with(
            "DELETE",
            &format!("/v1/uploads/{a}"),
            Vec::new(),
            &[TUS],
            chrono::Utc::now().timestamp(),
        )
    };
    assert_eq!(
        backend.send(delete(&kit)).await.status,
        StatusCode::NO_CONTENT
    );
    let gone = head(&backend, &kit, &a).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "not created any more");
    assert_eq!(s3::part_count(&backend.blob_config, &a).await, 0);
    assert_eq!(
        backend.send(delete(&kit)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        create(&backend, &kit, &record, &a, ct.len())
            .await
            .header("upload-offset"),
        Some("0")
    );
    assert_eq!(
        patch(&backend, &kit, &a, 0, &ct, &ct).await.status,
        StatusCode::NO_CONTENT
    );
    let refused = backend.send(delete(&kit)).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn uploads_are_refused_for_attachments_outside_the_kits_delivered_manifests() {
    let backend = Backend::new(&Db::Sqlite).await;
    let (kit, record, a, ct) = delivered_attachment(&backend, 1000).await;
    let stranger = backend.kit().await;
    let resp = create(&backend, &stranger, &record, &a, ct.len()).await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert_eq!(resp.code(), "unknown-attachment");
    let unknown = AttachmentId::from_uuid(uuid::Uuid::new_v4());
    assert_eq!(
        create(&backend, &kit, &record, &unknown, 10).await.code(),
        "unknown-attachment"
    );
    assert_eq!(
        head(&backend, &kit, &unknown).await.status,
        StatusCode::NOT_FOUND
    );
    let wrong_length = create(&backend, &kit, &record, &a, ct.len() + 1).await;
    assert_eq!(wrong_length.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn tus_headers_are_required_and_checked() {
    let backend = Backend::new(&Db::Sqlite).await;
    let (kit, record, a, ct) = delivered_attachment(&backend, 1000).await;
    let options = backend
        .send(kit.signed("OPTIONS", "/v1/uploads", Vec::new()))
        .await;
    assert_eq!(options.status, StatusCode::NO_CONTENT);
    assert_eq!(options.header("tus-version"), Some("1.0.0"));
    assert_eq!(
        options.header("tus-extension"),
        Some("creation,creation-with-upload,checksum,termination")
    );
    assert_eq!(options.header("tus-max-size"), Some("537001984"));
    assert_eq!(options.header("tus-checksum-algorithm"), Some("sha256"));

    let no_tus = backend
        .send(kit.signed_with(
            "HEAD",
            &format!("/v1/uploads/{a}"),
            Vec::new(),
            &[],
            chrono::Utc::now().timestamp(),
        ))
        .await;
    assert_eq!(no_tus.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(no_tus.header("tus-version"), Some("1.0.0"));

    create(&backend, &kit, &record, &a, ct.len()).await;
    let sum = format!("sha256 {}", b64::encode(Sha256::digest(&ct[..10])));
    let wrong_type = backend
        .send(kit.signed_with(
            "PATCH",
            &format!("/v1/uploads/{a}"),
            ct[..10].to_vec(),
            &[
                TUS,
                ("content-type", "application/json"),
                ("upload-offset", "0"),
                ("upload-checksum", &sum),
            ],
            chrono::Utc::now().timestamp(),
        ))
        .await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let md5 = backend
        .send(kit.signed_with(
            "PATCH",
            &format!("/v1/uploads/{a}"),
            ct[..10].to_vec(),
            &[
                TUS,
                ("content-type", "application/offset+octet-stream"),
                ("upload-offset", "0"),
                ("upload-checksum", "md5 AAAAAAAAAAAAAAAAAAAAAA=="),
            ],
            chrono::Utc::now().timestamp(),
        ))
        .await;
    assert_eq!(md5.status, StatusCode::BAD_REQUEST);
    let past_end = patch(&backend, &kit, &a, 0, &[0u8; 2000], &[0u8; 2000]).await;
    assert_eq!(past_end.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        head(&backend, &kit, &a).await.header("upload-offset"),
        Some("0")
    );
}

#[tokio::test]
async fn every_uploads_answer_carries_tus_resumable_and_discovery_needs_no_signature() {
    let backend = Backend::new(&Db::Sqlite).await;
    let (kit, _, a, _) = delivered_attachment(&backend, 1000).await;
    // A standard tus client's discovery: no signature, no Fieldkit-Protocol.
    let discovery = backend
        .send(
            axum::http::Request::builder()
                .method("OPTIONS")
                .uri("/v1/uploads")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(discovery.status, StatusCode::NO_CONTENT);
    assert_eq!(discovery.header("tus-resumable"), Some("1.0.0"));
    assert_eq!(discovery.header("tus-version"), Some("1.0.0"));
    // Answers decided before the tus handler: 401 unsigned, 413 declared too large,
    // 405 a method the route lacks, 404 no such path.
    let unsigned = backend
        .send(
            axum::http::Request::builder()
                .method("POST")
                .uri("/v1/uploads")
                .header("fieldkit-protocol", "1")
                .header("tus-resumable", "1.0.0")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await;
    let mut too_large = kit.signed_with(
        "PATCH",
        &format!("/v1/uploads/{a}"),
        Vec::new(),
        &[TUS],
        chrono::Utc::now().timestamp(),
    );
    too_large
        .headers_mut()
        .insert("content-length", "999999999".parse().expect("value"));
    let too_large = backend.send(too_large).await;
    let wrong_method = backend
        .send(kit.signed("GET", "/v1/uploads", Vec::new()))
        .await;
    let no_path = backend
        .send(kit.signed("GET", &format!("/v1/uploads/{a}/x"), Vec::new()))
        .await;
    for (answer, status, code) in [
        (&unsigned, 401, "bad-request-signature"),
        (&too_large, 413, "too-large"),
        (&wrong_method, 405, "malformed-request"),
        (&no_path, 404, "not-found"),
    ] {
        assert_eq!(answer.status.as_u16(), status, "{answer:?}");
        assert_eq!(answer.code(), code);
        assert_eq!(
            answer.header("tus-resumable"),
            Some("1.0.0"),
            "{status} carries Tus-Resumable"
        );
    }
    // Elsewhere it is not sent.
    let state = backend
        .send(kit.signed("GET", "/v1/state", Vec::new()))
        .await;
    assert_eq!(state.header("tus-resumable"), None);
}
