//! The error type of kit-core. Every variant says what happened and, where the clerk can
//! act, what to do; `message_de` gives the German text the app and CLI show. No variant
//! carries a PIN, a key or form data.

use fieldkit_catalog::FieldError;
use thiserror::Error;

/// Everything that can go wrong on a kit.
#[derive(Debug, Error)]
pub enum KitError {
    /// No kit has been set up in this folder yet.
    #[error("no kit in {0}: run `fieldkit init` first")]
    NotInitialized(String),
    /// `init` on a folder that already holds a kit.
    #[error("a kit already exists in {0}; it is never overwritten")]
    AlreadyInitialized(String),
    /// Wrong PIN or recovery secret.
    #[error("wrong PIN or recovery secret ({attempts} failed attempts in a row)")]
    WrongSecret {
        /// Failed attempts so far, including this one.
        attempts: u32,
    },
    /// Too many wrong PINs: the slot is locked for a while.
    #[error("too many wrong attempts: try again in {retry_after_secs} s")]
    TooManyAttempts {
        /// Seconds until the next attempt is accepted.
        retry_after_secs: u64,
    },
    /// The clerk does not exist (or was removed).
    #[error("unknown clerk {0}")]
    UnknownClerk(String),
    /// A PIN that is too weak.
    #[error("PIN too weak: {0}")]
    WeakPin(&'static str),
    /// The store file is damaged or is not a Fieldkit store. It is left as it is.
    #[error("the kit store is damaged or unreadable ({0}); it was not changed — contact IT with the recovery secret")]
    Corrupted(String),
    /// The key-slot file or the kit folder can be read or entered by others than its
    /// owner: the slots may have been copied for offline guessing. The kit does not
    /// start until IT has looked (and fixed the permissions); nothing is reset.
    #[error("Die Schlüsseldatei oder der Kit-Ordner {path} ist für andere Benutzer zugänglich (Rechte {mode:o}); das Kit startet so nicht. Die IT prüft, wer Zugriff hatte, setzt die Rechte mit `fieldkit fix-permissions` und lässt die PINs ändern. / The key-slot file or kit folder {path} is accessible to other users (mode {mode:o}); the kit does not start like this. IT checks who had access, fixes the permissions with `fieldkit fix-permissions` and has the PINs changed.")]
    Exposed {
        /// The file or folder.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// The TPM a key slot is bound to is missing, unreachable or refuses; or a copied
    /// kit folder meets another device's TPM.
    #[error("TPM: {0}")]
    Tpm(String),
    /// The disk is full; nothing was changed.
    #[error("the disk is full; nothing was changed — free space and try again")]
    DiskFull,
    /// The store is on a read-only medium; nothing was changed.
    #[error("the kit store is read-only; nothing was changed")]
    ReadOnly,
    /// The store was written by a newer Fieldkit.
    #[error(
        "the store has schema version {found}, this program knows up to {known}: update Fieldkit"
    )]
    SchemaTooNew {
        /// Version in the file.
        found: u32,
        /// Newest version this build knows.
        known: u32,
    },
    /// Form data does not validate; every failing field is listed.
    #[error("the application is not valid: {}", summarize(.0))]
    Validation(Vec<FieldError>),
    /// Required attachments are missing.
    #[error("attachments missing: {}", .0.join(", "))]
    MissingAttachments(Vec<String>),
    /// The data changed after the citizen signed its printout: the signed printout (of
    /// these attachment kinds) no longer shows what would be sealed; sign again.
    #[error("the data changed after the printout was signed, so it no longer shows what would be sent: sign a new printout ({})", .0.join(", "))]
    OutdatedPrintout(Vec<String>),
    /// No catalog installed yet.
    #[error("no service catalog installed: run `fieldkit catalog install FILE` or sync")]
    NoCatalog,
    /// The kit is not enrolled with a backend yet.
    #[error("the kit is not enrolled: run `fieldkit enrol` first")]
    NotEnrolled,
    /// `enrol` on a kit that is already enrolled: refused before anything is sent,
    /// whatever a server would answer. A kit's chain belongs to the backend it enrolled
    /// with; to serve another backend, IT delivers everything and sets up a new kit.
    #[error("Dieses Kit ist bereits als {kit_id} bei {backend_url} angemeldet; eine erneute Anmeldung ist nicht möglich. Für einen anderen Server richtet die IT nach vollständiger Übertragung ein neues Kit ein. / This kit is already enrolled as {kit_id} with {backend_url}; it cannot enrol again. For another backend, IT delivers everything and sets up a new kit.")]
    AlreadyEnrolled {
        /// The kit's id at its backend.
        kit_id: String,
        /// The backend it is enrolled with.
        backend_url: String,
    },
    /// A draft, record or attachment that does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// An operation that does not fit the current state (e.g. finalizing twice).
    #[error("{0}")]
    Conflict(String),
    /// An attachment that the service does not accept.
    #[error("attachment refused: {0}")]
    AttachmentRefused(String),
    /// From the catalog crate (unknown service, no authority for the residence, …).
    #[error(transparent)]
    Catalog(#[from] fieldkit_catalog::CatalogError),
    /// From the protocol crate (a signature or format problem).
    #[error(transparent)]
    Protocol(#[from] sync_protocol::ProtocolError),
    /// A file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The backend could not be reached, or answered with something that is not a
    /// Fieldkit answer (a proxy, a captive portal).
    #[error("network: {0}")]
    Network(String),
    /// The backend refused the request.
    #[error("the backend refused ({status}): {detail}")]
    Backend {
        /// HTTP status.
        status: u16,
        /// Title and detail of the problem.
        detail: String,
        /// The full problem, when the body was one (boxed: errors stay small).
        problem: Option<Box<sync_protocol::api::Problem>>,
    },
    /// Another sync of this kit is running (in this or another process).
    #[error("another sync of this kit is running; wait for it to finish")]
    SyncInProgress,
    /// The sync was cancelled; everything done so far is kept and the next run resumes.
    #[error("sync cancelled; nothing is lost, the next sync continues")]
    Cancelled,
    /// No printout could be made (see [`crate::printout::PrintoutError`]); nothing was
    /// written.
    #[error(transparent)]
    Printout(#[from] crate::printout::PrintoutError),
    /// SQLite failed in a way none of the variants above covers.
    #[error("database error: {0}")]
    Database(rusqlite::Error),
}

fn summarize(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{} ({})", e.pointer, e.rule))
        .collect::<Vec<_>>()
        .join(", ")
}

impl KitError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| {
            if source.raw_os_error() == Some(28) {
                // ENOSPC
                Self::DiskFull
            } else if source.raw_os_error() == Some(30) {
                // EROFS
                Self::ReadOnly
            } else {
                Self::Io { context, source }
            }
        }
    }
}

impl From<rusqlite::Error> for KitError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => Self::DiskFull,
            Some(ErrorCode::ReadOnly) => Self::ReadOnly,
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                Self::Corrupted(e.to_string())
            }
            _ => Self::Database(e),
        }
    }
}
