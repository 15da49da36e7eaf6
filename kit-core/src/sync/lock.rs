//! One sync at a time per kit folder, across processes: an exclusive OS lock on
//! `sync.lock` (flock on Unix, LockFileEx on Windows). The OS drops it when the
//! process dies, so a killed sync never leaves a stale lock behind.

use std::fs::{File, TryLockError};

use crate::home::Home;
use crate::KitError;

/// Held while a sync runs; unlocked on drop.
#[derive(Debug)]
pub struct SyncLock {
    _file: File,
}

impl SyncLock {
    /// Takes the lock of `home`, or fails at once if another sync holds it.
    ///
    /// # Errors
    /// [`KitError::SyncInProgress`]; I/O errors.
    pub fn acquire(home: &Home) -> Result<Self, KitError> {
        let path = home.root().join("sync.lock");
        let file = crate::home::open_private(&path)
            .map_err(KitError::io(format!("opening {}", path.display())))?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(TryLockError::WouldBlock) => Err(KitError::SyncInProgress),
            Err(TryLockError::Error(e)) => {
                Err(KitError::io(format!("locking {}", path.display()))(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_folder_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let home = Home::new(dir.path());
        let first = SyncLock::acquire(&home).expect("first lock");
        assert!(matches!(
            SyncLock::acquire(&home),
            Err(KitError::SyncInProgress)
        ));
        drop(first);
        SyncLock::acquire(&home).expect("free again");
    }
}
