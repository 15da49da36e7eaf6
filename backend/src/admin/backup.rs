//! Backup, restore and the attachment check (`fieldkit-backend admin backup --to DIR`,
//! `admin restore --from DIR`, `admin fsck`) — while the backend runs, without the master
//! key (everything secret in a backup is sealed under it; the key itself is never in one).
//!
//! A backup folder holds `tables/<table>.jsonl` (every table of one database snapshot,
//! [`crate::storage::dump`]), `attachments/<2 hex>/<sha256>` (every complete attachment,
//! copied from the file store or bucket and checked against its hash on the way) and,
//! written last, `manifest.json` with each file's SHA-256 — a folder without it is not a
//! finished backup. A restore checks every file against the manifest before it writes
//! anything, refuses a database that is not empty or a file store holding attachments the
//! backup does not, copies the attachments, then loads the tables in one transaction.
//!
//! What a restore loses — everything the kits delivered after the backup — the kits send
//! again at their next sync, as long as they still hold it: delivered records stay on a
//! kit until its purge, [`KIT_RETENTION_DAYS`] after delivery by default. A kit that purged
//! one stops with `cannot_resend` and needs its held-records file imported (PROTOCOL.md
//! §11); the restore report says when the backup is older than that.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read as _, Write as _};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use sync_protocol::ids::{AttachmentId, RecordId, Sha256Hash};

use super::AdminError;
use crate::blobs::{BlobConfig, BlobStore, Completion};
use crate::config::DatabaseUrl;
use crate::storage::dump::DUMPED_TABLES;
use crate::storage::{Store, StoreError, StoredAttachment};

/// The manifest's `format`.
pub const FORMAT: &str = "fieldkit-backup";

/// The manifest's `version`.
pub const FORMAT_VERSION: u32 = 1;

/// Days after delivery a kit's purge (`fieldkit purge`) removes a record by default: kits
/// heal a restore from a backup younger than this by sending again.
pub const KIT_RETENTION_DAYS: i64 = 7;

/// Attachments checked per database read.
const INVENTORY_PAGE: u32 = 1000;

/// What a backup holds; `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// When the snapshot was taken.
    pub created_at: DateTime<Utc>,
    /// The build that took it.
    pub fieldkit_version: String,
    /// `sqlite` or `postgresql`, the database it was taken from (it restores into either).
    pub database: String,
    /// The schema version of the snapshot.
    pub schema_version: i64,
    /// Every table file.
    pub tables: Vec<TableFile>,
    /// Every attachment copied.
    pub attachments: Vec<AttachmentFile>,
    /// Complete attachments the file store did not hold intact at backup time (`admin
    /// fsck` names their cases).
    pub unavailable_attachments: Vec<AttachmentFile>,
}

/// One table's file in a backup.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableFile {
    /// The table (the file is `tables/<table>.jsonl`).
    pub table: String,
    /// Its rows.
    pub rows: u64,
    /// SHA-256 of the file.
    pub sha256: Sha256Hash,
    /// Its size in bytes.
    pub size: u64,
}

/// One attachment in a backup (the file is `attachments/<2 hex>/<sha256>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentFile {
    /// SHA-256 of the ciphertext, its name.
    pub sha256: Sha256Hash,
    /// Its size in bytes.
    pub size: u64,
}

/// What `admin restore` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RestoreReport {
    /// The backup's manifest.
    pub manifest: Manifest,
    /// Days between the backup and the restore.
    pub age_days: i64,
    /// Whether kits may have purged records delivered after the backup (it is older
    /// than [`KIT_RETENTION_DAYS`]): those kits will need a held-records import.
    pub kits_may_be_blocked: bool,
}

/// An attachment `admin fsck` found wanting.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FsckProblem {
    /// The attachment.
    pub attachment_id: AttachmentId,
    /// A case (record) whose manifest names it, if any.
    pub record_id: Option<RecordId>,
    /// Its ciphertext hash.
    pub sha256: Sha256Hash,
    /// Its size.
    pub size: u64,
}

/// What `admin fsck` found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FsckReport {
    /// Complete attachments checked (read through and hashed).
    pub checked: u64,
    /// Uploads still in progress (not checked: nothing counts until they complete).
    pub in_progress: u64,
    /// Complete attachments missing from the file store, or of another size or hash.
    pub problems: Vec<FsckProblem>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AdminError + '_ {
    move |source| AdminError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// SHA-256 and size of a file, read through; the file is also flushed to disk.
fn hash_file(path: &Path) -> Result<(Sha256Hash, u64), AdminError> {
    let mut file = File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 16];
    let mut size = 0;
    loop {
        let n = file.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    file.sync_all().map_err(io(path))?;
    Ok((Sha256Hash(hasher.finalize().into()), size))
}

fn table_path(dir: &Path, table: &str) -> PathBuf {
    dir.join("tables").join(format!("{table}.jsonl"))
}

/// Every attachment row of the database, a page at a time (memory stays flat at a
/// million attachments).
struct Inventory<'a> {
    store: &'a Store,
    after: Option<AttachmentId>,
}

impl<'a> Inventory<'a> {
    fn of(store: &'a Store) -> Self {
        Self { store, after: None }
    }

    async fn next_page(
        &mut self,
    ) -> Result<Option<Vec<(StoredAttachment, Option<RecordId>)>>, AdminError> {
        let page = self
            .store
            .attachment_inventory(self.after.as_ref(), INVENTORY_PAGE)
            .await?;
        self.after = page.last().map(|(a, _)| a.attachment_id);
        Ok(self.after.is_some().then_some(page))
    }
}

/// Takes a backup into the new or empty folder `to` while the backend may run.
///
/// # Errors
/// [`AdminError::Invalid`] for a folder that is not empty; [`AdminError::Io`],
/// [`AdminError::Store`], [`AdminError::Blobs`] (nothing is a backup then: no manifest
/// was written).
pub async fn backup(
    store: &Store,
    blobs: &BlobStore,
    to: &Path,
    now: DateTime<Utc>,
) -> Result<Manifest, AdminError> {
    if to.exists() && std::fs::read_dir(to).map_err(io(to))?.next().is_some() {
        return Err(AdminError::Invalid(format!(
            "{} is not empty: a backup goes into a new folder",
            to.display()
        )));
    }
    let tables_dir = to.join("tables");
    std::fs::create_dir_all(&tables_dir).map_err(io(&tables_dir))?;
    restrict_to_owner(to)?;
    let (schema_version, dumped) = store
        .dump(|table| File::create(table_path(to, table)).map(BufWriter::new))
        .await?;
    let mut tables = Vec::new();
    for t in dumped {
        let (sha256, size) = hash_file(&table_path(to, t.table))?;
        tables.push(TableFile {
            table: t.table.to_owned(),
            rows: t.rows,
            sha256,
            size,
        });
    }
    // Attachments completed after the snapshot are copied too: harmless, and a restore
    // then already holds what the kit would upload again.
    let mut complete = Vec::new();
    let mut inventory = Inventory::of(store);
    while let Some(page) = inventory.next_page().await? {
        complete.extend(
            page.iter()
                .filter(|(a, _)| a.complete)
                .map(|(a, _)| AttachmentFile {
                    sha256: a.ciphertext_sha256,
                    size: a.ciphertext_size,
                }),
        );
    }
    complete.sort_by_key(|a| a.sha256);
    complete.dedup();
    let copy = BlobStore::filesystem(to)?;
    let (mut attachments, mut unavailable) = (Vec::new(), Vec::new());
    for a in complete {
        match copy.copy_from(blobs, &a.sha256, a.size).await? {
            Completion::Stored => attachments.push(a),
            Completion::HashMismatch => unavailable.push(a),
        }
    }
    let uploads = to.join("uploads");
    std::fs::remove_dir(&uploads).map_err(io(&uploads))?;
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        version: FORMAT_VERSION,
        created_at: now,
        fieldkit_version: env!("CARGO_PKG_VERSION").to_owned(),
        database: store.kind().to_owned(),
        schema_version,
        tables,
        attachments,
        unavailable_attachments: unavailable,
    };
    write_manifest(to, &manifest)?;
    Ok(manifest)
}

#[cfg(unix)]
fn restrict_to_owner(dir: &Path) -> Result<(), AdminError> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io(dir))
}

#[cfg(not(unix))]
fn restrict_to_owner(_dir: &Path) -> Result<(), AdminError> {
    Ok(())
}

/// Writes `manifest.json` atomically (a temporary file, synced, renamed, the folder
/// synced): it exists only when everything it names does.
fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<(), AdminError> {
    let tmp = dir.join("manifest.json.tmp");
    let text = serde_json::to_vec_pretty(manifest)
        .map_err(|e| AdminError::Invalid(format!("manifest: {e}")))?;
    let mut file = File::create(&tmp).map_err(io(&tmp))?;
    file.write_all(&text).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    let path = dir.join("manifest.json");
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Reads a backup's manifest and checks every file it names, before anything is
/// written.
///
/// # Errors
/// [`AdminError::Invalid`] naming the missing, altered or unexpected file.
pub async fn verify(from: &Path) -> Result<(Manifest, BlobStore), AdminError> {
    let path = from.join("manifest.json");
    let text = std::fs::read(&path).map_err(|e| {
        AdminError::Invalid(format!(
            "{}: {e} (a folder without a manifest is not a finished backup)",
            path.display()
        ))
    })?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| AdminError::Invalid(format!("{}: {e}", path.display())))?;
    if manifest.format != FORMAT || manifest.version != FORMAT_VERSION {
        return Err(AdminError::Invalid(format!(
            "{}: not a {FORMAT} version {FORMAT_VERSION} manifest",
            path.display()
        )));
    }
    let named: Vec<&str> = manifest.tables.iter().map(|t| t.table.as_str()).collect();
    if named != DUMPED_TABLES {
        return Err(AdminError::Invalid(format!(
            "{}: the tables are not the backup's ({})",
            path.display(),
            DUMPED_TABLES.join(", ")
        )));
    }
    for t in &manifest.tables {
        let file = table_path(from, &t.table);
        let found = hash_file(&file).map_err(|e| {
            AdminError::Invalid(format!("{}: missing from the backup ({e})", file.display()))
        })?;
        if found != (t.sha256, t.size) {
            return Err(AdminError::Invalid(format!(
                "{}: altered or damaged (not the SHA-256 and size in the manifest)",
                file.display()
            )));
        }
    }
    let copy = BlobStore::folder(from)?;
    for a in &manifest.attachments {
        if !copy.holds_intact(&a.sha256, a.size).await? {
            let hex = a.sha256.to_hex();
            return Err(AdminError::Invalid(format!(
                "{}: missing, altered or damaged",
                from.join("attachments")
                    .join(&hex[..2])
                    .join(&hex)
                    .display()
            )));
        }
    }
    Ok((manifest, copy))
}

/// Restores the backup in `from` into the empty database `database` and the file store
/// `blobs` (empty, or holding only attachments of this backup from an interrupted
/// restore).
///
/// # Errors
/// [`AdminError::Invalid`] for a damaged backup (nothing written);
/// [`StoreError::Conflict`] for a database that is not empty or a file store with other
/// attachments (nothing written); storage and file store errors.
pub async fn restore(
    from: &Path,
    database: &DatabaseUrl,
    blobs: &BlobConfig,
    now: DateTime<Utc>,
) -> Result<RestoreReport, AdminError> {
    let (manifest, copy) = verify(from).await?;
    if let DatabaseUrl::Sqlite(path) = database {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
    }
    if !Store::is_empty(database).await? {
        return Err(StoreError::Conflict(format!(
            "the database {database} is not empty; a restore needs an empty one"
        ))
        .into());
    }
    let blobs = &BlobStore::open(blobs)?;
    let known: std::collections::HashSet<Sha256Hash> =
        manifest.attachments.iter().map(|a| a.sha256).collect();
    if let Some(other) = blobs
        .stored_attachments()
        .await?
        .into_iter()
        .find(|h| !known.contains(h))
    {
        return Err(StoreError::Conflict(format!(
            "attachment {other} in {} is not in this backup; a restore needs an empty \
             attachment store",
            blobs.describe()
        ))
        .into());
    }
    for a in &manifest.attachments {
        if blobs.copy_from(&copy, &a.sha256, a.size).await? != Completion::Stored {
            return Err(AdminError::Invalid(format!(
                "attachment {} changed in the backup during the restore",
                a.sha256
            )));
        }
    }
    let loaded = Store::load(
        database,
        manifest.schema_version,
        now.timestamp_millis(),
        |table| File::open(table_path(from, table)).map(BufReader::new),
    )
    .await;
    if let (Err(_), DatabaseUrl::Sqlite(path)) = (&loaded, database) {
        // Nothing of it counts; a retry starts from an empty file again.
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
    loaded?.close().await;
    let age_days = (now - manifest.created_at).num_days();
    Ok(RestoreReport {
        kits_may_be_blocked: age_days >= KIT_RETENTION_DAYS,
        age_days,
        manifest,
    })
}

/// Checks that every complete attachment is in the file store, of its size and hash
/// (read through), and names the cases of those that are not.
///
/// # Errors
/// Storage and file store errors.
pub async fn fsck(store: &Store, blobs: &BlobStore) -> Result<FsckReport, AdminError> {
    let mut report = FsckReport::default();
    let mut inventory = Inventory::of(store);
    while let Some(page) = inventory.next_page().await? {
        for (a, record_id) in page {
            if !a.complete {
                report.in_progress += 1;
                continue;
            }
            report.checked += 1;
            if !blobs
                .holds_intact(&a.ciphertext_sha256, a.ciphertext_size)
                .await?
            {
                report.problems.push(FsckProblem {
                    attachment_id: a.attachment_id,
                    record_id,
                    sha256: a.ciphertext_sha256,
                    size: a.ciphertext_size,
                });
            }
        }
    }
    Ok(report)
}
