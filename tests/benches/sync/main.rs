//! Sync engine benchmarks (issue: Sync engine), each printed beside a reference measured
//! in the same run, with the ratio, the target and whether it was met:
//!
//! - **(a) throughput.** N queued records (default 20,000; each a finalized Anmeldung
//!   with its two required attachments kept tiny) synced end to end by
//!   `kit_core::sync::sync` in this process, with default options, through a
//!   pass-through fault proxy to the release backend (embedded SQLite) → records/s for
//!   the whole run and for the push phase alone, each as a ratio to the single-core
//!   ed25519 `verify_strict` rate over the same records' signed messages
//!   (target ≥ 0.5). Also prints the time and CPU split per phase (kit, backend, proxy).
//! - **(b) attachments over a bad link.** 20 records with one incompressible 2 MB scan
//!   each, through the proxy at 500,000 B/s (4 Mbit/s) with a TCP reset every
//!   3,000,000 upstream bytes, default options (1 MiB chunks, 1 s first backoff
//!   ceiling) → goodput of the upload phase / link rate (target ≥ 0.85) and bytes
//!   resent per reset (target ≤ one chunk). Reference: the same upload at the same
//!   rate without resets, which also measures the requests' own bytes.
//! - **(c) memory.** `fieldkit --json sync` (the CLI, a child process) syncing the same
//!   N records as (a) — kit and backend folders are copied before (a) runs → the kit's
//!   peak RSS (`VmHWM`, polled every 2 ms; target ≤ 100 MB), beside the peak of
//!   `fieldkit --json status` on the same kit (unlock only: Argon2id's 64 MiB).
//!
//! - **(d) a day at link speed.** 16 records with two 400 KB attachments each through
//!   8 Mbit/s and 80 ms round trip → the sync's wall time / the link's time for the bytes
//!   sent (target ≤ 1.15; issue 16 item 5).
//!
//! Filling the kit is timed and printed but not part of any figure.
//!
//! Run: `cargo bench -p fieldkit-e2e --bench sync`
//! Knobs: `FIELDKIT_BENCH_RECORDS` (default 20000) for (a) and (c),
//! `FIELDKIT_BENCH_ATTACHMENTS` (default 20) for (b), `FIELDKIT_BENCH_ONLY` (any of the
//! letters `abcd`, default all).
//!
//! Linux only: CPU times and RSS come from `/proc` (CPU times in `USER_HZ` = 100 ticks
//! per second).

#![allow(clippy::print_stdout)]

mod day;
mod link;
mod measure;
mod throughput;

use day::bench_d;
use link::bench_b;
use throughput::bench_a_and_c;

use std::fs::File;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ed25519_dalek::Signature;
use fieldkit_e2e::fault_proxy::{FaultProxy, Faults, Stats};
use fieldkit_e2e::harness::backend::BackendProcess;
use fieldkit_e2e::harness::check::assert_exactly_once;
use fieldkit_e2e::harness::free_port;
use fieldkit_e2e::harness::kit::{anmeldung, capture_in, scan, TestKit};
use fieldkit_e2e::harness::scenario::Scenario;
use kit_core::sync::{self, CancelToken, Phase, SyncEvent, SyncOptions, SyncReport};
use kit_core::Session;

pub(crate) const COMMAND: &str = "cargo bench -p fieldkit-e2e --bench sync";
/// (b)'s link: 4 Mbit/s.
pub(crate) const LINK_RATE: u64 = 500_000;
/// (b)'s resets.
pub(crate) const RESET_EVERY: u64 = 3_000_000;
/// (b)'s scan size.
pub(crate) const SCAN_BYTES: usize = 2_000_000;
/// (a)/(c)'s tiny signed printout.
pub(crate) const PRINTOUT_BYTES: usize = 1_024;
pub(crate) const LANDLORD: &[u8] = b"%PDF-1.7 Wohnungsgeberbestaetigung";
/// (c)'s target, read strictly as 100 × 10^6 bytes.
pub(crate) const RSS_TARGET_BYTES: u64 = 100_000_000;
/// `USER_HZ`: the unit of the CPU times in `/proc/<pid>/stat`.
pub(crate) const TICKS_PER_SEC: f64 = 100.0;

pub(crate) fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

pub(crate) fn verdict(met: bool) -> &'static str {
    if met {
        "MET"
    } else {
        "MISSED"
    }
}

pub(crate) fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

pub(crate) fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// The machine's load (other work on it skews every figure here).
pub(crate) fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

// ---------------------------------------------------------------------------------------
// Setup

/// Finalizes `n` Anmeldungen with tiny attachments in one session.
pub(crate) fn fill(session: &mut Session, n: usize) -> Duration {
    let data = anmeldung();
    let printout = scan(PRINTOUT_BYTES, 1);
    let started = Instant::now();
    for i in 0..n {
        let draft = session.create_draft("anmeldung", &data).expect("draft");
        session
            .attach(&draft, "signed-printout", "application/pdf", &printout[..])
            .expect("printout");
        session
            .attach(&draft, "landlord-confirmation", "application/pdf", LANDLORD)
            .expect("landlord confirmation");
        session.finalize(&draft).expect("finalize");
        if (i + 1) % 2_000 == 0 {
            eprintln!(
                "  filling: {}/{n} after {:.0} s",
                i + 1,
                secs(started.elapsed())
            );
        }
    }
    started.elapsed()
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("snapshot dir");
    // The folder's own mode too: a kit refuses to open a folder others may read.
    let mode = std::fs::metadata(from).expect("metadata").permissions();
    std::fs::set_permissions(to, mode).expect("folder mode");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let kind = entry.file_type().expect("file type");
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

// ---------------------------------------------------------------------------------------
// The reference

/// Single-core ed25519 `verify_strict` over the PAE messages of up to 1,000 of the
/// kit's pending records with their real signatures, per second; and the mean message
/// size.
pub(crate) fn verify_strict_rate(session: &Session) -> (f64, usize) {
    let key = session.kit_public_key();
    let messages: Vec<(Vec<u8>, Signature)> = session
        .pending_records(1_000)
        .expect("pending records")
        .iter()
        .map(|p| {
            let env = &p.envelope;
            let payload = sync_protocol::b64::decode("payload", &env.payload).expect("payload");
            let sig = sync_protocol::b64::decode("sig", &env.signatures[0].sig).expect("sig");
            (
                sync_protocol::dsse::pae(&env.payload_type, &payload),
                Signature::from_slice(&sig).expect("64-byte signature"),
            )
        })
        .collect();
    assert!(!messages.is_empty(), "records to verify");
    let mean = messages.iter().map(|(m, _)| m.len()).sum::<usize>() / messages.len();
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < Duration::from_secs(2) {
        for (m, s) in &messages {
            key.verify_strict(m, s)
                .expect("the kit's signature verifies");
            n += 1;
        }
    }
    (n as f64 / secs(started.elapsed()), mean)
}

// ---------------------------------------------------------------------------------------
// CPU times from /proc

fn main() {
    let started = Instant::now();
    let n = env_usize("FIELDKIT_BENCH_RECORDS", 20_000).max(1);
    let k = env_usize("FIELDKIT_BENCH_ATTACHMENTS", 20).max(1);
    let only = std::env::var("FIELDKIT_BENCH_ONLY").unwrap_or_else(|_| "abcd".into());
    println!(
        "sync benchmarks: {} cores; records {n}, attachments {k}",
        std::thread::available_parallelism().map_or(1, |c| c.get())
    );
    // (b) first: it is short, and its figures do not wait for the long runs.
    if only.contains('b') {
        bench_b(k);
    }
    if only.contains('d') {
        bench_d();
    }
    if only.contains('a') || only.contains('c') {
        bench_a_and_c(n, only.contains('a'), only.contains('c'));
    }
    println!();
    println!(
        "all benchmarks done in {:.0} s ({COMMAND})",
        secs(started.elapsed())
    );
}
