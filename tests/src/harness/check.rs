//! The end state every fault scenario must reach: every finalized record of the kit is
//! on the backend exactly once, every receipt the kit stored verifies, every
//! attachment's bytes at the backend hash to the signed manifest, and the kit's chain
//! verifies end to end. Attachment bytes are read through the backend's own
//! [`BlobStore`] — from the data folder, or from the object store of a multi-node set-up
//! ([`assert_exactly_once_in`]).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use fieldkit_backend::blobs::{BlobConfig, BlobStore};
use fieldkit_backend::config::DatabaseUrl;
use kit_core::RecordState;
use sha2::{Digest as _, Sha256};

use super::kit::TestKit;

/// What the check saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// Records finalized on the kit.
    pub records: usize,
    /// Attachments checked at the backend.
    pub attachments: usize,
}

/// Asserts the exactly-once end state for `kit` against the backend's database and data
/// folder (where attachment files live).
///
/// # Panics
/// On any violation, naming it.
pub fn assert_exactly_once(kit: &TestKit, database: &DatabaseUrl, data_dir: &Path) -> Settled {
    assert_exactly_once_in(
        kit,
        database,
        &BlobConfig::Filesystem(data_dir.to_path_buf()),
    )
}

/// [`assert_exactly_once`] for a backend whose attachment bytes live in `blobs` (the
/// data folder or an S3-compatible bucket), read through [`BlobStore`].
///
/// # Panics
/// On any violation, naming it.
pub fn assert_exactly_once_in(
    kit: &TestKit,
    database: &DatabaseUrl,
    blobs: &BlobConfig,
) -> Settled {
    check(kit, database, blobs, &[])
}

/// [`assert_exactly_once`] after IT imported a held-records file (PROTOCOL.md §11):
/// the records in `bridged` (record ids) are evidence at the backend, not cases — on
/// the kit they are purged or rejected; every other record is complete (or purged
/// after it was) and a case exactly once.
///
/// # Panics
/// On any violation, naming it.
pub fn assert_exactly_once_bridged(
    kit: &TestKit,
    database: &DatabaseUrl,
    data_dir: &Path,
    bridged: &[String],
) -> Settled {
    check(
        kit,
        database,
        &BlobConfig::Filesystem(data_dir.to_path_buf()),
        bridged,
    )
}

fn check(kit: &TestKit, database: &DatabaseUrl, blobs: &BlobConfig, bridged: &[String]) -> Settled {
    let session = kit.session();
    let kit_id = session
        .enrolment()
        .expect("enrolment")
        .expect("enrolled")
        .kit_id;
    let chain = session.verify_chain().expect("verify");
    assert!(
        chain.ok(),
        "the kit's chain or receipts do not verify: {chain:?}"
    );
    let records = session.records(None, usize::MAX >> 1).expect("records");
    let without_receipt = records
        .iter()
        .filter(|r| r.state == RecordState::Rejected)
        .count();
    assert_eq!(
        chain.receipts_checked as usize,
        records.len() - without_receipt,
        "every record but the rejected ones has a stored, verified receipt"
    );
    let mut attachments = Vec::new();
    for r in &records {
        let is_bridged = bridged.contains(&r.record_id);
        let allowed = if is_bridged {
            matches!(r.state, RecordState::Purged | RecordState::Rejected)
        } else {
            matches!(r.state, RecordState::Complete | RecordState::Purged)
        };
        assert!(
            allowed,
            "record {} is {:?} (bridged: {is_bridged})",
            r.seq, r.state
        );
        if is_bridged || r.state == RecordState::Purged {
            continue;
        }
        for a in session
            .record_attachments(&r.record_id)
            .expect("attachments")
        {
            assert!(a.uploaded, "attachment {} not uploaded", a.attachment_id);
            attachments.push((r.record_id.clone(), a));
        }
    }
    drop(session);
    let on_kit: Vec<String> = records
        .iter()
        .map(|r| r.record_id.clone())
        .filter(|id| !bridged.contains(id))
        .collect();
    let mut settled = backend_holds(&kit_id, &on_kit, &attachments, database, blobs);
    settled.records = records.len();
    settled
}

/// What a kit held before it was wiped: its id, its finalized records and their
/// attachments (for [`assert_exactly_once_after_wipe`]).
#[derive(Debug)]
pub struct Held {
    kit_id: sync_protocol::ids::KitId,
    records: Vec<String>,
    attachments: Vec<(String, kit_core::RecordAttachment)>,
}

/// Snapshots what `kit` holds now, before a sync that will wipe it.
///
/// # Panics
/// When the kit cannot be read.
pub fn held_by(kit: &TestKit) -> Held {
    let session = kit.session();
    let kit_id = session
        .enrolment()
        .expect("enrolment")
        .expect("enrolled")
        .kit_id;
    let records = session.records(None, usize::MAX >> 1).expect("records");
    let mut attachments = Vec::new();
    for r in &records {
        for a in session
            .record_attachments(&r.record_id)
            .expect("attachments")
        {
            attachments.push((r.record_id.clone(), a));
        }
    }
    Held {
        kit_id,
        records: records.into_iter().map(|r| r.record_id).collect(),
        attachments,
    }
}

/// The exactly-once end state for a kit that was wiped after delivering (a drained
/// revocation): the backend holds every record of the snapshot exactly once, nothing
/// else of that kit, and every attachment's bytes as the manifest signed them.
///
/// # Panics
/// On any violation, naming it.
pub fn assert_exactly_once_after_wipe(
    held: &Held,
    database: &DatabaseUrl,
    data_dir: &Path,
) -> Settled {
    backend_holds(
        &held.kit_id,
        &held.records,
        &held.attachments,
        database,
        &BlobConfig::Filesystem(data_dir.to_path_buf()),
    )
}

fn backend_holds(
    kit_id: &sync_protocol::ids::KitId,
    on_kit: &[String],
    attachments: &[(String, kit_core::RecordAttachment)],
    database: &DatabaseUrl,
    blobs: &BlobConfig,
) -> Settled {
    let kit_id = *kit_id;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cases = runtime.block_on(async {
        let store = fieldkit_backend::storage::open(database, 2)
            .await
            .expect("backend store opens");
        let mut cases = Vec::new();
        for authority in store.authorities().await.expect("authorities") {
            for case in store.inbox(&authority.authority.id).await.expect("inbox") {
                if case.kit_id == kit_id {
                    cases.push(case.record_id.to_string());
                }
            }
        }
        for (record_id, a) in attachments {
            let upload = store
                .upload(
                    &kit_id,
                    &a.attachment_id.parse().expect("attachment id"),
                    Some(&record_id.parse().expect("record id")),
                )
                .await
                .expect("upload row")
                .unwrap_or_else(|| panic!("the backend has no upload {}", a.attachment_id));
            assert!(
                upload.complete,
                "upload {} incomplete at the backend",
                a.attachment_id
            );
            assert_eq!(upload.offset, a.ciphertext_size);
            assert_eq!(upload.ciphertext_sha256.to_hex(), a.ciphertext_sha256);
        }
        cases
    });
    let mut seen = HashMap::new();
    for id in &cases {
        *seen.entry(id.clone()).or_insert(0) += 1;
    }
    let dupes: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dupes.is_empty(), "records stored more than once: {dupes:?}");
    let on_server: BTreeSet<_> = cases.into_iter().collect();
    let on_kit: BTreeSet<_> = on_kit.iter().cloned().collect();
    assert_eq!(
        on_server, on_kit,
        "the backend holds exactly the kit's records"
    );

    // The bytes as the backend itself reads them (an office download, an export): through
    // its store, a window at a time, whatever the store is.
    let store = BlobStore::open(blobs).expect("the backend's attachment store opens");
    runtime.block_on(async {
        for (_, a) in attachments {
            let hash = a.ciphertext_sha256.clone().try_into().expect("hash");
            let size = store
                .stored_size(&hash)
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "attachment {} in {}: {e}",
                        a.attachment_id,
                        store.describe()
                    )
                })
                .unwrap_or_else(|| {
                    panic!(
                        "attachment {} is not in {}",
                        a.attachment_id,
                        store.describe()
                    )
                });
            assert_eq!(
                size,
                a.ciphertext_size,
                "attachment {} stored size in {}",
                a.attachment_id,
                store.describe()
            );
            let mut reader = store.reader(&hash, size);
            let (mut hasher, mut read) = (Sha256::new(), 0u64);
            while let Some(bytes) = reader
                .next()
                .await
                .unwrap_or_else(|e| panic!("reading attachment {}: {e}", a.attachment_id))
            {
                read += bytes.len() as u64;
                hasher.update(&bytes);
            }
            assert_eq!(
                read, a.ciphertext_size,
                "attachment {} bytes read",
                a.attachment_id
            );
            assert_eq!(
                hex(&hasher.finalize()),
                a.ciphertext_sha256,
                "attachment {} bytes in {}",
                a.attachment_id,
                store.describe()
            );
        }
    });
    Settled {
        records: on_kit.len(),
        attachments: attachments.len(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
