//! `fieldkit-backend` receives what kits capture and serves the people who decide it:
//! the kit-facing sync API of `docs/PROTOCOL.md`, the back-office pages, the admin CLI
//! for IT staff, and storage (embedded SQLite by default, PostgreSQL for production).
//!
//! # Boundaries
//!
//! - Depends on `sync-protocol` for every wire format and verification; never on
//!   `kit-core` (kit and backend meet only through the protocol).
//! - Only this crate's HTTP layer knows status codes.
//! - It stores sealed case payloads as they arrive and opens them only for an
//!   authorized reviewer of the responsible authority.
//!
//! The server arrives with the "Municipal backend" issue; until then this crate only
//! re-exports the protocol it implements.

pub use sync_protocol as protocol;
