//! Auto-sync: a background thread that probes the *backend* (a signed `GET /v1/state`
//! that must parse as the backend's answer — an OS "online" flag or a captive portal's
//! 200 says nothing about it) and runs a sync when it answers: at once when it comes
//! back, then every `interval`, and whenever the app asks ([`AutoSync::sync_now`]).
//! Between syncs it probes every `probe_interval`, so "online" is never older than
//! that; while the backend is unreachable it probes with full-jitter backoff. Every
//! probe reports its result — [`AutoSyncEvent::Online`] with its time, or
//! [`AutoSyncEvent::Offline`] with the time of the next attempt — so an app asked to
//! "sync now" while offline answers within one probe's time limit, and shows how old
//! its "online" is. Stopping cancels a running sync at its next step and wakes every
//! sleep.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use serde::Serialize;
use sync_protocol::api::{KitState, ProblemCode};

use super::retry::{Backoff, BackoffPolicy};
use super::{sync, CancelToken, SyncEvent, SyncOptions, SyncReport};
use crate::kit::Session;
use crate::net::{Backend, SignedRequest};
use crate::KitError;

/// How the loop paces itself.
#[derive(Debug, Clone)]
pub struct AutoSyncOptions {
    /// Between syncs while the backend is reachable (to pull decisions).
    pub interval: Duration,
    /// Between probes while the backend is reachable: how old "online" may get.
    pub probe_interval: Duration,
    /// Backoff between probes while it is not.
    pub probe_backoff: BackoffPolicy,
    /// Time limit of one probe.
    pub probe_timeout: Duration,
    /// For each run.
    pub sync: SyncOptions,
}

impl Default for AutoSyncOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(120),
            probe_interval: Duration::from_secs(20),
            probe_backoff: BackoffPolicy {
                base: Duration::from_secs(5),
                cap: Duration::from_secs(120),
            },
            probe_timeout: Duration::from_secs(10),
            sync: SyncOptions::default(),
        }
    }
}

/// What the loop reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AutoSyncEvent {
    /// The backend answered a probe (sent after every probe that it answered).
    Online {
        /// When it answered (kit clock).
        #[serde(with = "chrono::serde::ts_milliseconds")]
        checked_at: DateTime<Utc>,
    },
    /// It did not (sent after every probe that failed).
    Offline {
        /// Why (no personal data).
        reason: String,
        /// When the next probe goes out, unless the app asks sooner (kit clock).
        #[serde(with = "chrono::serde::ts_milliseconds")]
        next_attempt_at: DateTime<Utc>,
    },
    /// An event of the running sync.
    Sync {
        /// The event.
        inner: SyncEvent,
    },
    /// A run ended.
    Finished {
        /// Its report.
        report: SyncReport,
    },
    /// A run failed; the loop goes on.
    Failed {
        /// Why.
        error: String,
    },
    /// The kit was wiped; the loop has ended.
    Wiped,
}

/// The running loop; [`AutoSync::stop`] (or dropping it) ends it.
pub struct AutoSync {
    cancel: CancelToken,
    wake: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl AutoSync {
    /// Starts the loop on its own thread with its own session.
    pub fn spawn(
        mut session: Session,
        backend: Backend,
        options: AutoSyncOptions,
        mut on_event: impl FnMut(&AutoSyncEvent) + Send + 'static,
    ) -> Self {
        let cancel = CancelToken::new();
        let (wake, woken) = mpsc::channel::<()>();
        let token = cancel.clone();
        let thread = std::thread::spawn(move || {
            let mut probe_backoff = Backoff::new(options.probe_backoff);
            // None: sync as soon as a probe succeeds (at start, after being offline,
            // and when the app asks).
            let mut next_sync: Option<Instant> = None;
            while !token.is_cancelled() {
                let wait = match probe(&session, &backend, options.probe_timeout) {
                    Err(Probe::Permanent(error)) => {
                        // unknown-kit, unsupported protocol version: retrying cannot help.
                        on_event(&AutoSyncEvent::Failed { error });
                        return;
                    }
                    Err(Probe::Unreachable(reason)) => {
                        next_sync = None;
                        let wait = probe_backoff.next_delay(None);
                        on_event(&AutoSyncEvent::Offline {
                            reason,
                            next_attempt_at: Utc::now()
                                + chrono::Duration::from_std(wait).unwrap_or_default(),
                        });
                        wait
                    }
                    Ok(()) => {
                        probe_backoff.reset();
                        on_event(&AutoSyncEvent::Online {
                            checked_at: Utc::now(),
                        });
                        if next_sync.is_none_or(|due| Instant::now() >= due) {
                            let result =
                                sync(&mut session, &backend, &options.sync, &token, &mut |e| {
                                    on_event(&AutoSyncEvent::Sync { inner: e.clone() });
                                });
                            // Requests made during the run are served by it.
                            while woken.try_recv().is_ok() {}
                            match result {
                                Ok(report) if report.wiped => {
                                    on_event(&AutoSyncEvent::Wiped);
                                    return;
                                }
                                Ok(report) => on_event(&AutoSyncEvent::Finished { report }),
                                Err(KitError::Cancelled) => return,
                                Err(e) => on_event(&AutoSyncEvent::Failed {
                                    error: e.to_string(),
                                }),
                            }
                            next_sync = Some(Instant::now() + options.interval);
                        }
                        let until_sync = next_sync.map_or(Duration::ZERO, |due| {
                            due.saturating_duration_since(Instant::now())
                        });
                        until_sync.min(options.probe_interval)
                    }
                };
                match woken.recv_timeout(wait) {
                    // The app asked: probe and sync now.
                    Ok(()) => next_sync = None,
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        });
        Self {
            cancel,
            wake: Some(wake),
            thread: Some(thread),
        }
    }

    /// Probes and syncs at once instead of waiting for the next turn.
    pub fn sync_now(&self) {
        if let Some(wake) = &self.wake {
            let _ = wake.send(());
        }
    }

    /// Whether the loop has ended (stopped, or the kit was wiped).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Cancels a running sync at its next step and waits for the thread to end.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.cancel.cancel();
        self.wake.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for AutoSync {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Why a probe failed.
enum Probe {
    /// Try again later.
    Unreachable(String),
    /// The backend answered that this kit cannot sync at all.
    Permanent(String),
}

/// One signed `GET /v1/state` without retries: reachable when it is the backend's
/// answer (or the backend's `kit-revoked`, so that the wipe is fetched).
fn probe(session: &Session, backend: &Backend, timeout: Duration) -> Result<(), Probe> {
    let signer = session
        .request_signer()
        .map_err(|e| Probe::Permanent(e.to_string()))?;
    let response = {
        backend
            .send_signed(
                &signer,
                SignedRequest {
                    method: reqwest::Method::GET,
                    path: "/v1/state",
                    headers: &[],
                    body: Vec::new(),
                    timeout: Some(timeout),
                    cancel: None,
                },
            )
            .map_err(|e| Probe::Unreachable(e.to_string()))?
    };
    let code = response.problem().map(|p| p.code);
    match response.status {
        200 => serde_json::from_slice::<KitState>(&response.body)
            .map(|_| ())
            .map_err(|_| {
                Probe::Unreachable(
                    "the answer is not from the Fieldkit backend (captive portal?)".into(),
                )
            }),
        // Revoked: the sync fetches the wipe order. A skewed clock: the sync repairs it.
        403 if code == Some(ProblemCode::KitRevoked) => Ok(()),
        401 if code == Some(ProblemCode::ClockSkew) => Ok(()),
        400 | 401
            if matches!(
                code,
                Some(ProblemCode::UnknownKit | ProblemCode::UnsupportedProtocolVersion)
            ) =>
        {
            Err(Probe::Permanent(format!(
                "the backend refuses this kit for good (HTTP {}): contact IT",
                response.status
            )))
        }
        status => Err(Probe::Unreachable(format!("HTTP {status}"))),
    }
}
