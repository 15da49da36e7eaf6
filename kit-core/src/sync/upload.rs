//! The upload phase: tus 1.0.0 (§6.4) for every attachment of a delivered record.
//! Resumes at the backend's offset, sends chunks of `chunk_size` with
//! `Upload-Checksum`, recovers from `offset-mismatch` with `HEAD`, and restarts once
//! from zero after `attachment-hash-mismatch`. Only a completed upload marks the
//! attachment uploaded.

use std::collections::HashMap;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::time::Duration;

use sha2::{Digest as _, Sha256};
use sync_protocol::api::ProblemCode;

use super::plan::{next_chunk, upload_starts, UploadStart};
use super::run::{Failure, Request, Run};
use super::{Phase, SyncEvent};
use crate::net::RawResponse;
use crate::outbox::PendingUpload;
use crate::KitError;

const TUS: (&str, &str) = ("tus-resumable", "1.0.0");

/// The smallest chunk the sizing shrinks to.
pub(crate) const MIN_CHUNK: u64 = 64 * 1024;

/// Clean chunks in a row before the chunk size doubles again.
const CLEAN_CHUNKS_TO_GROW: u32 = 16;

/// Chunk sizing for one run: the backend keeps only whole, checksummed chunks, so a cut
/// connection costs the part of the chunk already sent. When a chunk needed a retry the
/// size halves (down to [`MIN_CHUNK`]); after a run of clean chunks it doubles back up
/// to the configured size — on a good link chunks stay large (fewer requests), on a
/// flaky one little is resent.
#[derive(Debug, Clone)]
pub(crate) struct ChunkSizing {
    max: u64,
    size: u64,
    clean: u32,
}

impl ChunkSizing {
    pub(crate) fn new(max: u64) -> Self {
        let max = max.max(MIN_CHUNK.min(max.max(1)));
        Self {
            max,
            size: max,
            clean: 0,
        }
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    pub(crate) fn after_chunk(&mut self, needed_retry: bool) {
        if needed_retry {
            self.size = (self.size / 2).max(MIN_CHUNK).min(self.max);
            self.clean = 0;
        } else {
            self.clean += 1;
            if self.clean >= CLEAN_CHUNKS_TO_GROW {
                self.size = (self.size * 2).min(self.max);
                self.clean = 0;
            }
        }
    }
}

/// Answers in a row that leave an upload's offset where it was (offset disputes, a
/// proxy that loses `PATCH`es) before the upload is set aside for this run.
const MAX_STALLED_STEPS: u32 = 8;

/// What the backend said about an upload after one step.
enum Step {
    /// It holds this many bytes.
    At(u64),
    /// It holds all of it (or says the upload is complete).
    Complete,
    /// It does not know the attachment as part of a delivered record.
    Unknown(String),
    /// It discarded the upload: the whole file did not hash as the manifest says.
    HashMismatch,
}

fn offset_of(response: &RawResponse) -> Result<u64, Failure> {
    response
        .upload_offset
        .as_deref()
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| Failure::Retry {
            reason: format!(
                "HTTP {} without Upload-Offset: not a Fieldkit answer (captive portal or proxy?)",
                response.status
            ),
            at_least: None,
        })
}

fn problem_code(response: &RawResponse) -> Option<ProblemCode> {
    response.problem().map(|p| p.code)
}

impl Run<'_> {
    pub(crate) fn upload(&mut self, server_offsets: &HashMap<String, u64>) -> Result<(), KitError> {
        self.emit(SyncEvent::Phase {
            phase: Phase::Upload,
        });
        let uploads = self.session.pending_uploads(usize::MAX >> 1)?;
        let starts: Vec<(String, UploadStart)> = upload_starts(
            uploads.iter().map(|u| u.attachment_id.as_str()),
            server_offsets,
        )
        .into_iter()
        .map(|(id, start)| (id.to_owned(), start))
        .collect();
        let total: u64 = uploads
            .iter()
            .zip(&starts)
            .map(|(u, (_, start))| match start {
                UploadStart::Resume(offset) => u.ciphertext_size.saturating_sub(*offset),
                UploadStart::Create => u.ciphertext_size,
            })
            .sum();
        let mut sent = 0u64;
        self.emit(SyncEvent::Bytes { sent, total });
        for (upload, (_, start)) in uploads.iter().zip(starts) {
            if self.cancel.is_cancelled() {
                return Err(KitError::Cancelled);
            }
            match self.upload_one(upload, start, &mut sent, total) {
                Ok(()) => {}
                // One attachment's trouble (its file unreadable, an upload that makes no
                // progress) must not hold back the others or the changes feed.
                Err(e @ (KitError::Io { .. } | KitError::Conflict(_) | KitError::NotFound(_))) => {
                    self.emit(SyncEvent::UploadProblem {
                        attachment_id: upload.attachment_id.clone(),
                        detail: e.to_string(),
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn upload_one(
        &mut self,
        upload: &PendingUpload,
        start: UploadStart,
        sent: &mut u64,
        total: u64,
    ) -> Result<(), KitError> {
        let length = upload.ciphertext_size;
        let mut restarted = false;
        let mut step = match start {
            UploadStart::Resume(offset) => Step::At(offset),
            UploadStart::Create => self.create(upload)?,
        };
        let mut file = std::fs::File::open(&upload.path).map_err(KitError::io(format!(
            "opening attachment {}",
            upload.attachment_id
        )))?;
        let mut best = None;
        let mut stalled = 0u32;
        loop {
            if let Step::At(offset) = step {
                if best.is_none_or(|b| offset > b) {
                    best = Some(offset);
                    stalled = 0;
                } else {
                    stalled += 1;
                }
            }
            if stalled >= MAX_STALLED_STEPS {
                return Err(KitError::Conflict(format!(
                    "the upload of attachment {} makes no progress; it is retried at the next sync",
                    upload.attachment_id
                )));
            }
            let offset = match step {
                Step::Complete => break,
                Step::Unknown(detail) => {
                    self.emit(SyncEvent::UploadProblem {
                        attachment_id: upload.attachment_id.clone(),
                        detail,
                    });
                    return Ok(());
                }
                Step::HashMismatch if restarted => {
                    self.emit(SyncEvent::UploadProblem {
                        attachment_id: upload.attachment_id.clone(),
                        detail: "the backend twice found the uploaded file different from the signed manifest: the stored file is damaged, contact IT".into(),
                    });
                    return Ok(());
                }
                Step::HashMismatch => {
                    restarted = true;
                    0
                }
                Step::At(offset) => offset,
            };
            let Some((from, len)) = next_chunk(offset, length, self.chunk.size()) else {
                // The backend holds every byte but did not say "complete": ask it.
                step = self.create(upload)?;
                if matches!(step, Step::At(o) if o >= length) {
                    return Err(KitError::Conflict(format!(
                        "the backend holds all of attachment {} but does not complete it",
                        upload.attachment_id
                    )));
                }
                continue;
            };
            let mut chunk = vec![0u8; len as usize];
            file.seek(SeekFrom::Start(from))
                .and_then(|_| file.read_exact(&mut chunk))
                .map_err(KitError::io(format!(
                    "reading attachment {}",
                    upload.attachment_id
                )))?;
            let retries_before = self.report.retries;
            step = self.patch(upload, from, chunk)?;
            self.chunk.after_chunk(self.report.retries > retries_before);
            let acknowledged = match step {
                Step::At(at) => at.saturating_sub(from).min(len),
                Step::Complete => len,
                Step::Unknown(_) | Step::HashMismatch => 0,
            };
            if acknowledged > 0 {
                *sent += acknowledged;
                self.report.bytes_uploaded += acknowledged;
                self.emit(SyncEvent::Bytes {
                    sent: (*sent).min(total),
                    total,
                });
            }
        }
        self.session.mark_uploaded(&upload.attachment_id)?;
        self.report.attachments_uploaded += 1;
        Ok(())
    }

    /// `POST /v1/uploads`: creates the upload or, if it exists, learns its offset.
    fn create(&mut self, upload: &PendingUpload) -> Result<Step, KitError> {
        let b64 = sync_protocol::b64::encode;
        let request = Request {
            method: reqwest::Method::POST,
            path: "/v1/uploads".into(),
            headers: vec![
                (TUS.0, TUS.1.to_owned()),
                ("upload-length", upload.ciphertext_size.to_string()),
                (
                    "upload-metadata",
                    format!(
                        "record_id {},attachment_id {}",
                        b64(upload.record_id.as_bytes()),
                        b64(upload.attachment_id.as_bytes())
                    ),
                ),
            ],
            body: Vec::new(),
            timeout: self.options.request_timeout,
        };
        let length = upload.ciphertext_size;
        self.call(&request, |_, response| match response.status {
            201 => {
                let offset = offset_of(response)?;
                Ok(if offset >= length {
                    Step::Complete
                } else {
                    Step::At(offset)
                })
            }
            404 => Ok(Step::Unknown(format!(
                "the backend does not know this attachment as part of a delivered record ({})",
                response
                    .problem()
                    .map_or_else(|| "HTTP 404".into(), |p| p.detail)
            ))),
            _ => Err(Failure::of(response)),
        })
    }

    /// `HEAD /v1/uploads/{id}`: the backend's offset (or 404: create it).
    fn head(&mut self, upload: &PendingUpload) -> Result<Step, KitError> {
        let mut request = Request::get(
            format!("/v1/uploads/{}", upload.attachment_id),
            self.options.request_timeout,
        );
        request.method = reqwest::Method::HEAD;
        request.headers.push((TUS.0, TUS.1.to_owned()));
        let length = upload.ciphertext_size;
        let found = self.call(&request, |_, response| match response.status {
            200 => {
                let offset = offset_of(response)?;
                Ok(Some(if offset >= length {
                    Step::Complete
                } else {
                    Step::At(offset)
                }))
            }
            // HEAD answers have no body: 404 is "create it" (§6.4).
            404 => Ok(None),
            _ => Err(Failure::of(response)),
        })?;
        match found {
            Some(step) => Ok(step),
            None => self.create(upload),
        }
    }

    /// `PATCH /v1/uploads/{id}`: one chunk at `offset`.
    fn patch(
        &mut self,
        upload: &PendingUpload,
        offset: u64,
        chunk: Vec<u8>,
    ) -> Result<Step, KitError> {
        let checksum = format!(
            "sha256 {}",
            sync_protocol::b64::encode(Sha256::digest(&chunk))
        );
        let timeout = self.options.request_timeout
            + Duration::from_secs(chunk.len() as u64 / self.options.min_upload_rate.max(1));
        let length = upload.ciphertext_size;
        let request = Request {
            method: reqwest::Method::PATCH,
            path: format!("/v1/uploads/{}", upload.attachment_id),
            headers: vec![
                (TUS.0, TUS.1.to_owned()),
                ("content-type", "application/offset+octet-stream".to_owned()),
                ("upload-offset", offset.to_string()),
                ("upload-checksum", checksum),
            ],
            body: chunk,
            timeout,
        };
        // None: the offsets disagree (a lost answer, a parallel sync): ask with HEAD.
        let answer = self.call(&request, |_, response| {
            match (response.status, problem_code(response)) {
                (204, _) => {
                    let at = offset_of(response)?;
                    Ok(Some(if at >= length {
                        Step::Complete
                    } else {
                        Step::At(at)
                    }))
                }
                (409, Some(ProblemCode::OffsetMismatch)) => Ok(None),
                (409, Some(ProblemCode::Conflict)) => Ok(Some(Step::Complete)),
                (422, Some(ProblemCode::AttachmentHashMismatch)) => Ok(Some(Step::HashMismatch)),
                (404, _) => Ok(None),
                _ => Err(Failure::of(response)),
            }
        })?;
        match answer {
            Some(step) => Ok(step),
            None => self.head(upload),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_shrink_on_trouble_and_grow_back_on_a_clean_link() {
        let mut sizing = ChunkSizing::new(1024 * 1024);
        assert_eq!(sizing.size(), 1024 * 1024);
        sizing.after_chunk(true);
        assert_eq!(sizing.size(), 512 * 1024);
        for _ in 0..10 {
            sizing.after_chunk(true);
        }
        assert_eq!(sizing.size(), MIN_CHUNK, "never below the minimum");
        for _ in 0..CLEAN_CHUNKS_TO_GROW {
            sizing.after_chunk(false);
        }
        assert_eq!(sizing.size(), 2 * MIN_CHUNK);
        for _ in 0..100 {
            sizing.after_chunk(false);
        }
        assert_eq!(
            sizing.size(),
            1024 * 1024,
            "never above the configured size"
        );
    }

    #[test]
    fn a_configured_size_below_the_minimum_is_kept() {
        let mut sizing = ChunkSizing::new(1024);
        sizing.after_chunk(true);
        assert_eq!(sizing.size(), 1024);
    }
}
