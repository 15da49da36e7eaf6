//! The upload phase (§6.4): every attachment of a delivered record, on up to
//! `parallel_uploads` workers at once. Each worker signs its own requests and keeps
//! its own backoff; the run's thread hands out the attachments, shows progress, stores
//! the clock offset and marks an attachment uploaded only when the backend completed
//! it — so exactly-once and resumption are the same as with one upload at a time: two
//! workers never hold the same attachment, and whatever was not completed (or
//! completed after the phase stopped listening) is resumed at the backend's offset by
//! the next run. The phase ends at once on cancellation or the first failure that
//! stops it; workers finish the request they are in and take no new one.

mod sizing;
mod worker;

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use worker::{Note, Worker};

use super::plan::{upload_starts, UploadStart};
use super::run::{Caller, Run};
use super::{CancelToken, Phase, SyncEvent, MAX_PARALLEL_UPLOADS};
use crate::KitError;

/// How often the run's thread looks at the caller's cancel token while workers upload.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// Stops the workers when the phase ends, however it ends.
struct StopOnDrop(CancelToken);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

impl Run<'_> {
    pub(crate) fn upload(&mut self, server_offsets: &HashMap<String, u64>) -> Result<(), KitError> {
        self.emit(SyncEvent::Phase {
            phase: Phase::Upload,
        });
        let uploads = self.session.pending_uploads(usize::MAX >> 1)?;
        let starts = upload_starts(
            uploads.iter().map(|u| u.attachment_id.as_str()),
            server_offsets,
        );
        let total: u64 = uploads
            .iter()
            .zip(&starts)
            .map(|(u, (_, start))| match start {
                UploadStart::Resume(offset) => u.ciphertext_size.saturating_sub(*offset),
                UploadStart::Create => u.ciphertext_size,
            })
            .sum();
        let starts: Vec<UploadStart> = starts.into_iter().map(|(_, start)| start).collect();
        let queue: Mutex<VecDeque<_>> = Mutex::new(uploads.into_iter().zip(starts).collect());
        let workers = self
            .options
            .parallel_uploads
            .clamp(1, MAX_PARALLEL_UPLOADS)
            .min(queue.lock().map_or(0, |q| q.len()));
        let mut sent = 0u64;
        self.emit(SyncEvent::Bytes { sent, total });
        if workers == 0 {
            return Ok(());
        }
        // The workers' own token: cancelled when the caller cancels, when one worker
        // fails for good, and whenever the phase ends.
        let stop = StopOnDrop(CancelToken::new());
        let (notes, inbox) = mpsc::channel();
        let queue = Arc::new(queue);
        for _ in 0..workers {
            let caller = Caller::new(
                self.caller.backend.clone(),
                self.caller.signer.clone(),
                self.options.clone(),
                stop.0.clone(),
            );
            let worker = Worker::new(caller, notes.clone());
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name("fieldkit-upload".into())
                .spawn(move || worker.work(&queue))
                .map_err(KitError::io("starting an upload worker"))?;
        }
        drop(notes);
        loop {
            match inbox.recv_timeout(CANCEL_POLL) {
                Ok(note) => self.take(note, &mut sent, total)?,
                // The workers are not waited for: one may be waiting for the answer to
                // a chunk already handed to the network, which no token interrupts. It
                // sees the token before its next request; an answer it still gets is
                // dropped, and the next run learns the offset from the backend.
                Err(RecvTimeoutError::Timeout) if self.cancel.is_cancelled() => {
                    return Err(KitError::Cancelled)
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
        }
    }

    /// What the run's thread does with one worker's note.
    fn take(&mut self, note: Note, sent: &mut u64, total: u64) -> Result<(), KitError> {
        match note {
            Note::Retrying(event) => {
                self.report.retries += 1;
                self.emit(event);
            }
            Note::ServerTime(server_time) => self.observe_server_time(server_time)?,
            Note::Acknowledged(bytes) => {
                *sent += bytes;
                self.report.bytes_uploaded += bytes;
                self.emit(SyncEvent::Bytes {
                    sent: (*sent).min(total),
                    total,
                });
            }
            Note::Uploaded(attachment_id) => {
                self.session.mark_uploaded(&attachment_id)?;
                self.report.attachments_uploaded += 1;
            }
            Note::Problem {
                attachment_id,
                detail,
            } => self.emit(SyncEvent::UploadProblem {
                attachment_id,
                detail,
            }),
            Note::Failed(e) => return Err(e),
        }
        Ok(())
    }
}
