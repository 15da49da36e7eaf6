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
/// content, never a mix: write a sibling with a name no other writer uses, fsync it,
/// rename it over, fsync the folder. The file is readable by its owner only.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), KitError> {
    let mut unique = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut unique);
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let suffix: String = unique.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = path.with_file_name(format!(".{name}.{}.{suffix}.tmp", std::process::id()));
    let ctx = || format!("writing {}", path.display());
    let written = (|| {
        let mut f = create_private(&tmp).map_err(KitError::io(ctx()))?;
        f.write_all(bytes).map_err(KitError::io(ctx()))?;
        f.sync_all().map_err(KitError::io(ctx()))?;
        drop(f);
        fs::rename(&tmp, path).map_err(KitError::io(ctx()))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Creates (or truncates) a file that only its owner can read and write (0600 on
/// Unix; on Windows the folder's ACL, which is the user's profile, applies).
pub(crate) fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Opens (creating if needed, never truncating) a private file, for locks.
pub(crate) fn open_private(path: &Path) -> std::io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Creates `dir` and any missing parents as folders only their owner can enter (0700).
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Files and folders in the kit folder that others than the owner may read, write or
/// enter (Unix permission bits; always empty elsewhere). The folder itself included.
///
/// # Errors
/// I/O errors while walking the folder.
pub fn exposed_paths(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut exposed = Vec::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mut todo = vec![root.to_path_buf()];
        while let Some(path) = todo.pop() {
            let meta = fs::symlink_metadata(&path)?;
            if meta.file_type().is_symlink() {
                continue; // its own bits mean nothing; the target is checked where it lives
            }
            if meta.permissions().mode() & 0o077 != 0 {
                exposed.push(path.clone());
            }
            if meta.is_dir() {
                for entry in fs::read_dir(&path)? {
                    todo.push(entry?.path());
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = root;
    exposed.sort();
    Ok(exposed)
}

/// Takes away every permission of others than the owner in the kit folder: folders
/// 0700, files 0600. How IT brings a kit made by an older Fieldkit (0755/0644) to the
/// permissions this one requires.
///
/// # Errors
/// I/O errors.
pub fn make_private(root: &Path) -> Result<Vec<PathBuf>, KitError> {
    let changed =
        exposed_paths(root).map_err(KitError::io(format!("reading {}", root.display())))?;
    #[cfg(unix)]
    for path in &changed {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = fs::symlink_metadata(path).map_err(KitError::io(path.display().to_string()))?;
        let mode = if meta.is_dir() { 0o700 } else { 0o600 };
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(KitError::io(format!("changing {}", path.display())))?;
    }
    Ok(changed)
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
