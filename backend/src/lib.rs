//! `fieldkit-backend` receives what kits capture and serves the people who decide it:
//! the kit-facing sync API of `docs/PROTOCOL.md`, the admin commands for IT staff, and
//! storage (embedded SQLite by default, PostgreSQL for production), and the back-office
//! pages where reviewers open and decide the cases of their authority.
//!
//! # Map
//!
//! - [`config`]: the one typed configuration of `fieldkit-backend serve`.
//! - [`api`]: the HTTP layer: [`api::router`], request authentication, one module per
//!   endpoint group. Only this layer knows status codes ([`error`]).
//! - [`ingest`]: what happens to a pushed batch, record by record (§6.3), written once
//!   against a small transaction interface that both stores implement; [`routing`]:
//!   the catalog part of a record's acceptance.
//! - [`storage`]: the [`storage::Store`] trait and its SQLite and PostgreSQL
//!   implementations with their migrations; [`blobs`]: attachment bytes (the data
//!   folder, or S3-compatible object storage).
//! - [`keys`]: the master key and the server and authority keys sealed with it;
//!   [`codes`]: one-time enrolment codes; [`password`]: Argon2id for back-office users;
//!   [`login_throttle`]: who may have a password checked now.
//! - [`office`]: the back office under `/office`: sessions, CSRF, login throttling, the
//!   inbox, the case view (the only place a case is decrypted, each time logged) and the
//!   workflow; askama templates in `backend/templates/`.
//! - [`admin`]: what the admin commands do (the binary only parses and prints).
//! - [`server`]: TLS, graceful shutdown, TLS pins; [`state`]: what handlers share;
//!   [`metrics`]: Prometheus counters.
//!
//! # Boundaries
//!
//! - Depends on `sync-protocol` for every wire format, verification, receipt and request
//!   signature; never on `kit-core` (kit and backend meet only through the protocol).
//! - Reads the service catalog only through `fieldkit-catalog`.
//! - Stores sealed case payloads and attachment ciphertext as they arrive; only
//!   [`office`] opens a case, for a reviewer of the responsible authority, after logging
//!   the decryption.
//! - No correctness-relevant state lives only in process memory: chain heads, nonces,
//!   upload offsets and enrolment codes are in the database, so several processes can
//!   share one PostgreSQL database and one object store for attachment bytes.

pub mod admin;
pub mod api;
pub mod blobs;
pub mod codes;
pub mod config;
pub mod error;
pub mod held_import;
pub mod ingest;
pub mod keys;
pub mod login_throttle;
pub mod metrics;
pub mod model;
pub mod office;
pub mod password;
pub mod routing;
pub mod server;
pub mod state;
pub mod storage;
pub mod tls;

pub use sync_protocol as protocol;
