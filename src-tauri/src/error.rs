//! The one error every command rejects with: a `kind` the UI turns into a German (or
//! English) sentence saying what happened and what to do, plus the technical detail.
//! The mapping from `KitError` lives here so that every command classifies alike.

use kit_core::fieldkit_catalog::CatalogError;
use kit_core::printout::PrintoutError;
use kit_core::KitError;
use serde::Serialize;
use ts_rs::TS;

use crate::dto::FieldErrorDto;

/// What went wrong, for the UI's message table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorKind {
    /// Wrong PIN or recovery secret.
    WrongPin,
    /// Too many wrong PINs; wait `retry_after_secs`.
    TooManyAttempts,
    /// The new PIN is too weak.
    WeakPin,
    /// No such clerk.
    UnknownClerk,
    /// No session: unlock first.
    Locked,
    /// No kit in the app's folder yet.
    NotInitialized,
    /// A kit exists already (never overwritten).
    AlreadyInitialized,
    /// Not enrolled with a backend.
    NotEnrolled,
    /// Enrolled already: a second enrolment is refused (IT sets up a new kit instead).
    AlreadyEnrolled,
    /// The form data does not validate (`field_errors`).
    Invalid,
    /// Required attachments are missing (`missing_attachments`).
    MissingAttachments,
    /// The data changed after the citizen signed the printout: sign again
    /// (`missing_attachments` names the printout's kind).
    OutdatedPrintout,
    /// A file the service does not take (type, size, kind).
    AttachmentRefused,
    /// The service cannot be captured offline (ID card, passport).
    UnavailableOffline,
    /// No authority in the catalog covers the residence.
    NoAuthority,
    /// No service catalog installed.
    NoCatalog,
    /// Unknown draft, record or service.
    NotFound,
    /// Does not fit the current state (finalized twice, keys differ, …).
    Conflict,
    /// The backend could not be reached.
    Network,
    /// The backend refused (e.g. an unknown or used one-time code).
    Backend,
    /// A sync is already running.
    SyncInProgress,
    /// The disk is full; nothing changed.
    DiskFull,
    /// The store is read-only; nothing changed.
    ReadOnly,
    /// The store is damaged; call IT with the recovery secret.
    Corrupted,
    /// The store was written by a newer Fieldkit.
    TooNew,
    /// The UI sent something malformed.
    BadInput,
    /// Anything else.
    Internal,
}

/// A failed command.
#[derive(Debug, Clone, Serialize, TS, thiserror::Error)]
#[error("{kind:?}: {detail}")]
#[ts(export)]
pub struct AppError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Technical detail (never personal data).
    pub detail: String,
    /// Failing fields for [`ErrorKind::Invalid`].
    pub field_errors: Vec<FieldErrorDto>,
    /// Missing attachments for [`ErrorKind::MissingAttachments`].
    pub missing_attachments: Vec<String>,
    /// Seconds to wait for [`ErrorKind::TooManyAttempts`].
    #[ts(type = "number | null")]
    pub retry_after_secs: Option<u64>,
    /// Failed attempts so far for [`ErrorKind::WrongPin`].
    pub attempts: Option<u32>,
}

impl AppError {
    /// An error with only a kind and a detail.
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            field_errors: Vec::new(),
            missing_attachments: Vec::new(),
            retry_after_secs: None,
            attempts: None,
        }
    }

    /// The UI sent something malformed.
    pub fn bad_input(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadInput, detail)
    }

    /// No open session.
    pub fn locked() -> Self {
        Self::new(ErrorKind::Locked, "the kit is locked: unlock first")
    }
}

impl From<KitError> for AppError {
    fn from(e: KitError) -> Self {
        let detail = e.to_string();
        let kind = match &e {
            KitError::NotInitialized(_) => ErrorKind::NotInitialized,
            KitError::AlreadyInitialized(_) => ErrorKind::AlreadyInitialized,
            KitError::WrongSecret { attempts } => {
                return Self {
                    attempts: Some(*attempts),
                    ..Self::new(ErrorKind::WrongPin, detail)
                }
            }
            KitError::TooManyAttempts { retry_after_secs } => {
                return Self {
                    retry_after_secs: Some(*retry_after_secs),
                    ..Self::new(ErrorKind::TooManyAttempts, detail)
                }
            }
            KitError::UnknownClerk(_) => ErrorKind::UnknownClerk,
            KitError::WeakPin(_) => ErrorKind::WeakPin,
            // Both: call IT, change nothing, reset nothing.
            KitError::Corrupted(_) | KitError::Exposed { .. } => ErrorKind::Corrupted,
            KitError::DiskFull => ErrorKind::DiskFull,
            KitError::ReadOnly => ErrorKind::ReadOnly,
            KitError::SchemaTooNew { .. } => ErrorKind::TooNew,
            KitError::Validation(errors) => {
                return Self {
                    field_errors: errors.iter().map(Into::into).collect(),
                    ..Self::new(ErrorKind::Invalid, detail)
                }
            }
            KitError::MissingAttachments(missing) => {
                return Self {
                    missing_attachments: missing.clone(),
                    ..Self::new(ErrorKind::MissingAttachments, detail)
                }
            }
            KitError::OutdatedPrintout(kinds) => {
                return Self {
                    missing_attachments: kinds.clone(),
                    ..Self::new(ErrorKind::OutdatedPrintout, detail)
                }
            }
            KitError::NoCatalog => ErrorKind::NoCatalog,
            KitError::NotEnrolled => ErrorKind::NotEnrolled,
            KitError::AlreadyEnrolled { .. } => ErrorKind::AlreadyEnrolled,
            KitError::NotFound(_) => ErrorKind::NotFound,
            KitError::Conflict(_) => ErrorKind::Conflict,
            KitError::AttachmentRefused(_) => ErrorKind::AttachmentRefused,
            KitError::Catalog(CatalogError::NotAvailableOffline { .. }) => {
                ErrorKind::UnavailableOffline
            }
            KitError::Catalog(CatalogError::NoAuthority { .. }) => ErrorKind::NoAuthority,
            KitError::Catalog(CatalogError::UnknownService(_)) => ErrorKind::NotFound,
            KitError::Network(_) => ErrorKind::Network,
            KitError::Backend { .. } => ErrorKind::Backend,
            KitError::SyncInProgress => ErrorKind::SyncInProgress,
            // The UI sends the signature image; one the PDF writer cannot read is its fault.
            KitError::Printout(PrintoutError::BadSignature(_)) => ErrorKind::BadInput,
            // Text the printout's font cannot show: a value (or the place) to correct.
            KitError::Printout(PrintoutError::NotConforming(_)) => ErrorKind::Invalid,
            _ => ErrorKind::Internal,
        };
        Self::new(kind, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_errors_carry_what_the_unlock_screen_shows() {
        let e = AppError::from(KitError::WrongSecret { attempts: 3 });
        assert_eq!((e.kind, e.attempts), (ErrorKind::WrongPin, Some(3)));
        let e = AppError::from(KitError::TooManyAttempts {
            retry_after_secs: 90,
        });
        assert_eq!(
            (e.kind, e.retry_after_secs),
            (ErrorKind::TooManyAttempts, Some(90))
        );
    }

    #[test]
    fn offline_only_services_and_storage_failures_are_told_apart() {
        let e = AppError::from(KitError::Catalog(CatalogError::NotAvailableOffline {
            service: "personalausweis".into(),
            reason: "Fingerabdrücke".into(),
        }));
        assert_eq!(e.kind, ErrorKind::UnavailableOffline);
        assert_eq!(AppError::from(KitError::DiskFull).kind, ErrorKind::DiskFull);
        assert_eq!(AppError::from(KitError::ReadOnly).kind, ErrorKind::ReadOnly);
        let e = AppError::from(KitError::AlreadyEnrolled {
            kit_id: "k".into(),
            backend_url: "https://b".into(),
        });
        assert_eq!(e.kind, ErrorKind::AlreadyEnrolled);
        let e = AppError::from(KitError::MissingAttachments(vec!["signed-printout".into()]));
        assert_eq!(e.missing_attachments, ["signed-printout"]);
    }

    #[test]
    fn printout_failures_say_whose_input_is_wrong() {
        let e = AppError::from(KitError::Printout(PrintoutError::BadSignature(
            "bad PNG header".into(),
        )));
        assert_eq!(e.kind, ErrorKind::BadInput);
        let e = AppError::from(KitError::Printout(PrintoutError::NotConforming(vec![
            "a glyph is missing".into(),
        ])));
        assert_eq!(e.kind, ErrorKind::Invalid);
        let e = AppError::from(KitError::Printout(PrintoutError::Writer("io".into())));
        assert_eq!(e.kind, ErrorKind::Internal);
    }
}
