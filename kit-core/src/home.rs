//! The kit's folder (`--home`): where the key slots, the encrypted database and the
//! encrypted attachment files live, and the one way files in it are replaced.

use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::KitError;

/// Paths inside a kit folder.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// A kit folder at `root` (which may not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The OS data folder for Fieldkit, e.g. `~/.local/share/fieldkit` on Linux and
    /// `%APPDATA%\fieldkit` on Windows.
    pub fn default_root() -> Option<PathBuf> {
        dirs::data_dir().map(|d| d.join("fieldkit"))
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The wrapped database keys (see `keyslots`).
    pub fn keyslots(&self) -> PathBuf {
        self.root.join("keyslots.json")
    }

    /// The SQLCipher database.
    pub fn database(&self) -> PathBuf {
        self.root.join("kit.db")
    }

    /// Encrypted attachment files, one per attachment id.
    pub fn attachments(&self) -> PathBuf {
        self.root.join("attachments")
    }

    /// The encrypted file of one attachment.
    pub fn attachment(&self, id: &str) -> PathBuf {
        self.attachments().join(format!("{id}.fka"))
    }
}

/// Replaces `path` with `bytes` so that a crash leaves either the old or the new
/// content, never a mix: write a sibling, fsync it, rename it over, fsync the folder.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), KitError> {
    let tmp = path.with_extension("tmp");
    let ctx = || format!("writing {}", path.display());
    let mut f = File::create(&tmp).map_err(KitError::io(ctx()))?;
    f.write_all(bytes).map_err(KitError::io(ctx()))?;
    f.sync_all().map_err(KitError::io(ctx()))?;
    drop(f);
    fs::rename(&tmp, path).map_err(KitError::io(ctx()))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Makes a rename or a new file in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), KitError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(KitError::io(format!("syncing {}", dir.display())))?;
    }
    #[cfg(not(unix))]
    let _ = dir; // NTFS makes renames durable with the file's own flush.
    Ok(())
}
