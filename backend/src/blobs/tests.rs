//! The attachment store on the filesystem (the S3 side runs the same code against a real
//! S3-compatible server in the integration tests, `tests/it/uploads*.rs`).

use super::*;

fn id(n: u128) -> AttachmentId {
    AttachmentId::from_uuid(uuid::Uuid::from_u128(n))
}

async fn read_all(blobs: &BlobStore, hash: &Sha256Hash, length: u64) -> Vec<u8> {
    let mut reader = blobs.reader(hash, length);
    let mut out = Vec::new();
    while let Some(bytes) = reader.next().await.expect("read") {
        assert!(bytes.len() as u64 <= WINDOW);
        out.extend_from_slice(&bytes);
    }
    out
}

#[tokio::test]
async fn chunks_become_one_content_addressed_file_after_the_hash_matched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let blobs = BlobStore::filesystem(dir.path()).expect("store");
    let a = id(7);
    blobs
        .write_chunk(&a, 0, Bytes::from_static(b"hello "))
        .await
        .expect("first chunk");
    // A refused request had stored a longer chunk at 6 and one beyond; the retry at 6
    // replaces the first and deletes the second.
    blobs
        .write_chunk(&a, 6, Bytes::from_static(b"garbage!"))
        .await
        .expect("stray");
    blobs
        .write_chunk(&a, 14, Bytes::from_static(b"more garbage"))
        .await
        .expect("stray");
    blobs
        .write_chunk(&a, 6, Bytes::from_static(b"world"))
        .await
        .expect("second chunk");
    let hash = Sha256Hash::of(b"hello world");
    assert_eq!(
        blobs
            .complete(&a, 11, &Sha256Hash::of(b"hello"))
            .await
            .expect("completes"),
        Completion::HashMismatch
    );
    assert_eq!(
        blobs
            .stored_size(&Sha256Hash::of(b"hello"))
            .await
            .expect("head"),
        None
    );
    assert_eq!(
        blobs.complete(&a, 11, &hash).await.expect("completes"),
        Completion::Stored
    );
    // Again (a retry after a failed database commit): the same object.
    assert_eq!(
        blobs.complete(&a, 11, &hash).await.expect("completes"),
        Completion::Stored
    );
    assert_eq!(blobs.stored_size(&hash).await.expect("head"), Some(11));
    assert_eq!(read_all(&blobs, &hash, 11).await, b"hello world");
    assert!(blobs.holds_intact(&hash, 11).await.expect("check"));
    assert!(!blobs.holds_intact(&hash, 12).await.expect("check"));
    let path = blobs.local_path(&hash).expect("filesystem");
    assert_eq!(
        std::fs::read(&path).expect("the earlier layout"),
        b"hello world"
    );
    blobs.discard(&a).await.expect("discard");
    assert!(blobs.list_parts(&a).await.expect("list").is_empty());
}

#[tokio::test]
async fn a_missing_part_is_short_and_never_completes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let blobs = BlobStore::filesystem(dir.path()).expect("store");
    let a = id(8);
    assert!(matches!(
        blobs.write_chunk(&a, 5, Bytes::from_static(b"x")).await,
        Err(BlobError::Short { held: 0, offset: 5 })
    ));
    blobs
        .write_chunk(&a, 0, Bytes::from_static(b"abc"))
        .await
        .expect("chunk");
    blobs
        .write_chunk(&a, 3, Bytes::from_static(b"def"))
        .await
        .expect("chunk");
    std::fs::remove_file(
        dir.path()
            .join("uploads")
            .join(a.to_string())
            .join(parts::name(0)),
    )
    .expect("deleted behind the backend's back");
    assert!(matches!(
        blobs.write_chunk(&a, 6, Bytes::from_static(b"g")).await,
        Err(BlobError::Short { held: 0, offset: 6 })
    ));
    assert!(matches!(
        blobs.complete(&a, 6, &Sha256Hash::of(b"abcdef")).await,
        Err(BlobError::Short { held: 0, offset: 6 })
    ));
}

#[tokio::test]
async fn large_files_go_through_the_bounded_buffer_in_parts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let blobs = BlobStore::filesystem(dir.path()).expect("store");
    let a = id(9);
    // Just over two buffer parts, in 3 MiB chunks (PATCH bodies are at most 4 MiB).
    let len = 2 * assemble::PART_SIZE + 12_345;
    let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    for (n, chunk) in data.chunks(3 * 1024 * 1024).enumerate() {
        let offset = (n * 3 * 1024 * 1024) as u64;
        blobs
            .write_chunk(&a, offset, Bytes::copy_from_slice(chunk))
            .await
            .expect("chunk");
    }
    let hash = Sha256Hash::of(&data);
    assert_eq!(
        blobs
            .complete(&a, len as u64, &hash)
            .await
            .expect("complete"),
        Completion::Stored
    );
    assert_eq!(read_all(&blobs, &hash, len as u64).await, data);
}

#[tokio::test]
async fn files_of_the_earlier_store_stay_readable_and_resumable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let done = Sha256Hash::of(b"done");
    let hex = done.to_hex();
    std::fs::create_dir_all(dir.path().join("attachments").join(&hex[..2])).expect("dir");
    std::fs::write(
        dir.path().join("attachments").join(&hex[..2]).join(&hex),
        b"done",
    )
    .expect("complete file");
    std::fs::create_dir_all(dir.path().join("uploads")).expect("dir");
    let a = id(10);
    // In progress at offset 3; two bytes past it from a failed request.
    std::fs::write(
        dir.path().join("uploads").join(format!("{a}.part")),
        b"abcXY",
    )
    .expect("part file");
    let blobs = BlobStore::filesystem(dir.path()).expect("store");
    assert!(blobs.holds_intact(&done, 4).await.expect("check"));
    blobs
        .write_chunk(&a, 3, Bytes::from_static(b"def"))
        .await
        .expect("resumes");
    let hash = Sha256Hash::of(b"abcdef");
    assert_eq!(
        blobs.complete(&a, 6, &hash).await.expect("complete"),
        Completion::Stored
    );
    assert_eq!(read_all(&blobs, &hash, 6).await, b"abcdef");
}

#[test]
fn an_https_s3_store_builds_its_tls_client_on_ring_and_names_no_secret() {
    // Nothing is sent: the client (reqwest, rustls with the ring provider and the
    // platform's roots) is only built.
    let mut config = S3Config::new("https://s3.example.invalid", "fk", "AKID", "TOPSECRET");
    config.allow_http = false;
    config.prefix = Some("musterstadt".into());
    let blobs = BlobStore::open(&BlobConfig::S3(config)).expect("client builds");
    let shown = format!("{} {blobs:?}", blobs.describe());
    assert!(
        shown.contains("s3.example.invalid/fk/musterstadt"),
        "{shown}"
    );
    assert!(
        !shown.contains("TOPSECRET") && !shown.contains("AKID"),
        "{shown}"
    );
    assert!(blobs.local_path(&Sha256Hash::of(b"x")).is_none());
}
