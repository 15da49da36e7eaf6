//! End-to-end: the real backend (embedded SQLite, served on a loopback port) and a real
//! kit (SQLCipher store in a temp folder) talking the protocol over HTTP — enrolment
//! with the demo's one-time code and provisioning file, the signed catalog, capture,
//! delivery with a verified receipt, and the case in the right authority's inbox; and
//! the sync engine under faults (`sync_faults`): resets, truncated answers, captive
//! portals, a killed backend, a kit killed a hundred times, two backend nodes on one
//! PostgreSQL database; and an honest sync under a hostile load (`hostile_load`).

mod backup_restore;
mod catalog_change;
mod enrol_once;
mod held_records;
mod hostile_load;
mod kit_and_backend;
mod operations_guide;
mod revocation;
mod sync_auto;
mod sync_changes;
mod sync_faults;
mod sync_trust;
mod sync_two_nodes;
