//! Importing attachments into a draft: streamed through the attachment cipher straight
//! into the kit folder, so only ciphertext ever touches the disk, hashed on the way and
//! refused past the service's size limit without buffering the whole file.

use std::io::{Read, Write as _};

use rand_core::OsRng;
use rusqlite::{params, OptionalExtension};
use sync_protocol::attachment::{AttachmentEncryptor, AttachmentSecret};
use sync_protocol::ids::{AttachmentId, MediaType, Sha256Hash};
use sync_protocol::record::AttachmentEntry;
use uuid::Uuid;

use super::{parse_purpose, purpose_text, AttachmentInfo, StoredAttachment};
use crate::home::sync_dir;
use crate::kit::{now_text, Session};
use crate::KitError;

/// Read size while importing an attachment.
const IMPORT_CHUNK: usize = 64 * 1024;

impl Session {
    /// Imports a file into a draft: streamed through the attachment cipher into the
    /// kit folder (only ciphertext ever touches the disk), hashed on the way, refused
    /// past the service's size limit without buffering the whole file.
    ///
    /// # Errors
    /// [`KitError::AttachmentRefused`] for an unknown attachment kind, a media type the
    /// service does not accept, or a file over the limit; I/O errors (disk full).
    pub fn attach(
        &mut self,
        draft_id: &str,
        spec_id: &str,
        media_type: &str,
        reader: impl Read,
    ) -> Result<AttachmentInfo, KitError> {
        self.attach_named(draft_id, spec_id, media_type, None, reader)
    }

    /// [`Session::attach`] for a file the clerk picked: its name, sanitized
    /// ([`sync_protocol::file_name::sanitize`]), is kept with the draft and sealed into
    /// the case, so the reviewer sees it and nothing outside the seal does.
    ///
    /// # Errors
    /// As [`Session::attach`].
    pub fn attach_named(
        &mut self,
        draft_id: &str,
        spec_id: &str,
        media_type: &str,
        file_name: Option<&str>,
        mut reader: impl Read,
    ) -> Result<AttachmentInfo, KitError> {
        let file_name = file_name.and_then(sync_protocol::file_name::sanitize);
        let (service_id, kind): (String, String) = self
            .conn
            .query_row(
                "SELECT service_id, kind FROM drafts WHERE id = ?1",
                [draft_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| KitError::NotFound(format!("draft {draft_id}")))?;
        let spec = self
            .catalog()?
            .service(&service_id)?
            .attachments
            .iter()
            .find(|a| a.id == spec_id)
            .cloned()
            .ok_or_else(|| {
                KitError::AttachmentRefused(format!(
                    "{service_id} has no attachment kind {spec_id}"
                ))
            })?;
        if kind == "supplement" && spec.purpose == sync_protocol::record::Purpose::Form {
            return Err(KitError::AttachmentRefused(format!(
                "an answer to a Rückfrage carries documents, not a new {spec_id}"
            )));
        }
        let media = MediaType::parse(media_type)?;
        if !spec.media_types.contains(&media) {
            return Err(KitError::AttachmentRefused(format!(
                "{media_type} is not accepted for {spec_id} (accepted: {})",
                spec.media_types
                    .iter()
                    .map(MediaType::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        // A signed printout, or the scan of a paper one, shows the data as it is now.
        let printed_data_sha256 = (spec.purpose == sync_protocol::record::Purpose::Form)
            .then(|| self.draft_data(draft_id).map(|d| super::data_digest(&d)))
            .transpose()?;
        let id = AttachmentId::from_uuid(Uuid::new_v4());
        let secret = AttachmentSecret::generate(&mut OsRng);
        let final_path = self.home.attachment(&id.to_string());
        let tmp_path = final_path.with_extension("part");
        let ctx = || format!("importing into {}", tmp_path.display());
        let result = (|| {
            let mut file = crate::home::create_private(&tmp_path).map_err(KitError::io(ctx()))?;
            let mut encryptor = AttachmentEncryptor::new(&secret, id);
            let mut buf = vec![0u8; IMPORT_CHUNK];
            let mut total: u64 = 0;
            loop {
                let n = reader
                    .read(&mut buf)
                    .map_err(KitError::io("reading the file to attach"))?;
                if n == 0 {
                    break;
                }
                total += n as u64;
                if total > spec.max_bytes {
                    return Err(KitError::AttachmentRefused(format!(
                        "{spec_id} is larger than {} MB",
                        spec.max_bytes / 1_000_000
                    )));
                }
                file.write_all(&encryptor.update(&buf[..n])?)
                    .map_err(KitError::io(ctx()))?;
            }
            let (tail, digests) = encryptor.finish()?;
            file.write_all(&tail).map_err(KitError::io(ctx()))?;
            file.sync_all().map_err(KitError::io(ctx()))?;
            Ok(digests)
        })();
        let digests = match result {
            Ok(d) => d,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp_path);
                return Err(e);
            }
        };
        std::fs::rename(&tmp_path, &final_path).map_err(KitError::io(ctx()))?;
        sync_dir(&self.home.attachments())?;
        let wire = serde_json::to_string(&secret.to_wire(id))
            .map_err(|e| KitError::Corrupted(e.to_string()))?;
        let inserted = self.conn.execute(
            "INSERT INTO draft_attachments (id, draft_id, spec_id, purpose, media_type, size, sha256,
                 ciphertext_size, ciphertext_sha256, secret, created_at, file_name,
                 printed_data_sha256)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                id.to_string(),
                draft_id,
                spec_id,
                purpose_text(spec.purpose),
                media_type,
                digests.size,
                digests.sha256.to_hex(),
                digests.ciphertext_size,
                digests.ciphertext_sha256.to_hex(),
                wire,
                now_text(),
                file_name,
                printed_data_sha256
            ],
        );
        if let Err(e) = inserted {
            let _ = std::fs::remove_file(&final_path);
            return Err(e.into());
        }
        Ok(AttachmentInfo {
            id: id.to_string(),
            spec_id: spec_id.to_owned(),
            media_type: media_type.to_owned(),
            size: digests.size,
            sha256: digests.sha256.to_hex(),
            file_name,
        })
    }

    /// Removes an attachment from a draft.
    ///
    /// # Errors
    /// [`KitError::NotFound`].
    pub fn detach(&mut self, draft_id: &str, attachment_id: &str) -> Result<(), KitError> {
        let n = self.conn.execute(
            "DELETE FROM draft_attachments WHERE id = ?1 AND draft_id = ?2",
            params![attachment_id, draft_id],
        )?;
        if n == 0 {
            return Err(KitError::NotFound(format!("attachment {attachment_id}")));
        }
        let _ = std::fs::remove_file(self.home.attachment(attachment_id));
        Ok(())
    }

    pub(super) fn stored_attachments(
        &self,
        draft_id: &str,
    ) -> Result<Vec<StoredAttachment>, KitError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, spec_id, purpose, media_type, size, sha256, ciphertext_size, ciphertext_sha256, secret,
                    file_name, printed_data_sha256
             FROM draft_attachments WHERE draft_id = ?1 ORDER BY created_at, id",
        )?;
        let rows = stmt.query_map([draft_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, u64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, u64>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, Option<String>>(9)?,
                r.get::<_, Option<String>>(10)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, spec_id, purpose, media, size, sha, csize, csha, secret, file_name, printed) =
                row?;
            out.push(StoredAttachment {
                entry: AttachmentEntry {
                    id: id.parse()?,
                    purpose: parse_purpose(&purpose)?,
                    media_type: MediaType::parse(&media)?,
                    size,
                    sha256: Sha256Hash::try_from(sha)?,
                    ciphertext_size: csize,
                    ciphertext_sha256: Sha256Hash::try_from(csha)?,
                },
                spec_id,
                file_name,
                printed_data_sha256: printed,
                key: serde_json::from_str(&secret)
                    .map_err(|e| KitError::Corrupted(e.to_string()))?,
            });
        }
        Ok(out)
    }
}
