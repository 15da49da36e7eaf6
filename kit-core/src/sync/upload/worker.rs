//! One upload worker: takes attachments off the shared queue and uploads each with tus
//! 1.0.0 (§6.4) — the creation carries the first chunk (`creation-with-upload`), so a
//! small file is one request — resumes at the backend's offset, sends the rest in
//! chunks with `Upload-Checksum`, recovers from `offset-mismatch` with `HEAD`, and
//! restarts once from zero after `attachment-hash-mismatch`. The worker signs its own
//! requests and reports to the run's thread through [`Note`]s; only the run's thread
//! touches the kit's store.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::sync::mpsc::Sender;
use std::sync::Mutex;
use std::time::Duration;

use sha2::{Digest as _, Sha256};
use sync_protocol::api::ProblemCode;

use super::sizing::ChunkSizing;
use crate::net::{RawResponse, RequestSigner};
use crate::outbox::PendingUpload;
use crate::sync::plan::{next_chunk, UploadStart};
use crate::sync::run::{CallEvents, Caller, Failure, Request};
use crate::sync::SyncEvent;
use crate::KitError;

const TUS: (&str, &str) = ("tus-resumable", "1.0.0");

/// Answers in a row that leave an upload's offset where it was (offset disputes, a
/// proxy that loses `PATCH`es) before the upload is set aside for this run.
const MAX_STALLED_STEPS: u32 = 8;

/// What a worker tells the run's thread.
pub(super) enum Note {
    /// A request is retried (the run counts and shows it).
    Retrying(SyncEvent),
    /// The backend's clock, learnt from a `clock-skew` refusal (the run stores it).
    ServerTime(chrono::DateTime<chrono::Utc>),
    /// The backend acknowledged this many more bytes.
    Acknowledged(u64),
    /// The attachment is complete at the backend: mark it uploaded.
    Uploaded(String),
    /// The attachment is set aside for this run (retried at the next).
    Problem {
        attachment_id: String,
        detail: String,
    },
    /// The phase cannot go on (cancelled, gave up, a permanent refusal).
    Failed(KitError),
}

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

/// How one attachment's upload ended, when it did not fail.
enum Outcome {
    Uploaded,
    SetAside,
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

fn step_at(offset: u64, length: u64) -> Step {
    if offset >= length {
        Step::Complete
    } else {
        Step::At(offset)
    }
}

fn problem_code(response: &RawResponse) -> Option<ProblemCode> {
    response.problem().map(|p| p.code)
}

fn checksum(chunk: &[u8]) -> String {
    format!(
        "sha256 {}",
        sync_protocol::b64::encode(Sha256::digest(chunk))
    )
}

/// The worker's side of the retry loop: everything goes to the run's thread as notes.
struct WorkerEvents {
    notes: Sender<Note>,
    signer: RequestSigner,
    retries: u32,
}

impl CallEvents for WorkerEvents {
    fn retrying(&mut self, event: SyncEvent) {
        self.retries += 1;
        let _ = self.notes.send(Note::Retrying(event));
    }

    fn server_time(&mut self, server_time: chrono::DateTime<chrono::Utc>) -> Result<(), KitError> {
        // Corrects every worker's signatures at once (the signers share the offset).
        self.signer
            .set_skew_secs((chrono::Utc::now() - server_time).num_seconds());
        let _ = self.notes.send(Note::ServerTime(server_time));
        Ok(())
    }
}

pub(super) struct Worker {
    caller: Caller,
    events: WorkerEvents,
    chunk: ChunkSizing,
    /// The backend refused a creation with a body (413): an older backend without
    /// `creation-with-upload`; create empty from then on.
    plain_creation: bool,
}

impl Worker {
    pub(super) fn new(caller: Caller, notes: Sender<Note>) -> Self {
        let chunk = ChunkSizing::new(caller.options.chunk_size as u64);
        let signer = caller.signer.clone();
        Self {
            caller,
            events: WorkerEvents {
                notes,
                signer,
                retries: 0,
            },
            chunk,
            plain_creation: false,
        }
    }

    /// Uploads attachments off `queue` until it is empty, or until the phase cannot
    /// go on.
    pub(super) fn work(mut self, queue: &Mutex<VecDeque<(PendingUpload, UploadStart)>>) {
        loop {
            let next = queue.lock().ok().and_then(|mut q| q.pop_front());
            let Some((upload, start)) = next else {
                return;
            };
            let note = match self.upload_one(&upload, start) {
                Ok(Outcome::Uploaded) => Note::Uploaded(upload.attachment_id),
                Ok(Outcome::SetAside) => continue,
                // One attachment's trouble (its file unreadable, an upload that makes
                // no progress) must not hold back the others or the changes feed.
                Err(e @ (KitError::Io { .. } | KitError::Conflict(_) | KitError::NotFound(_))) => {
                    Note::Problem {
                        attachment_id: upload.attachment_id,
                        detail: e.to_string(),
                    }
                }
                Err(e) => {
                    let _ = self.events.notes.send(Note::Failed(e));
                    return;
                }
            };
            if self.events.notes.send(note).is_err() {
                return;
            }
        }
    }

    fn note(&self, note: Note) {
        let _ = self.events.notes.send(note);
    }

    fn call<T>(
        &mut self,
        request: &Request,
        interpret: impl FnMut(&RawResponse) -> Result<T, Failure>,
    ) -> Result<T, KitError> {
        self.caller.call(request, &mut self.events, interpret)
    }

    fn upload_one(
        &mut self,
        upload: &PendingUpload,
        start: UploadStart,
    ) -> Result<Outcome, KitError> {
        let length = upload.ciphertext_size;
        let mut file = File::open(&upload.path).map_err(KitError::io(format!(
            "opening attachment {}",
            upload.attachment_id
        )))?;
        let mut restarted = false;
        let mut step = match start {
            UploadStart::Resume(offset) => Step::At(offset),
            UploadStart::Create => self.create_with_first_chunk(upload, &mut file)?,
        };
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
                Step::Complete => return Ok(Outcome::Uploaded),
                Step::Unknown(detail) => {
                    self.note(Note::Problem {
                        attachment_id: upload.attachment_id.clone(),
                        detail,
                    });
                    return Ok(Outcome::SetAside);
                }
                Step::HashMismatch if restarted => {
                    self.note(Note::Problem {
                        attachment_id: upload.attachment_id.clone(),
                        detail: "the backend twice found the uploaded file different from the signed manifest: the stored file is damaged, contact IT".into(),
                    });
                    return Ok(Outcome::SetAside);
                }
                Step::HashMismatch => {
                    restarted = true;
                    0
                }
                Step::At(offset) => offset,
            };
            let Some((from, len)) = next_chunk(offset, length, self.chunk.size()) else {
                // The backend holds every byte but did not say "complete": ask it.
                step = self.create(upload, None)?;
                if matches!(step, Step::At(o) if o >= length) {
                    return Err(KitError::Conflict(format!(
                        "the backend holds all of attachment {} but does not complete it",
                        upload.attachment_id
                    )));
                }
                continue;
            };
            let chunk = read_chunk(&mut file, upload, from, len)?;
            let retries_before = self.events.retries;
            step = self.patch(upload, from, chunk)?;
            self.chunk.after_chunk(self.events.retries > retries_before);
            self.acknowledge(&step, from, len);
        }
    }

    /// Reports the bytes of `[from, from + len)` the backend now holds.
    fn acknowledge(&self, step: &Step, from: u64, len: u64) {
        let acknowledged = match step {
            Step::At(at) => at.saturating_sub(from).min(len),
            Step::Complete => len,
            Step::Unknown(_) | Step::HashMismatch => 0,
        };
        if acknowledged > 0 {
            self.note(Note::Acknowledged(acknowledged));
        }
    }

    /// The creation with the file's first chunk in its body: a file up to the chunk
    /// size is uploaded by this one request.
    fn create_with_first_chunk(
        &mut self,
        upload: &PendingUpload,
        file: &mut File,
    ) -> Result<Step, KitError> {
        let Some((from, len)) = next_chunk(0, upload.ciphertext_size, self.chunk.size())
            .filter(|_| !self.plain_creation)
        else {
            return self.create(upload, None);
        };
        let chunk = read_chunk(file, upload, from, len)?;
        let step = self.create(upload, Some(chunk))?;
        self.acknowledge(&step, from, len);
        Ok(step)
    }

    /// `POST /v1/uploads`: creates the upload or, if it exists, learns its offset. With
    /// `first_chunk`, the bytes from offset 0 travel along (`creation-with-upload`); the
    /// backend stores them only when it held nothing yet, and its `Upload-Offset` says
    /// what it holds either way.
    fn create(
        &mut self,
        upload: &PendingUpload,
        first_chunk: Option<Vec<u8>>,
    ) -> Result<Step, KitError> {
        let b64 = sync_protocol::b64::encode;
        let mut headers = vec![
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
        ];
        let with_body = first_chunk.is_some();
        let body = first_chunk.unwrap_or_default();
        if with_body {
            headers.push(("content-type", "application/offset+octet-stream".to_owned()));
            headers.push(("upload-checksum", checksum(&body)));
        }
        let request = Request {
            method: reqwest::Method::POST,
            path: "/v1/uploads".into(),
            headers,
            timeout: self.chunk_timeout(body.len()),
            body,
        };
        let length = upload.ciphertext_size;
        // None: the backend refused the body as too large (no creation-with-upload).
        let answer = self.call(&request, |response| {
            match (response.status, problem_code(response)) {
                (201, _) => Ok(Some(step_at(offset_of(response)?, length))),
                (404, _) => Ok(Some(Step::Unknown(format!(
                    "the backend does not know this attachment as part of a delivered record ({})",
                    response
                        .problem()
                        .map_or_else(|| "HTTP 404".into(), |p| p.detail)
                )))),
                (422, Some(ProblemCode::AttachmentHashMismatch)) => Ok(Some(Step::HashMismatch)),
                (413, _) if with_body => Ok(None),
                _ => Err(Failure::of(response)),
            }
        })?;
        match answer {
            Some(step) => Ok(step),
            None => {
                self.plain_creation = true;
                self.create(upload, None)
            }
        }
    }

    /// `HEAD /v1/uploads/{id}`: the backend's offset (or 404: create it).
    fn head(&mut self, upload: &PendingUpload) -> Result<Step, KitError> {
        let mut request = Request::get(
            format!("/v1/uploads/{}", upload.attachment_id),
            self.caller.options.request_timeout,
        );
        request.method = reqwest::Method::HEAD;
        request.headers.push((TUS.0, TUS.1.to_owned()));
        let length = upload.ciphertext_size;
        let found = self.call(&request, |response| match response.status {
            200 => Ok(Some(step_at(offset_of(response)?, length))),
            // HEAD answers have no body: 404 is "create it" (§6.4).
            404 => Ok(None),
            _ => Err(Failure::of(response)),
        })?;
        match found {
            Some(step) => Ok(step),
            None => self.create(upload, None),
        }
    }

    /// `PATCH /v1/uploads/{id}`: one chunk at `offset`.
    fn patch(
        &mut self,
        upload: &PendingUpload,
        offset: u64,
        chunk: Vec<u8>,
    ) -> Result<Step, KitError> {
        let length = upload.ciphertext_size;
        let request = Request {
            method: reqwest::Method::PATCH,
            path: format!("/v1/uploads/{}", upload.attachment_id),
            headers: vec![
                (TUS.0, TUS.1.to_owned()),
                ("content-type", "application/offset+octet-stream".to_owned()),
                ("upload-offset", offset.to_string()),
                ("upload-checksum", checksum(&chunk)),
            ],
            timeout: self.chunk_timeout(chunk.len()),
            body: chunk,
        };
        // None: the offsets disagree (a lost answer, a parallel sync): ask with HEAD.
        let answer = self.call(&request, |response| {
            match (response.status, problem_code(response)) {
                (204, _) => Ok(Some(step_at(offset_of(response)?, length))),
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

    /// A request's time limit with `body_len` bytes to send at the slowest rate the
    /// options still accept.
    fn chunk_timeout(&self, body_len: usize) -> Duration {
        let options = &self.caller.options;
        options.request_timeout
            + Duration::from_secs(body_len as u64 / options.min_upload_rate.max(1))
    }
}

fn read_chunk(
    file: &mut File,
    upload: &PendingUpload,
    from: u64,
    len: u64,
) -> Result<Vec<u8>, KitError> {
    let mut chunk = vec![0u8; usize::try_from(len).unwrap_or(usize::MAX)];
    file.seek(SeekFrom::Start(from))
        .and_then(|_| file.read_exact(&mut chunk))
        .map_err(KitError::io(format!(
            "reading attachment {}",
            upload.attachment_id
        )))?;
    Ok(chunk)
}
