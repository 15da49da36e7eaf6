//! tus `creation-with-upload` (PROTOCOL.md §6.4): the creation `POST` carries the file's
//! first bytes. They count only for an upload that holds nothing yet, are checked as a
//! `PATCH` at offset 0 is, and a repeated creation never stores anything twice — on
//! every database and both attachment stores.

use axum::http::StatusCode;
use sha2::{Digest as _, Sha256};
use sync_protocol::b64;
use sync_protocol::ids::{AttachmentId, RecordId, Sha256Hash};

use crate::support::{blob_stores, s3, setups, Backend, Db, Resp, TestKit};
use crate::uploads::{delivered_attachment, head, patch};

/// A creation `POST` with `body`, its checksum taken over `sum_of`.
async fn create_with(
    backend: &Backend,
    kit: &TestKit,
    (record, a): (&RecordId, &AttachmentId),
    len: usize,
    body: &[u8],
    sum_of: &[u8],
    content_type: &str,
) -> Resp {
    let length = len.to_string();
    let meta = format!(
        "record_id {},attachment_id {}",
        b64::encode(record.to_string()),
        b64::encode(a.to_string())
    );
    let sum = format!("sha256 {}", b64::encode(Sha256::digest(sum_of)));
    backend
        .send(kit.signed_with(
            "POST",
            "/v1/uploads",
            body.to_vec(),
            &[
                ("tus-resumable", "1.0.0"),
                ("upload-length", &length),
                ("upload-metadata", &meta),
                ("content-type", content_type),
                ("upload-checksum", &sum),
            ],
            chrono::Utc::now().timestamp(),
        ))
        .await
}

const CHUNK_TYPE: &str = "application/offset+octet-stream";

#[tokio::test]
async fn a_small_file_uploads_with_its_creation_and_a_repeat_stores_nothing_twice() {
    for (db, blobs) in setups("creation with the whole file") {
        let backend = Backend::serve_with(&db, &blobs).await;
        let on = format!("{} + {}", db.name(), blobs.name());
        let (kit, record, a, ct) = delivered_attachment(&backend, 20_000).await;
        let ids = (&record, &a);
        let created = create_with(&backend, &kit, ids, ct.len(), &ct, &ct, CHUNK_TYPE).await;
        assert_eq!(created.status, StatusCode::CREATED, "{on}: {created:?}");
        let length = ct.len().to_string();
        assert_eq!(
            created.header("upload-offset"),
            Some(length.as_str()),
            "{on}"
        );
        assert_eq!(
            created.header("location"),
            Some(format!("/v1/uploads/{a}").as_str())
        );
        let stored = s3::stored(&backend.blob_config, &Sha256Hash::of(&ct)).await;
        assert!(stored.as_deref() == Some(ct.as_slice()), "{on}: byte-exact");
        assert_eq!(s3::part_count(&backend.blob_config, &a).await, 0, "{on}");
        // The answer was lost; the kit creates again with the same body.
        let again = create_with(&backend, &kit, ids, ct.len(), &ct, &ct, CHUNK_TYPE).await;
        assert_eq!(again.status, StatusCode::CREATED, "{on}: {again:?}");
        assert_eq!(again.header("upload-offset"), Some(length.as_str()), "{on}");
        assert_eq!(s3::part_count(&backend.blob_config, &a).await, 0, "{on}");
    }
}

#[tokio::test]
async fn a_first_chunk_counts_once_and_patches_go_on_from_it() {
    for blobs in blob_stores("creation with the first chunk") {
        let backend = Backend::with_blobs(&Db::Sqlite, &blobs).await;
        let (kit, record, a, ct) = delivered_attachment(&backend, 150_000).await;
        let ids = (&record, &a);
        let first = &ct[..65_536];
        let created = create_with(&backend, &kit, ids, ct.len(), first, first, CHUNK_TYPE).await;
        assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
        assert_eq!(created.header("upload-offset"), Some("65536"));
        // A repeat while the upload holds bytes ignores its body: nothing is appended.
        let second = &ct[65_536..131_072];
        let repeat = create_with(&backend, &kit, ids, ct.len(), second, second, CHUNK_TYPE).await;
        assert_eq!(repeat.status, StatusCode::CREATED);
        assert_eq!(repeat.header("upload-offset"), Some("65536"));
        let rest = patch(&backend, &kit, &a, 65_536, &ct[65_536..], &ct[65_536..]).await;
        assert_eq!(rest.status, StatusCode::NO_CONTENT, "{rest:?}");
        let stored = s3::stored(&backend.blob_config, &Sha256Hash::of(&ct)).await;
        assert!(stored.as_deref() == Some(ct.as_slice()), "{}", blobs.name());
    }
}

#[tokio::test]
async fn a_wrong_first_chunk_is_refused_and_keeps_nothing_but_the_creation() {
    let backend = Backend::new(&Db::Sqlite).await;
    let (kit, record, a, ct) = delivered_attachment(&backend, 1000).await;
    let ids = (&record, &a);
    let bad_sum = create_with(
        &backend,
        &kit,
        ids,
        ct.len(),
        &ct[..100],
        b"other",
        CHUNK_TYPE,
    )
    .await;
    assert_eq!(bad_sum.status.as_u16(), 460, "{bad_sum:?}");
    assert_eq!(bad_sum.code(), "checksum-mismatch");
    assert_eq!(bad_sum.header("tus-resumable"), Some("1.0.0"));
    let held = head(&backend, &kit, &a).await;
    assert_eq!(held.status, StatusCode::OK, "the creation itself happened");
    assert_eq!(held.header("upload-offset"), Some("0"));

    let wrong_type = create_with(
        &backend,
        &kit,
        ids,
        ct.len(),
        &ct[..100],
        &ct[..100],
        "application/json",
    )
    .await;
    assert_eq!(
        wrong_type.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{wrong_type:?}"
    );
    let other_length =
        create_with(&backend, &kit, ids, 1, &ct[..100], &ct[..100], CHUNK_TYPE).await;
    assert_eq!(
        other_length.status,
        StatusCode::BAD_REQUEST,
        "Upload-Length must match"
    );

    let mut corrupt = ct.clone();
    corrupt[10] ^= 1;
    let mismatch = create_with(
        &backend,
        &kit,
        ids,
        ct.len(),
        &corrupt,
        &corrupt,
        CHUNK_TYPE,
    )
    .await;
    assert_eq!(
        mismatch.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{mismatch:?}"
    );
    assert_eq!(mismatch.code(), "attachment-hash-mismatch");
    assert_eq!(
        head(&backend, &kit, &a).await.header("upload-offset"),
        Some("0")
    );
    assert!(s3::stored(&backend.blob_config, &Sha256Hash::of(&ct))
        .await
        .is_none());

    // The right bytes still go in afterwards.
    let good = create_with(&backend, &kit, ids, ct.len(), &ct, &ct, CHUNK_TYPE).await;
    assert_eq!(good.status, StatusCode::CREATED);
    assert_eq!(
        good.header("upload-offset"),
        Some(ct.len().to_string().as_str())
    );
}

#[tokio::test]
async fn a_creation_body_above_the_chunk_limit_is_413_before_anything_is_read() {
    let backend = Backend::new(&Db::Sqlite).await;
    let (kit, record, a, ct) = delivered_attachment(&backend, 1000).await;
    let huge = vec![0u8; sync_protocol::api::MAX_UPLOAD_CHUNK_BYTES + 1];
    let refused = create_with(
        &backend,
        &kit,
        (&record, &a),
        ct.len(),
        &huge,
        &huge,
        CHUNK_TYPE,
    )
    .await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE, "{refused:?}");
    assert_eq!(
        head(&backend, &kit, &a).await.status,
        StatusCode::NOT_FOUND,
        "not even created"
    );
}
