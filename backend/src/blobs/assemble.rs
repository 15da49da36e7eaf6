//! Completing an upload: the parts ([`super::parts`]) are read in order, a window at a
//! time, hashed, and written into the content-addressed object through a bounded
//! buffer; the object becomes visible only when the whole file hashed to the signed
//! manifest's `ciphertext_sha256`, else the write is aborted and nothing was stored.
//!
//! Memory per completion: one read window ([`super::WINDOW`]) and one buffer of
//! [`PART_SIZE`] bytes. Objects up to [`PART_SIZE`] are stored with one `PUT`; larger ones
//! as a multipart upload of [`PART_SIZE`] parts (S3's minimum is 5 MiB except the last),
//! one in flight at a time. On S3 a multipart upload only appears at its completion, so
//! a request cut off midway (a killed node, a timeout) leaves no object, only an
//! incomplete upload that the bucket's lifecycle rule removes (backend/README.md).

use std::sync::Arc;

use object_store::path::Path;
use object_store::{MultipartUpload, ObjectStore, ObjectStoreExt as _, PutPayload};
use sha2::{Digest as _, Sha256};
use sync_protocol::ids::{AttachmentId, Sha256Hash};

use super::{attachment_key, is_not_found, part_key, parts, BlobError, BlobStore, WINDOW};

/// Bytes buffered before a multipart part is sent: above S3's 5 MiB minimum, and 64
/// parts for the largest attachment (S3 allows 10,000).
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// How completing an upload ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// The whole file hashed to the manifest and is stored under its hash.
    Stored,
    /// The whole file hashed to something else; nothing was stored.
    HashMismatch,
}

/// Writes one object through a buffer of at most [`PART_SIZE`] bytes.
struct Writer {
    store: Arc<dyn ObjectStore>,
    key: Path,
    buf: Vec<u8>,
    upload: Option<Box<dyn MultipartUpload>>,
}

impl Writer {
    fn new(store: Arc<dyn ObjectStore>, key: Path) -> Self {
        Self {
            store,
            key,
            buf: Vec::new(),
            upload: None,
        }
    }

    async fn write(&mut self, mut bytes: &[u8]) -> Result<(), object_store::Error> {
        while !bytes.is_empty() {
            let take = (PART_SIZE - self.buf.len()).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buf.len() == PART_SIZE {
                self.send_part().await?;
            }
        }
        Ok(())
    }

    async fn send_part(&mut self) -> Result<(), object_store::Error> {
        let data = std::mem::take(&mut self.buf);
        let upload = match &mut self.upload {
            Some(upload) => upload,
            None => self
                .upload
                .insert(self.store.put_multipart(&self.key).await?),
        };
        upload.put_part(PutPayload::from(data)).await
    }

    /// Makes the object visible (or, when that fails, aborts).
    async fn finish(mut self) -> Result<(), object_store::Error> {
        if self.upload.is_none() {
            let data = std::mem::take(&mut self.buf);
            self.store.put(&self.key, PutPayload::from(data)).await?;
            return Ok(());
        }
        let mut result = Ok(());
        if !self.buf.is_empty() {
            result = self.send_part().await;
        }
        if let (Ok(()), Some(upload)) = (&result, &mut self.upload) {
            result = upload.complete().await.map(drop);
        }
        if result.is_err() {
            self.abort().await;
        }
        result
    }

    /// Drops what was written; nothing becomes visible.
    async fn abort(mut self) {
        if let Some(upload) = &mut self.upload {
            if let Err(e) = upload.abort().await {
                tracing::warn!(error = %e, "could not abort an attachment's multipart upload");
            }
        }
    }
}

impl BlobStore {
    /// Concatenates the parts of upload `id` (`length` bytes) into the object of
    /// `expected`, hashing them on the way; stores it only if the hash is `expected`.
    /// When an intact-looking object of that hash is already stored (an earlier try
    /// that failed before the database commit), the parts are only hashed.
    /// The parts stay; [`BlobStore::discard`] them after the database commit.
    ///
    /// # Errors
    /// [`BlobError::Short`] when the parts do not hold all `length` bytes (restart from
    /// 0); [`BlobError::Store`] when the store fails (nothing counts; retry).
    pub async fn complete(
        &self,
        id: &AttachmentId,
        length: u64,
        expected: &Sha256Hash,
    ) -> Result<Completion, BlobError> {
        let short = |held| BlobError::Short {
            held,
            offset: length,
        };
        let segments = parts::segments(&self.list_parts(id).await?, length).map_err(short)?;
        let already = self.stored_size(expected).await? == Some(length);
        let mut writer =
            (!already).then(|| Writer::new(Arc::clone(&self.store), attachment_key(expected)));
        let mut hasher = Sha256::new();
        let copied = async {
            for segment in segments {
                let key = part_key(id, segment.start);
                let mut pos = 0;
                while pos < segment.len {
                    let to = segment.len.min(pos + WINDOW);
                    let bytes = match self.store.get_range(&key, pos..to).await {
                        Ok(b) if b.len() as u64 == to - pos => b,
                        // Deleted or cut since it was listed.
                        Ok(_) => return Err(short(segment.start + pos)),
                        Err(e) if is_not_found(&e) => return Err(short(segment.start + pos)),
                        Err(e) => return Err(e.into()),
                    };
                    hasher.update(&bytes);
                    if let Some(w) = &mut writer {
                        w.write(&bytes).await?;
                    }
                    pos = to;
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = copied {
            if let Some(w) = writer {
                w.abort().await;
            }
            return Err(e);
        }
        if Sha256Hash(hasher.finalize().into()) != *expected {
            if let Some(w) = writer {
                w.abort().await;
            }
            return Ok(Completion::HashMismatch);
        }
        if let Some(w) = writer {
            w.finish().await?;
        }
        Ok(Completion::Stored)
    }
}

impl BlobStore {
    /// Copies the ciphertext `expected` (`length` bytes) from `from` into this store,
    /// hashing it on the way; stores it only if it is whole and hashes to `expected`
    /// (a backup and its restore). An intact copy already here is kept.
    ///
    /// # Errors
    /// [`BlobError::Store`] when either store fails (nothing counts; retry).
    pub async fn copy_from(
        &self,
        from: &BlobStore,
        expected: &Sha256Hash,
        length: u64,
    ) -> Result<Completion, BlobError> {
        if self.holds_intact(expected, length).await? {
            return Ok(Completion::Stored);
        }
        if from.stored_size(expected).await? != Some(length) {
            return Ok(Completion::HashMismatch);
        }
        let mut writer = Writer::new(Arc::clone(&self.store), attachment_key(expected));
        let mut reader = from.reader(expected, length);
        let mut hasher = Sha256::new();
        let copied: Result<(), BlobError> = async {
            while let Some(bytes) = reader.next().await? {
                hasher.update(&bytes);
                writer.write(&bytes).await?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = copied {
            writer.abort().await;
            return Err(e);
        }
        if Sha256Hash(hasher.finalize().into()) != *expected {
            writer.abort().await;
            return Ok(Completion::HashMismatch);
        }
        writer.finish().await?;
        Ok(Completion::Stored)
    }

    /// The hashes of every verified ciphertext stored (a restore's emptiness check).
    ///
    /// # Errors
    /// [`BlobError::Store`].
    pub async fn stored_attachments(&self) -> Result<Vec<Sha256Hash>, BlobError> {
        use futures_util::StreamExt as _;
        let mut listing = self.store.list(Some(&Path::from("attachments")));
        let mut found = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            let name = meta.location.filename().unwrap_or_default().to_owned();
            let location = meta.location.to_string();
            match Sha256Hash::try_from(name) {
                Ok(hash) => found.push(hash),
                Err(_) => {
                    return Err(BlobError::Store(object_store::Error::Generic {
                        store: "fieldkit",
                        source: format!("not an attachment: {location}").into(),
                    }))
                }
            }
        }
        Ok(found)
    }
}
