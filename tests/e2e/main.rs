//! End-to-end: the real backend (embedded SQLite, served on a loopback port) and a real
//! kit (SQLCipher store in a temp folder) talking the protocol over HTTP — enrolment
//! with the demo's one-time code and provisioning file, the signed catalog, capture,
//! delivery with a verified receipt, and the case in the right authority's inbox.

mod kit_and_backend;
