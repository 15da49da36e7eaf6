//! The sync engine: delivers the outbox to the backend exactly once and brings the back
//! office's decisions home (PROTOCOL.md §6). One run is: state handshake → push batches
//! (receipts stored atomically with the delivered mark) → resumable tus uploads → pull
//! changes (statuses, catalog, wipe) → report.
//!
//! - [`plan`] decides what to send next; it is pure and tested as tables.
//! - [`retry`] classifies failures and computes backoff (§6.9).
//! - The executor (`run`, `push`, `upload`, `changes`) does the I/O with blocking HTTP:
//!   handshake, push and changes one request at a time (the chain orders the records),
//!   uploads on up to [`MAX_PARALLEL_UPLOADS`] worker threads that sign their own
//!   requests, so that the link is not idle while an answer travels back. Blocking
//!   keeps the kit free of an async runtime. The app calls a run from a worker thread;
//!   [`auto::AutoSync`] is such a thread.
//! - At most one sync runs per kit folder, across processes: an OS file lock on
//!   `sync.lock` in the folder, released by the OS if the process dies.
//!
//! Idempotence carries exactly-once: every step can be repeated (duplicates return the
//! original receipt, upload creation returns the same upload, `PATCH` is offset-checked,
//! the change cursor is stored only after the page is applied), so any crash or cut
//! link is repaired by simply running again.

pub mod auto;
mod changes;
mod lock;
pub mod plan;
mod push;
mod response;
pub mod retry;
mod run;
mod store;
mod upload;

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde::Serialize;
use sync_protocol::api::{KitStanding, MAX_BATCH_BYTES, MAX_BATCH_RECORDS};

pub use plan::Blocked;
pub use retry::BackoffPolicy;
pub use store::CaseUpdate;

/// How a sync run behaves.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Envelopes per batch (at most 100).
    pub batch_max_records: usize,
    /// Envelope bytes per batch (below the 8 MiB body limit).
    pub batch_max_bytes: usize,
    /// Bytes per upload `PATCH` at most (§6.4: about 1 MiB; at most 4 MiB). On a flaky
    /// link the engine halves it, down to 64 KiB, and grows it back when chunks go
    /// through cleanly.
    pub chunk_size: usize,
    /// Backoff between retries.
    pub backoff: BackoffPolicy,
    /// End the run after failing this long without a single success. `None`: keep
    /// retrying until cancelled. Either way nothing is dropped: the next run resumes.
    pub give_up_after: Option<Duration>,
    /// Time limit of one request without upload body.
    pub request_timeout: Duration,
    /// Slowest link an upload chunk must still get through before its request times
    /// out, in bytes per second (the chunk's time limit is `request_timeout` plus its
    /// size at this rate).
    pub min_upload_rate: u64,
    /// Attachments uploaded at the same time (1 to [`MAX_PARALLEL_UPLOADS`]). One
    /// upload leaves the link idle for a round trip after every request; two or three
    /// keep it busy. The backend takes at most 4 requests of a kit at once (§6.4).
    pub parallel_uploads: usize,
}

/// The most attachments a kit uploads at once: one below the backend's default of 4
/// requests per kit at a time, so that the app's reachability probe still gets through.
pub const MAX_PARALLEL_UPLOADS: usize = 3;

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            batch_max_records: MAX_BATCH_RECORDS,
            // Leave room for the batch's own JSON around the envelopes.
            batch_max_bytes: MAX_BATCH_BYTES - 64 * 1024,
            chunk_size: 1024 * 1024,
            backoff: BackoffPolicy::default(),
            give_up_after: Some(Duration::from_secs(120)),
            request_timeout: Duration::from_secs(60),
            min_upload_rate: 4 * 1024,
            parallel_uploads: MAX_PARALLEL_UPLOADS,
        }
    }
}

/// The phases of a run, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// `GET /v1/state`.
    Handshake,
    /// `POST /v1/records`.
    Push,
    /// tus uploads.
    Upload,
    /// `GET /v1/changes` and the catalog.
    Changes,
}

/// What a run reports while it works, for a progress bar (`fieldkit sync`, the app).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SyncEvent {
    /// A phase begins.
    Phase {
        /// Which.
        phase: Phase,
    },
    /// Records delivered so far in this run, of those pending at its start.
    Records {
        /// Delivered (or rejected) so far.
        sent: u64,
        /// Pending at the start of the push phase.
        total: u64,
    },
    /// Attachment bytes the backend acknowledged so far in this run.
    Bytes {
        /// Acknowledged so far.
        sent: u64,
        /// Still missing at the backend when the upload phase began.
        total: u64,
    },
    /// A request failed and is retried after `delay_ms`.
    Retrying {
        /// Retries since the last success (1 = first retry).
        attempt: u32,
        /// The wait before it.
        delay_ms: u64,
        /// What failed (no personal data: status codes, network errors).
        reason: String,
    },
    /// The kit's clock differs from the server's by more than 5 minutes: the clerk
    /// must be told (new records would carry a wrong device time).
    ClockSkew {
        /// Kit clock minus server clock.
        skew_secs: i64,
    },
    /// The backend refused a record for good.
    Rejected {
        /// The record.
        record_id: String,
        /// Its case number.
        case_number: String,
        /// The problem code.
        code: String,
        /// The backend's explanation.
        detail: String,
    },
    /// The back office changed a case's status.
    CaseStatus {
        /// The record.
        record_id: String,
        /// Its case number.
        case_number: Option<String>,
        /// The new status.
        status: String,
        /// The reviewer's comment.
        comment: Option<String>,
    },
    /// A newer catalog was installed.
    CatalogInstalled {
        /// Its version.
        version: String,
    },
    /// The backend's catalog was refused (does not verify, or older than the installed
    /// one); the installed catalog stays.
    CatalogRefused {
        /// Why.
        detail: String,
    },
    /// An attachment could not be uploaded in this run (it is retried at the next; if
    /// it keeps failing, IT staff must look at it).
    UploadProblem {
        /// The attachment.
        attachment_id: String,
        /// Why.
        detail: String,
    },
    /// Sending records stopped until IT staff act.
    Blocked {
        /// Why.
        blocked: Blocked,
    },
    /// The backend ordered this kit wiped; it was.
    Wiped {
        /// The reason IT staff gave.
        reason: String,
    },
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    /// Records that got a verified receipt in this run.
    pub delivered: u64,
    /// Records the backend refused for good in this run.
    pub rejected: u64,
    /// Attachments completed in this run.
    pub attachments_uploaded: u64,
    /// Attachment bytes the backend acknowledged in this run.
    pub bytes_uploaded: u64,
    /// Changes applied from the feed.
    pub changes_applied: u64,
    /// Server keys and TLS pins this kit started trusting in this run (verified
    /// rollovers, PROTOCOL.md §2.5).
    pub trust_updates: u64,
    /// A catalog version installed in this run.
    pub catalog_installed: Option<String>,
    /// The kit's standing at the backend.
    pub standing: Option<KitStanding>,
    /// Why records are no longer sent, if they are not.
    pub blocked: Option<Blocked>,
    /// The kit was wiped on the backend's order: drop the session.
    pub wiped: bool,
    /// Retries in this run.
    pub retries: u32,
    /// Kit clock minus server clock, seconds.
    pub clock_skew_secs: i64,
    /// Records still pending after the run.
    pub pending: u64,
    /// Delivered records whose attachments are still uploading after the run.
    pub uploads_open: u64,
}

/// Stops a run (or the auto-sync loop) at its next step, and wakes it from a backoff
/// sleep at once. Clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<(Mutex<bool>, Condvar)>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels every holder of a clone.
    pub fn cancel(&self) {
        let (flag, wake) = &*self.0;
        if let Ok(mut f) = flag.lock() {
            *f = true;
        }
        wake.notify_all();
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0 .0.lock().map(|f| *f).unwrap_or(true)
    }

    /// Sleeps for `duration` unless cancelled first; `false` when cancelled.
    pub fn sleep(&self, duration: Duration) -> bool {
        let (flag, wake) = &*self.0;
        let Ok(guard) = flag.lock() else {
            return false;
        };
        match wake.wait_timeout_while(guard, duration, |cancelled| !*cancelled) {
            Ok((cancelled, _)) => !*cancelled,
            Err(_) => false,
        }
    }
}

/// The wire name of a protocol enum (`needs_information`, `unknown-routing`, …), as the
/// clerk's events and the store show it.
pub(crate) fn wire_name(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

/// The threshold of §8.3 above which the clerk is warned.
pub const CLOCK_SKEW_WARNING_SECS: i64 = 300;

pub use run::sync;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancelling_wakes_a_sleeper_at_once() {
        let token = CancelToken::new();
        let other = token.clone();
        let started = std::time::Instant::now();
        let sleeper = std::thread::spawn(move || other.sleep(Duration::from_secs(30)));
        std::thread::sleep(Duration::from_millis(50));
        token.cancel();
        assert!(
            !sleeper.join().expect("thread"),
            "sleep reports cancellation"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(token.is_cancelled());
        assert!(
            !token.sleep(Duration::from_secs(30)),
            "cancelled stays cancelled"
        );
    }

    #[test]
    fn an_uncancelled_sleep_runs_its_course() {
        let token = CancelToken::new();
        assert!(token.sleep(Duration::from_millis(20)));
        assert!(!token.is_cancelled());
    }

    #[test]
    fn events_serialize_as_tagged_json_lines() {
        let e = SyncEvent::Records { sent: 3, total: 10 };
        assert_eq!(
            serde_json::to_string(&e).expect("json"),
            r#"{"event":"records","sent":3,"total":10}"#
        );
    }
}
