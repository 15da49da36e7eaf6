//! The encrypted local store: one SQLCipher database opened with the raw 256-bit key
//! from the key slots. Every connection gets the same settings — WAL, `synchronous =
//! FULL` (a finalized application is on disk when finalize returns), foreign keys,
//! `secure_delete` (deleted drafts are overwritten, not just unlinked) — and the schema
//! is brought to the current version by [`migrations`].

pub mod migrations;

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use zeroize::Zeroizing;

use crate::KitError;

/// Opens an existing store, or creates it when `create` is set.
///
/// # Errors
/// [`KitError::Corrupted`] when the file is not a database this key opens (a damaged
/// file or a wrong key look the same to SQLCipher; the file is never changed);
/// [`KitError::NotInitialized`] when it does not exist and `create` is false.
pub fn open(path: &Path, key: &[u8; 32], create: bool) -> Result<Connection, KitError> {
    if !create && !path.exists() {
        return Err(KitError::NotInitialized(path.display().to_string()));
    }
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    let hex_key = Zeroizing::new(hex_lower(key));
    // A raw key (x'…') skips SQLCipher's own KDF: the key is already random.
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex_key.as_str()))?;
    // The first read decides whether key and file match.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| first_read_error(path, e))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA busy_timeout = 10000;",
    )?;
    Ok(conn)
}

/// Tells a store that cannot be opened (a read-only medium, missing permissions) from
/// one that is damaged: only the latter may say "corrupted".
fn first_read_error(path: &Path, e: rusqlite::Error) -> KitError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly) => {
            let dir = path.parent().unwrap_or(Path::new("."));
            let probe = dir.join(".write-probe");
            match std::fs::File::create(&probe) {
                Ok(_) => {
                    let _ = std::fs::remove_file(&probe);
                    KitError::Io {
                        context: format!("opening {}", path.display()),
                        source: std::io::Error::other(e.to_string()),
                    }
                }
                Err(io) => KitError::io(format!("opening {}", path.display()))(io),
            }
        }
        _ => KitError::Corrupted(e.to_string()),
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}
