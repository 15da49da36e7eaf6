//! What the app tells the UI without being asked: sync progress, connectivity and the
//! lock, as Tauri events. The translation from `kit-core`'s auto-sync events to the
//! flat DTOs the UI renders lives here.

use kit_core::sync::auto::AutoSyncEvent;
use kit_core::sync::{SyncEvent, SyncReport};
use serde::Serialize;
use ts_rs::TS;

use crate::dto::LocalizedDto;

/// Event name: a [`SyncEventDto`].
pub const SYNC_EVENT: &str = "fieldkit://sync";
/// Event name: a [`ConnectivityDto`].
pub const CONNECTIVITY_EVENT: &str = "fieldkit://connectivity";
/// Event name: the session was locked (idle, or the kit was wiped); no payload.
pub const LOCKED_EVENT: &str = "fieldkit://locked";

/// Where events go: the Tauri window in the app, a list in tests.
pub type Emit = std::sync::Arc<dyn Fn(&'static str, serde_json::Value) + Send + Sync>;

/// Kinds of sync events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SyncEventKind {
    /// A phase began (`phase`).
    Phase,
    /// Records sent so far (`done` of `total`).
    Records,
    /// Attachment bytes sent so far (`done` of `total`).
    Bytes,
    /// A request failed and is retried (`message`).
    Retrying,
    /// The kit's clock is off by more than 5 minutes (`done` = seconds).
    ClockSkew,
    /// The backend refused a record for good.
    Rejected,
    /// The back office changed a case's status.
    CaseStatus,
    /// A newer catalog was installed (`message` = version).
    CatalogInstalled,
    /// The backend's catalog was refused.
    CatalogRefused,
    /// A file could not be uploaded in this run.
    UploadProblem,
    /// Sending stopped until IT staff act (`message` in German).
    Blocked,
    /// The backend ordered the kit wiped; it was.
    Wiped,
    /// A run ended (`report`).
    Finished,
    /// A run failed; the next one retries (`message`).
    Failed,
}

/// What a run did, for the summary line.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SyncReportDto {
    /// Records delivered with a verified receipt.
    #[ts(type = "number")]
    pub delivered: u64,
    /// Records refused for good.
    #[ts(type = "number")]
    pub rejected: u64,
    /// Files completed.
    #[ts(type = "number")]
    pub attachments_uploaded: u64,
    /// Status changes received.
    #[ts(type = "number")]
    pub changes_applied: u64,
    /// Records still waiting.
    #[ts(type = "number")]
    pub pending: u64,
    /// Delivered records with files still uploading.
    #[ts(type = "number")]
    pub uploads_open: u64,
    /// Why sending stopped, in both languages, if it did.
    pub blocked: Option<LocalizedDto>,
}

impl From<&SyncReport> for SyncReportDto {
    fn from(r: &SyncReport) -> Self {
        Self {
            delivered: r.delivered,
            rejected: r.rejected,
            attachments_uploaded: r.attachments_uploaded,
            changes_applied: r.changes_applied,
            pending: r.pending,
            uploads_open: r.uploads_open,
            blocked: r.blocked.as_ref().map(|b| LocalizedDto::from(&b.message())),
        }
    }
}

/// One sync event, flat for the UI.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SyncEventDto {
    /// What happened.
    pub kind: SyncEventKind,
    /// `handshake`, `push`, `upload` or `changes`.
    pub phase: Option<String>,
    /// Progress so far.
    #[ts(type = "number | null")]
    pub done: Option<u64>,
    /// Progress total.
    #[ts(type = "number | null")]
    pub total: Option<u64>,
    /// A technical message (an error's text, a catalog version, a detail).
    pub message: Option<String>,
    /// A message for the clerk in both languages (the UI shows its language's).
    pub localized: Option<LocalizedDto>,
    /// The record concerned.
    pub record_id: Option<String>,
    /// Its case number.
    pub case_number: Option<String>,
    /// A case status.
    pub status: Option<String>,
    /// The reviewer's comment.
    pub comment: Option<String>,
    /// The run's report, on `finished`.
    pub report: Option<SyncReportDto>,
}

impl SyncEventDto {
    fn of(kind: SyncEventKind) -> Self {
        Self {
            kind,
            phase: None,
            done: None,
            total: None,
            message: None,
            localized: None,
            record_id: None,
            case_number: None,
            status: None,
            comment: None,
            report: None,
        }
    }

    /// Translates one event of a running sync.
    pub fn from_sync(e: &SyncEvent) -> Self {
        use SyncEventKind as K;
        match e {
            SyncEvent::Phase { phase } => Self {
                phase: serde_json::to_value(phase)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned)),
                ..Self::of(K::Phase)
            },
            SyncEvent::Records { sent, total } => Self {
                done: Some(*sent),
                total: Some(*total),
                ..Self::of(K::Records)
            },
            SyncEvent::Bytes { sent, total } => Self {
                done: Some(*sent),
                total: Some(*total),
                ..Self::of(K::Bytes)
            },
            SyncEvent::Retrying {
                attempt,
                delay_ms,
                reason,
            } => Self {
                done: Some(u64::from(*attempt)),
                total: Some(*delay_ms),
                message: Some(reason.clone()),
                ..Self::of(K::Retrying)
            },
            SyncEvent::ClockSkew { skew_secs } => Self {
                done: Some(skew_secs.unsigned_abs()),
                message: Some(skew_secs.to_string()),
                ..Self::of(K::ClockSkew)
            },
            SyncEvent::Rejected {
                record_id,
                case_number,
                code,
                detail,
            } => Self {
                record_id: Some(record_id.clone()),
                case_number: Some(case_number.clone()),
                status: Some(code.clone()),
                message: Some(detail.clone()),
                ..Self::of(K::Rejected)
            },
            SyncEvent::CaseStatus {
                record_id,
                case_number,
                status,
                comment,
            } => Self {
                record_id: Some(record_id.clone()),
                case_number: case_number.clone(),
                status: Some(status.clone()),
                comment: comment.clone(),
                ..Self::of(K::CaseStatus)
            },
            SyncEvent::CatalogInstalled { version } => Self {
                message: Some(version.clone()),
                ..Self::of(K::CatalogInstalled)
            },
            SyncEvent::CatalogRefused { detail } => Self {
                message: Some(detail.clone()),
                ..Self::of(K::CatalogRefused)
            },
            SyncEvent::UploadProblem {
                attachment_id,
                detail,
            } => Self {
                record_id: Some(attachment_id.clone()),
                message: Some(detail.clone()),
                ..Self::of(K::UploadProblem)
            },
            SyncEvent::Blocked { blocked } => Self {
                localized: Some(LocalizedDto::from(&blocked.message())),
                ..Self::of(K::Blocked)
            },
            SyncEvent::Wiped { reason } => Self {
                message: Some(reason.clone()),
                ..Self::of(K::Wiped)
            },
        }
    }

    /// A run's end.
    pub fn finished(report: &SyncReport) -> Self {
        Self {
            report: Some(report.into()),
            ..Self::of(SyncEventKind::Finished)
        }
    }

    /// A run's failure.
    pub fn failed(error: &str) -> Self {
        Self {
            message: Some(error.to_owned()),
            ..Self::of(SyncEventKind::Failed)
        }
    }

    /// The kit was wiped.
    pub fn wiped() -> Self {
        Self::of(SyncEventKind::Wiped)
    }
}

/// Whether the backend answers, and what sync is doing.
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export)]
pub struct ConnectivityDto {
    /// The backend answered the last probe (a captive portal does not count).
    pub online: bool,
    /// When the last probe was answered (kit clock, RFC 3339): how old "online" is.
    pub checked_at: Option<String>,
    /// While offline: when the next probe goes out (kit clock, RFC 3339).
    pub next_attempt_at: Option<String>,
    /// A sync is running.
    pub syncing: bool,
    /// When the last run finished (kit clock, RFC 3339).
    pub last_sync_at: Option<String>,
    /// Why the last run or probe failed.
    pub last_error: Option<String>,
}

/// Folds an auto-sync event into the connectivity state; returns the sync event to
/// forward, if there is one.
pub fn fold(state: &mut ConnectivityDto, event: &AutoSyncEvent) -> Option<SyncEventDto> {
    match event {
        AutoSyncEvent::Online { checked_at } => {
            state.online = true;
            state.checked_at = Some(checked_at.with_timezone(&chrono::Local).to_rfc3339());
            state.next_attempt_at = None;
            state.last_error = None;
            None
        }
        AutoSyncEvent::Offline {
            reason,
            next_attempt_at,
        } => {
            state.online = false;
            state.syncing = false;
            state.next_attempt_at =
                Some(next_attempt_at.with_timezone(&chrono::Local).to_rfc3339());
            state.last_error = Some(reason.clone());
            None
        }
        AutoSyncEvent::Sync { inner } => {
            state.syncing = true;
            Some(SyncEventDto::from_sync(inner))
        }
        AutoSyncEvent::Finished { report } => {
            state.syncing = false;
            state.last_sync_at = Some(chrono::Local::now().to_rfc3339());
            state.last_error = None;
            Some(SyncEventDto::finished(report))
        }
        AutoSyncEvent::Failed { error } => {
            state.syncing = false;
            state.last_error = Some(error.clone());
            Some(SyncEventDto::failed(error))
        }
        AutoSyncEvent::Wiped => {
            state.syncing = false;
            Some(SyncEventDto::wiped())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_moves_the_indicator_from_syncing_to_done() {
        let mut state = ConnectivityDto::default();
        assert!(fold(
            &mut state,
            &AutoSyncEvent::Online {
                checked_at: chrono::Utc::now()
            }
        )
        .is_none());
        assert!(state.online && state.checked_at.is_some());
        let progress = fold(
            &mut state,
            &AutoSyncEvent::Sync {
                inner: SyncEvent::Records { sent: 3, total: 10 },
            },
        )
        .expect("forwarded");
        assert_eq!(
            (progress.kind, progress.done, progress.total),
            (SyncEventKind::Records, Some(3), Some(10))
        );
        assert!(state.syncing);
        let end = fold(
            &mut state,
            &AutoSyncEvent::Finished {
                report: SyncReport {
                    delivered: 10,
                    ..SyncReport::default()
                },
            },
        )
        .expect("forwarded");
        assert_eq!(end.report.map(|r| r.delivered), Some(10));
        assert!(!state.syncing && state.last_sync_at.is_some());
    }

    #[test]
    fn offline_keeps_the_reason_and_the_next_attempt_and_stops_the_spinner() {
        let mut state = ConnectivityDto {
            online: true,
            syncing: true,
            ..ConnectivityDto::default()
        };
        fold(
            &mut state,
            &AutoSyncEvent::Offline {
                reason: "connection refused".into(),
                next_attempt_at: chrono::Utc::now() + chrono::Duration::seconds(30),
            },
        );
        assert!(!state.online && !state.syncing);
        assert!(
            state.next_attempt_at.is_some(),
            "the UI can say when it tries again"
        );
        assert_eq!(state.last_error.as_deref(), Some("connection refused"));
    }
}
