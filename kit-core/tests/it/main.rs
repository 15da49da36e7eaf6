//! Integration tests of kit-core: the library through its public API on real SQLCipher
//! stores in temp folders, and the `fieldkit` binary as scripts use it (including
//! SIGKILL during finalize and a full disk).

mod answer;
mod capture;
mod cli;
mod enrol_once;
mod held_export;
mod names;
mod outbox;
mod pins;
mod printout;
mod retention;
mod signed_printout;
mod store;
mod support;
#[cfg(all(target_os = "linux", feature = "tpm"))]
mod tpm;
