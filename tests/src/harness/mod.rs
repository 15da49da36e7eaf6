//! The harness of the sync fault tests and benchmarks: the real `fieldkit-backend` and
//! `fieldkit` binaries as child processes (so they can be killed with SIGKILL and
//! restarted), a kit driven through its library for fast setup, and the end-state check
//! every scenario ends with ([`check::assert_exactly_once`]).

pub mod app;
pub mod app_count;
pub mod app_flows;
pub mod app_screens;
pub mod backend;
pub mod bins;
pub mod browser;
pub mod check;
pub mod kit;
pub mod pg;
pub mod s3;
pub mod scenario;

/// The demo clerk's PIN (as `scripts/run.sh`).
pub const PIN: &str = "Rathaus am Markt";

/// A free TCP port on loopback (bound once and released; fine for tests).
///
/// # Panics
/// When loopback cannot be bound.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Copies the folder `from` into `to` (created), recursively: a catalog folder to edit
/// into the next version, a database backup.
///
/// # Panics
/// When a file cannot be read or written.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
