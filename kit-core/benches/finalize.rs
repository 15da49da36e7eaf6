//! Finalize latency for a two-person Anmeldung (~2 KB of form data, one attachment
//! already imported), against the same run's reference: a bare SQLCipher commit with
//! `synchronous = FULL` of the same number of bytes into the same kind of store. Run
//! with `cargo bench -p kit-core --bench finalize`; prints p50/p99 of both and the
//! ratio (target: finalize p50 ≤ 1.5 × reference p50).
#![allow(clippy::print_stdout, missing_docs)]

#[path = "../tests/it/support.rs"]
#[allow(dead_code)]
mod support;

use std::time::{Duration, Instant};

use rusqlite::params;

const ROUNDS: usize = 300;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn main() {
    let f = support::enrolled_kit();
    let mut session = f.unlock();
    let data = support::anmeldung();
    println!("form data: {} bytes (two persons)", data.to_string().len());

    // The reference store: same SQLCipher settings, a table of blobs.
    let ref_dir = tempfile::tempdir().expect("temp");
    let ref_conn = kit_core::store::open(&ref_dir.path().join("ref.db"), &[3u8; 32], true)
        .expect("reference store");
    ref_conn
        .execute_batch("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        .expect("table");

    let mut finalize = Vec::with_capacity(ROUNDS);
    let mut reference = Vec::with_capacity(ROUNDS);
    let mut record_bytes = 0;
    for _ in 0..ROUNDS {
        let draft = session.create_draft("anmeldung", &data).expect("draft");
        session
            .attach(
                &draft,
                "signed-printout",
                "application/pdf",
                support::printout().as_slice(),
            )
            .expect("attach");
        let started = Instant::now();
        session.finalize(&draft).expect("finalize");
        finalize.push(started.elapsed());
        if record_bytes == 0 {
            record_bytes = session.pending_records(1).expect("pending")[0]
                .envelope
                .to_json()
                .len();
        }

        let body = vec![0x5au8; record_bytes];
        let started = Instant::now();
        ref_conn
            .execute("INSERT INTO blobs (body) VALUES (?1)", params![body])
            .expect("insert");
        reference.push(started.elapsed());
    }
    finalize.sort();
    reference.sort();
    let (f50, f99) = (percentile(&finalize, 0.5), percentile(&finalize, 0.99));
    let (r50, r99) = (percentile(&reference, 0.5), percentile(&reference, 0.99));
    println!("record envelope: {record_bytes} bytes, {ROUNDS} rounds");
    println!("reference (bare SQLCipher FULL commit): p50 {r50:?}  p99 {r99:?}");
    println!("finalize (validate, route, seal, sign, chain, commit): p50 {f50:?}  p99 {f99:?}");
    println!(
        "ratio p50 {:.2}x  p99 {:.2}x  (target p50 <= 1.5x)",
        f50.as_secs_f64() / r50.as_secs_f64(),
        f99.as_secs_f64() / r99.as_secs_f64()
    );
}
