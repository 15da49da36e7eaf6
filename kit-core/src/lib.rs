//! `kit-core` is everything a Fieldkit kit does without a GUI, so that the desktop app,
//! the `fieldkit` CLI and the tests all drive the same code: the encrypted local store,
//! the kit key and clerks, the service catalog and form validation, capture of sealed and
//! signed records, the outbox, the sync engine and retention.
//!
//! # Boundaries
//!
//! - Depends on `sync-protocol` for every wire format and cryptographic construction;
//!   it never defines its own.
//! - Never depends on `fieldkit-backend` (kit and backend meet only through the
//!   protocol), on Tauri or any GUI toolkit, or on HTTP *server* crates.
//! - Sync planning is a pure function; the I/O that carries it out lives beside it.
//!
//! The store, capture and CLI arrive with the "Kit core" issue, the sync engine with the
//! "Sync engine" issue; until then this crate only re-exports the protocol it builds on.

pub use sync_protocol as protocol;
