//! The earlier file store kept an upload in progress as one file,
//! `uploads/<attachment id>.part`. Opening the filesystem store moves each such file to
//! `uploads/<attachment id>/00000000000000000000`: one part starting at 0. It may hold
//! bytes past the database's offset (a request that failed after writing); the part
//! rules ([`super::parts`]) read it only up to the next chunk's start, so the upload
//! resumes where the database says. Completed attachments were already stored under
//! `attachments/` in the layout the object store uses, and are read as they are.

use std::fs;
use std::io;
use std::path::Path;

use super::parts;

/// Moves every `uploads/*.part` file into the part layout; fsyncs the folders.
pub(super) fn move_part_files(uploads: &Path) -> io::Result<()> {
    let mut moved = false;
    for entry in fs::read_dir(uploads)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".part")) else {
            continue;
        };
        if id.parse::<sync_protocol::ids::AttachmentId>().is_err() || !entry.file_type()?.is_file()
        {
            continue;
        }
        let dir = uploads.join(id);
        fs::create_dir_all(&dir)?;
        fs::rename(entry.path(), dir.join(parts::name(0)))?;
        sync_dir(&dir)?;
        moved = true;
        tracing::info!(
            attachment_id = id,
            "moved an upload in progress into the part layout"
        );
    }
    if moved {
        sync_dir(uploads)?;
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    // Makes the new directory entries durable; not supported on every platform.
    match fs::File::open(dir).and_then(|d| d.sync_all()) {
        Err(_) if cfg!(windows) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_file_of_the_earlier_store_becomes_the_first_part() {
        let dir = tempfile::tempdir().expect("dir");
        let id = uuid::Uuid::from_u128(7);
        fs::write(dir.path().join(format!("{id}.part")), b"hello").expect("write");
        fs::write(dir.path().join("notes.part"), b"not an upload").expect("write");
        move_part_files(dir.path()).expect("moved");
        assert_eq!(
            fs::read(dir.path().join(id.to_string()).join(parts::name(0))).expect("read"),
            b"hello"
        );
        assert!(dir.path().join("notes.part").exists(), "left alone");
        move_part_files(dir.path()).expect("idempotent");
    }
}
