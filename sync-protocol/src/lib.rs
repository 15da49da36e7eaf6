//! `sync-protocol` is the contract between a Fieldkit kit and the municipal backend:
//! the record model, the DSSE-signed envelope, the per-kit hash chain, HPKE sealing of
//! case payloads, chunked encryption of attachments, server-signed receipts, kit request
//! signatures (RFC 9421) and the JSON bodies of the kit-facing HTTP API.
//!
//! `docs/PROTOCOL.md` is the normative description; this crate is its reference
//! implementation and `test-vectors/` pins both together.
//!
//! # What this crate must never depend on
//!
//! It is pure: no I/O, no async runtime, no database, no HTTP client or server
//! (no tokio, reqwest, rusqlite, axum — a test in `tests/` enforces this). Every function
//! takes bytes or values and returns values or a [`ProtocolError`]; randomness comes in
//! through an explicit `rand_core` RNG so that every construction can be made
//! deterministic for the test vectors. Nothing here panics on any input.

pub mod api;
pub mod attachment;
pub mod b64;
pub mod chain;
pub mod change;
pub mod codes;
pub mod dsse;
mod error;
pub mod file_name;
pub mod held;
pub mod httpsig;
pub mod ids;
pub mod receipt;
pub mod record;
pub mod seal;
mod time;

pub use error::ProtocolError;

/// The protocol version this build speaks. It travels in the `Fieldkit-Protocol` header
/// of every request. Version 2 signs every change of the changes feed (PROTOCOL.md §6.5)
/// and adds the server-key and TLS-pin rollovers.
pub const PROTOCOL_VERSION: u32 = 2;

/// Protocol versions a backend built from this crate accepts: the current one and the
/// previous one (PROTOCOL.md §6.8).
pub const SUPPORTED_PROTOCOL_VERSIONS: &[u32] = &[1, 2];

/// The `v` of records, receipts and enrolment requests, and the version in their
/// `payloadType`s: their formats have not changed since protocol version 1, and a signed
/// payload keeps the version it was signed under (PROTOCOL.md §1.2).
pub const PAYLOAD_VERSION: u32 = 1;

/// Name of the HTTP header that carries the protocol version.
pub const PROTOCOL_HEADER: &str = "fieldkit-protocol";
