//! Attachment bytes behind one object-storage API ([`object_store`]): files under the
//! data folder by default ([`LocalFileSystem`], every write fsynced with its directory
//! before it returns), or an S3-compatible bucket when the backend runs on several
//! machines ([`config::BlobConfig`]). The same code runs on both; only [`BlobStore::open`]
//! knows which one it has.
//!
//! Layout (keys; for the filesystem store, paths under the data folder — the layout the
//! earlier file store used, so its files stay readable as they are):
//!
//! - `attachments/<first two hex digits>/<ciphertext sha256>` — a verified ciphertext,
//!   stored by content; written only after the whole file hashed to the signed manifest.
//! - `uploads/<attachment id>/<start offset, 20 digits>` — the chunks of an upload in
//!   progress, one object each ([`parts`]), deleted once the upload is complete.
//!
//! The database's offset is authoritative and moves only after a chunk's object is
//! stored; completion ([`BlobStore::complete`]) concatenates the parts into the
//! content-addressed object in bounded memory while hashing, and the upload counts only
//! after that. Reads go in ranges of [`WINDOW`] bytes, so no request holds a whole file
//! and a slow reader never holds a request to the store open.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt as _, RetryConfig};
use sha2::{Digest as _, Sha256};
use sync_protocol::ids::{AttachmentId, Sha256Hash};

mod assemble;
pub mod config;
mod legacy;
pub mod parts;

pub use assemble::Completion;
pub use config::{BlobConfig, BlobKind, BlobsLayer, S3Config, Secret};
use parts::Part;

/// Bytes read from the store per request (office downloads, completion, checks).
pub const WINDOW: u64 = 1024 * 1024;

/// Retries of a failed request to the object store, within [`RETRY_TIMEOUT`]. Few and
/// short: a kit's request is answered 503 and retried by the kit rather than held open.
pub const MAX_RETRIES: usize = 2;
/// No retry of a request to the object store starts later than this after the first try.
pub const RETRY_TIMEOUT: Duration = Duration::from_secs(10);

/// What a store operation found.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The stored parts hold fewer bytes than the database's offset (a part lost, or
    /// deleted behind the backend's back); the upload must restart from 0.
    #[error("the stored parts hold {held} bytes, fewer than the offset {offset}")]
    Short {
        /// Leading bytes the parts hold.
        held: u64,
        /// The offset they should reach.
        offset: u64,
    },
    /// The object store failed: unreachable, too slow, or it answered an error.
    #[error("attachment storage: {0}")]
    Store(#[from] object_store::Error),
    /// The attachment folder could not be prepared.
    #[error("attachment folder {path}: {source}")]
    Io {
        /// The folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

fn is_not_found(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::NotFound { .. })
}

/// Where the store is, for logs (no credentials).
#[derive(Debug, Clone)]
enum Place {
    Filesystem(PathBuf),
    S3 {
        endpoint: Option<String>,
        bucket: String,
        prefix: Option<String>,
    },
}

/// The attachment store; cheap to clone.
#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    place: Place,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("BlobStore").field(&self.place).finish()
    }
}

/// The key of a verified ciphertext.
fn attachment_key(hash: &Sha256Hash) -> Path {
    let hex = hash.to_hex();
    Path::from_iter(["attachments", &hex[..2], hex.as_str()])
}

fn parts_prefix(id: &AttachmentId) -> Path {
    Path::from_iter(["uploads".to_owned(), id.to_string()])
}

fn part_key(id: &AttachmentId, start: u64) -> Path {
    parts_prefix(id).join(parts::name(start))
}

impl BlobStore {
    /// Opens the configured store (nothing is sent to an object store yet).
    ///
    /// # Errors
    /// [`BlobError::Io`] when the data folder cannot be prepared; [`BlobError::Store`]
    /// for an S3 configuration the client refuses.
    pub fn open(config: &BlobConfig) -> Result<Self, BlobError> {
        match config {
            BlobConfig::Filesystem(root) => Self::filesystem(root),
            BlobConfig::S3(s3) => Self::s3(s3),
        }
    }

    /// The store under `root` (the data folder), created if needed; part files of the
    /// earlier file store (`uploads/<id>.part`) are moved into the new layout.
    ///
    /// # Errors
    /// [`BlobError::Io`] or [`BlobError::Store`].
    pub fn filesystem(root: &FsPath) -> Result<Self, BlobError> {
        let io = |source| BlobError::Io {
            path: root.display().to_string(),
            source,
        };
        std::fs::create_dir_all(root.join("attachments")).map_err(io)?;
        std::fs::create_dir_all(root.join("uploads")).map_err(io)?;
        legacy::move_part_files(&root.join("uploads")).map_err(io)?;
        let store = LocalFileSystem::new_with_prefix(root)?
            .with_fsync(true)
            .with_automatic_cleanup(true);
        Ok(Self {
            store: Arc::new(store),
            place: Place::Filesystem(root.to_path_buf()),
        })
    }

    /// The attachments of an existing folder, read as they are (nothing is created or
    /// moved: a backup on read-only media).
    ///
    /// # Errors
    /// [`BlobError::Store`] when the folder does not exist.
    pub fn folder(root: &FsPath) -> Result<Self, BlobError> {
        Ok(Self {
            store: Arc::new(LocalFileSystem::new_with_prefix(root)?),
            place: Place::Filesystem(root.to_path_buf()),
        })
    }

    fn s3(c: &S3Config) -> Result<Self, BlobError> {
        // reqwest's rustls needs a process-wide provider: ring, as everywhere in Fieldkit
        // (an already installed one is kept).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let options = ClientOptions::new()
            .with_timeout(c.timeout)
            .with_connect_timeout(c.connect_timeout)
            .with_allow_http(c.allow_http);
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(2),
                base: 2.0,
            },
            max_retries: MAX_RETRIES,
            retry_timeout: RETRY_TIMEOUT,
        };
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&c.bucket)
            .with_region(&c.region)
            .with_access_key_id(c.access_key_id.expose())
            .with_secret_access_key(c.secret_access_key.expose())
            .with_virtual_hosted_style_request(!c.path_style)
            .with_allow_http(c.allow_http)
            .with_client_options(options)
            .with_retry(retry);
        if let Some(endpoint) = &c.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let s3 = builder.build()?;
        let store: Arc<dyn ObjectStore> = match &c.prefix {
            Some(prefix) => Arc::new(PrefixStore::new(s3, prefix.as_str())),
            None => Arc::new(s3),
        };
        Ok(Self {
            store,
            place: Place::S3 {
                endpoint: c.endpoint.clone(),
                bucket: c.bucket.clone(),
                prefix: c.prefix.clone(),
            },
        })
    }

    /// Where the store is, for logs: a folder, or endpoint, bucket and prefix.
    pub fn describe(&self) -> String {
        match &self.place {
            Place::Filesystem(root) => format!("filesystem {}", root.display()),
            Place::S3 {
                endpoint,
                bucket,
                prefix,
            } => format!(
                "s3 {}/{bucket}{}",
                endpoint.as_deref().unwrap_or("aws"),
                prefix.as_ref().map(|p| format!("/{p}")).unwrap_or_default()
            ),
        }
    }

    /// The file of a verified ciphertext, for the filesystem store; `None` for S3.
    pub fn local_path(&self, hash: &Sha256Hash) -> Option<PathBuf> {
        match &self.place {
            Place::Filesystem(root) => {
                let hex = hash.to_hex();
                Some(root.join("attachments").join(&hex[..2]).join(hex))
            }
            Place::S3 { .. } => None,
        }
    }

    /// Asks the store something cheap, to tell at start whether it answers.
    ///
    /// # Errors
    /// [`BlobError::Store`] when it does not.
    pub async fn probe(&self) -> Result<(), BlobError> {
        match self.store.head(&Path::from("probe-of-an-absent-key")).await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn list_parts(&self, id: &AttachmentId) -> Result<Vec<Part>, BlobError> {
        let mut listing = self.store.list(Some(&parts_prefix(id)));
        let mut found = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            if let Some(start) = meta.location.filename().and_then(parts::parse_name) {
                found.push(Part {
                    start,
                    size: meta.size,
                });
            }
        }
        Ok(found)
    }

    async fn delete_quietly(&self, key: &Path) -> Result<(), BlobError> {
        match self.store.delete(key).await {
            Err(e) if !is_not_found(&e) => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// Stores `bytes` as the chunk starting at `offset`, after checking that the parts
    /// hold every byte before it and deleting stale parts after it ([`parts`]).
    ///
    /// # Errors
    /// [`BlobError::Short`] when bytes before `offset` are missing (restart from 0);
    /// [`BlobError::Store`] when the store fails (nothing counts; retry).
    pub async fn write_chunk(
        &self,
        id: &AttachmentId,
        offset: u64,
        bytes: Bytes,
    ) -> Result<(), BlobError> {
        let stale = parts::before_write(&self.list_parts(id).await?, offset)
            .map_err(|held| BlobError::Short { held, offset })?;
        for start in stale {
            self.delete_quietly(&part_key(id, start)).await?;
        }
        self.store.put(&part_key(id, offset), bytes.into()).await?;
        Ok(())
    }

    /// Deletes every part of an upload.
    ///
    /// # Errors
    /// [`BlobError::Store`].
    pub async fn discard(&self, id: &AttachmentId) -> Result<(), BlobError> {
        for part in self.list_parts(id).await? {
            self.delete_quietly(&part_key(id, part.start)).await?;
        }
        Ok(())
    }

    /// The size of the verified ciphertext with this hash, `None` if it is not stored.
    ///
    /// # Errors
    /// [`BlobError::Store`].
    pub async fn stored_size(&self, hash: &Sha256Hash) -> Result<Option<u64>, BlobError> {
        match self.store.head(&attachment_key(hash)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads the first `length` bytes of the ciphertext with this hash, a window at a
    /// time.
    pub fn reader(&self, hash: &Sha256Hash, length: u64) -> BlobReader {
        BlobReader {
            store: Arc::clone(&self.store),
            key: attachment_key(hash),
            pos: 0,
            end: length,
        }
    }

    /// Whether the ciphertext with this hash is stored, `length` bytes long, and hashes
    /// to it — read through in windows, never whole.
    ///
    /// # Errors
    /// [`BlobError::Store`].
    pub async fn holds_intact(&self, hash: &Sha256Hash, length: u64) -> Result<bool, BlobError> {
        if self.stored_size(hash).await? != Some(length) {
            return Ok(false);
        }
        let mut reader = self.reader(hash, length);
        let mut hasher = Sha256::new();
        while let Some(bytes) = reader.next().await? {
            hasher.update(&bytes);
        }
        Ok(Sha256Hash(hasher.finalize().into()) == *hash)
    }
}

/// A stored ciphertext read in ranges of [`WINDOW`] bytes: one request per window, each
/// finished before its bytes are handed on, so the consumer's pace never holds a request
/// to the store open.
pub struct BlobReader {
    store: Arc<dyn ObjectStore>,
    key: Path,
    pos: u64,
    end: u64,
}

impl BlobReader {
    /// The next window, `None` at the end.
    ///
    /// # Errors
    /// [`BlobError::Store`] (also for an object shorter than expected).
    pub async fn next(&mut self) -> Result<Option<Bytes>, BlobError> {
        if self.pos >= self.end {
            return Ok(None);
        }
        let to = self.end.min(self.pos + WINDOW);
        let bytes = self.store.get_range(&self.key, self.pos..to).await?;
        if bytes.len() as u64 != to - self.pos {
            return Err(BlobError::Store(object_store::Error::Generic {
                store: "fieldkit",
                source: format!("short read of {}", self.key).into(),
            }));
        }
        self.pos = to;
        Ok(Some(bytes))
    }
}

#[cfg(test)]
mod tests;
