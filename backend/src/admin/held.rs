//! `fieldkit-backend admin kit import-held FILE`: IT staff import a blocked kit's
//! held-records file (PROTOCOL.md §11), written by `fieldkit export-held` with the
//! kit's recovery secret. The file is checked against the kit's key before anything is
//! stored; then every position is delivered, restored on the backend's own receipt or
//! bridged, in one transaction ([`crate::held_import`]), and the import goes into the
//! audit trail with the operator's name. Attachments of restored records whose bytes
//! this backend still holds (a database restored without its attachment store) are
//! checked against the signed manifest and completed, so the kit need not send them
//! again.

use std::path::Path;

use chrono::Utc;
use ed25519_dalek::VerifyingKey;
use sync_protocol::held::HeldFile;
use sync_protocol::ids::KitId;

use super::{Admin, AdminError};
use crate::blobs::{BlobError, BlobStore};
use crate::held_import::{ImportAction, ImportOutcome, PreparedFile};
use crate::ingest::{prepare_one, BatchItem};
use crate::routing::CatalogCache;
use crate::storage::{AdminAction, StoreError};

/// Held-records files larger than this are refused unread: 5,000 positions of at most
/// 2 MiB each would be 10 GiB; IT exports in steps (`--from`) instead.
pub const MAX_HELD_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// What an import did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HeldImported {
    /// The kit.
    pub kit_id: KitId,
    /// Per position.
    #[serde(flatten)]
    pub outcome: ImportOutcome,
    /// Attachments of records it took completed from bytes the backend still held.
    pub attachments_completed: u64,
}

fn invalid(path: &Path, what: impl std::fmt::Display) -> AdminError {
    AdminError::Invalid(format!("{}: {what}", path.display()))
}

/// Imports a held-records file.
///
/// # Errors
/// A file that is not a held-records file, too large, or whose statement or envelopes do
/// not verify against the kit's key → 5; an unknown kit → 3; a quarantined or revoked
/// kit, or a file that does not continue the backend's chain → 4.
pub async fn import_held(admin: &Admin, path: &Path) -> Result<HeldImported, AdminError> {
    let io = |source| AdminError::Io {
        path: path.display().to_string(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_HELD_FILE_BYTES {
        return Err(invalid(
            path,
            format!("{size} bytes; at most {MAX_HELD_FILE_BYTES}: export in steps with --from"),
        ));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let file = HeldFile::from_json(&bytes).map_err(|e| invalid(path, e))?;
    let kit_id: KitId = file
        .statement
        .claimed_keyid()
        .map_err(|e| invalid(path, e))?
        .parse()
        .map_err(|e| invalid(path, format!("the statement names no kit: {e}")))?;
    let kit = admin
        .store
        .kit(&kit_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("kit {kit_id}")))?;
    let kit_key = kit
        .public_key
        .and_then(|k| VerifyingKey::from_bytes(&k).ok())
        .ok_or_else(|| StoreError::NotFound(format!("enrolled kit {kit_id}")))?;
    let server_keys: Vec<VerifyingKey> = admin
        .store
        .server_keys()
        .await?
        .iter()
        .filter_map(|k| VerifyingKey::from_bytes(&k.public_key).ok())
        .collect();
    let checked = file
        .verify(kit_id, &kit_key, &server_keys)
        .map_err(|e| invalid(path, format!("does not verify as kit {kit_id}'s file: {e}")))?;
    let catalogs = CatalogCache::default()
        .published(admin.store.as_ref(), &server_keys)
        .await
        .map_err(|e| AdminError::Invalid(e.to_string()))?;
    let items: Vec<Option<BatchItem>> = checked
        .entries
        .iter()
        .map(|e| {
            e.envelope
                .as_ref()
                .map(|env| prepare_one(env, kit_id, &kit_key, &catalogs))
        })
        .collect();
    let taken_records: Vec<_> = checked
        .entries
        .iter()
        .zip(&items)
        .filter_map(|(e, item)| match item {
            Some(BatchItem::Verified { record, .. }) => Some((e.entry.seq, record.record.clone())),
            _ => None,
        })
        .collect();
    let statement_hash = checked.statement_hash;
    let server_key = admin.server_key().await?;
    let outcome = crate::held_import::import_held(
        &admin.store,
        &kit_id,
        PreparedFile {
            file: checked,
            items,
        },
        &server_key,
        &admin.actor,
        Utc::now(),
    )
    .await
    .map_err(|e| match e {
        // A quarantined kit is released first; a revoked one delivers by draining.
        StoreError::KitNotActive(status) => StoreError::Conflict(format!(
            "kit {kit_id} is {}: release its quarantine first (admin kit release); a \
                 revoked kit delivers by draining",
            status.as_str()
        )),
        other => other,
    })?;
    let taken: Vec<_> = taken_records
        .into_iter()
        .filter(|(seq, _)| {
            outcome.positions.iter().any(|p| {
                p.seq == *seq
                    && matches!(p.action, ImportAction::Restored | ImportAction::Delivered)
            })
        })
        .map(|(_, r)| r)
        .collect();
    let attachments_completed = complete_held_attachments(admin, &taken).await?;
    let count = |action| {
        outcome
            .positions
            .iter()
            .filter(|p| p.action == action)
            .count()
    };
    let (first, last) = (
        outcome.positions.first().map_or(0, |p| p.seq),
        outcome.positions.last().map_or(0, |p| p.seq),
    );
    let detail = format!(
        "seq {first}..={last}: {} delivered, {} chained as rejected, {} restored on receipt, \
         {} bridged, {} already held; statement sha256 {}",
        count(ImportAction::Delivered),
        count(ImportAction::ChainedRejected),
        count(ImportAction::Restored),
        count(ImportAction::Bridged),
        count(ImportAction::AlreadyHeld),
        statement_hash.to_hex()
    );
    admin
        .record(
            Some(&kit.authority_id),
            AdminAction::KitHeldImported,
            &kit_id.to_string(),
            Some(&detail),
        )
        .await?;
    Ok(HeldImported {
        kit_id,
        outcome,
        attachments_completed,
    })
}

/// Completes the uploads of records the import took (restored or delivered) from
/// attachment bytes the backend still holds, after hashing each stored ciphertext (read
/// in windows, never whole) against the manifest: the kit may hold them as uploaded
/// long ago.
async fn complete_held_attachments(
    admin: &Admin,
    taken: &[sync_protocol::record::Record],
) -> Result<u64, AdminError> {
    let Some(config) = admin.blobs.as_ref().filter(|_| !taken.is_empty()) else {
        return Ok(0);
    };
    let store_error = |e: BlobError| AdminError::Io {
        path: "attachment store".into(),
        source: std::io::Error::other(e.to_string()),
    };
    let blobs = BlobStore::open(config).map_err(store_error)?;
    let mut completed = 0;
    for record in taken {
        for a in &record.attachments {
            if !blobs
                .holds_intact(&a.ciphertext_sha256, a.ciphertext_size)
                .await
                .map_err(store_error)?
            {
                continue;
            }
            admin.store.create_upload(&a.id).await?;
            if admin
                .store
                .advance_upload(&a.id, 0, a.ciphertext_size, true, Utc::now())
                .await?
            {
                completed += 1;
            }
        }
    }
    Ok(completed)
}
