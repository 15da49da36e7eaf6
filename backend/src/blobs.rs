//! Attachment files under the data folder. Incomplete uploads live in
//! `uploads/<attachment_id>.part`; a verified upload is linked to its content address
//! `attachments/<first two hex digits>/<ciphertext sha256>` (identical ciphertext is
//! stored once). The database holds the authoritative offset: a part file is always
//! cut back to it before a chunk is appended, so bytes of a failed or refused request
//! never count. All writes are fsynced before the database moves the offset.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use sync_protocol::ids::{AttachmentId, Sha256Hash};

/// The attachment folders of a data directory.
#[derive(Debug, Clone)]
pub struct BlobStore {
    uploads: PathBuf,
    attachments: PathBuf,
}

/// What writing a chunk found.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The part file holds fewer bytes than the database's offset (lost after a crash
    /// or deleted by hand); the upload must restart from 0.
    #[error("the part file holds {held} bytes, fewer than the offset {offset}")]
    Short {
        /// Bytes on disk.
        held: u64,
        /// The database's offset.
        offset: u64,
    },
    /// The file system failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    // Makes a new directory entry durable; not supported on every platform.
    match File::open(dir).and_then(|d| d.sync_all()) {
        Ok(()) => Ok(()),
        Err(e) if cfg!(windows) => {
            drop(e);
            Ok(())
        }
        Err(e) => Err(e),
    }
}

impl BlobStore {
    /// Creates the folders under `data_dir` if needed.
    ///
    /// # Errors
    /// When the folders cannot be created.
    pub fn new(data_dir: &Path) -> io::Result<Self> {
        let store = Self {
            uploads: data_dir.join("uploads"),
            attachments: data_dir.join("attachments"),
        };
        fs::create_dir_all(&store.uploads)?;
        fs::create_dir_all(&store.attachments)?;
        Ok(store)
    }

    fn part(&self, id: &AttachmentId) -> PathBuf {
        self.uploads.join(format!("{id}.part"))
    }

    /// Where a verified ciphertext with this hash lives.
    pub fn path_of(&self, hash: &Sha256Hash) -> PathBuf {
        let hex = hash.to_hex();
        self.attachments.join(&hex[..2]).join(hex)
    }

    /// Writes `bytes` at `offset` of the part file, first cutting the file back to
    /// `offset`, then fsyncs.
    ///
    /// # Errors
    /// [`BlobError::Short`] when the file holds fewer than `offset` bytes.
    pub fn write_chunk(
        &self,
        id: &AttachmentId,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), BlobError> {
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(self.part(id))?;
        let held = file.metadata()?.len();
        if held < offset {
            return Err(BlobError::Short { held, offset });
        }
        file.set_len(offset)?;
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(bytes)?;
        file.sync_data()?;
        Ok(())
    }

    /// SHA-256 over the first `length` bytes of the part file.
    ///
    /// # Errors
    /// When the file cannot be read.
    pub fn hash_part(&self, id: &AttachmentId, length: u64) -> io::Result<Sha256Hash> {
        let mut file = File::open(self.part(id))?.take(length);
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(Sha256Hash(hasher.finalize().into()))
    }

    /// Links the verified part file to its content address (keeping the part file, so
    /// a failure before the database commit can be retried). Idempotent.
    ///
    /// # Errors
    /// When the link cannot be made.
    pub fn promote(&self, id: &AttachmentId, hash: &Sha256Hash) -> io::Result<()> {
        let target = self.path_of(hash);
        let dir = target.parent().unwrap_or(&self.attachments).to_path_buf();
        fs::create_dir_all(&dir)?;
        match fs::hard_link(self.part(id), &target) {
            Ok(()) => sync_dir(&dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Removes the part file, if any.
    ///
    /// # Errors
    /// When it exists and cannot be removed.
    pub fn discard(&self, id: &AttachmentId) -> io::Result<()> {
        match fs::remove_file(self.part(id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Whether a verified ciphertext with this hash is stored.
    pub fn contains(&self, hash: &Sha256Hash) -> bool {
        self.path_of(hash).is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_rewrites_from_the_database_offset_and_promotion_is_content_addressed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let blobs = BlobStore::new(dir.path()).expect("folders");
        let id = AttachmentId::from_uuid(uuid::Uuid::from_u128(7));
        blobs.write_chunk(&id, 0, b"hello ").expect("first chunk");
        // A refused request had written garbage past the offset; it is cut away.
        blobs.write_chunk(&id, 6, b"garbage").expect("stray write");
        blobs.write_chunk(&id, 6, b"world").expect("second chunk");
        let hash = blobs.hash_part(&id, 11).expect("hash");
        assert_eq!(hash, Sha256Hash::of(b"hello world"));
        blobs.promote(&id, &hash).expect("promote");
        blobs.promote(&id, &hash).expect("promote again");
        assert!(blobs.contains(&hash));
        assert_eq!(
            fs::read(blobs.path_of(&hash)).expect("read"),
            b"hello world"
        );
        assert!(matches!(
            blobs.write_chunk(&AttachmentId::from_uuid(uuid::Uuid::from_u128(8)), 5, b"x"),
            Err(BlobError::Short { held: 0, offset: 5 })
        ));
    }
}
