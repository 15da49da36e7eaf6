//! `kit-core` is everything a Fieldkit kit does without a GUI, so that the desktop app,
//! the `fieldkit` CLI and the tests all drive the same code: the encrypted local store,
//! the kit key and clerks, the installed service catalog, capture of sealed and signed
//! records, the outbox, retention, and the sync engine ([`sync`]).
//!
//! Start with [`Kit`] (a kit folder): `init` it once, `unlock` it with a clerk's PIN to
//! get a [`Session`], and work through the session's methods (drafts, attachments,
//! finalize, outbox, purge, the signed [`printout`]). Dropping the session locks the kit.
//!
//! # Boundaries
//!
//! - Depends on `sync-protocol` for every wire format and cryptographic construction and
//!   on `fieldkit-catalog` for forms and routing; it defines neither.
//! - Never depends on `fieldkit-backend` (kit and backend meet only through the
//!   protocol), on Tauri or any GUI toolkit, or on HTTP *server* crates.
//! - Sync planning is a pure function; the I/O that carries it out lives beside it.

mod capture;
mod catalog;
pub use sync_protocol::codes;
mod enrolment;
mod error;
mod held_export;
pub mod home;
pub mod keyslots;
mod kit;
pub mod net;
mod outbox;
pub mod printout;
mod retention;
pub mod store;
pub mod sync;
pub mod tpm;
pub mod trust;

pub use capture::{
    AttachmentInfo, DraftCheck, DraftSummary, Finalized, SignedPrintout, MAX_ANSWER_CHARS,
    MAX_REASON_CHARS, SIGNED_PRINTOUT_FILE_NAME,
};
pub use catalog::compare_versions;
pub use enrolment::Enrolment;
pub use error::KitError;
pub use fieldkit_catalog;
pub use held_export::{HeldExport, ItLogEntry};
pub use kit::{clerk_id_from_name, Clerk, Initialized, Kit, Session};
pub use outbox::{
    ChainReport, PendingRecord, PendingUpload, RecordAttachment, RecordState, RecordSummary, Status,
};
pub use printout::PrintoutOptions;
pub use retention::{PurgeReport, DEFAULT_RETENTION_DAYS};
pub use sync_protocol as protocol;
pub use sync_protocol::api::Provisioning;
