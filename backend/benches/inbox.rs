//! Inbox benchmark: the inbox's page query at 10,000 and 1,000,000 cases of one
//! authority in the embedded store. Cases are bulk-inserted with raw SQL mirroring the
//! schema (records + cases in one transaction; the `case_counts` triggers run as in
//! production) — they need not decrypt, the inbox never opens them. Then the exact
//! store call the inbox handler makes (`Store::inbox_page`, with its counts) is timed
//! for the first and a deep keyset page (90 % in) under the status filter, and for a
//! first page under status + clerk, against a reference measured in the same run: the
//! case view's primary-key lookup (`Store::case_detail`). Prints p50/p95, the ratio
//! 1M/10k (target ≤ 2×) and `EXPLAIN QUERY PLAN` of the page and count statements.
//!
//! Run: `cargo bench -p fieldkit-backend --bench inbox`
//! Knobs: `FIELDKIT_BENCH_CASES` (default `10000,1000000`), `FIELDKIT_BENCH_ITERATIONS`
//! (default 300).

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use fieldkit_backend::storage::sqlite::SqliteStore;
use fieldkit_backend::storage::{InboxCursor, InboxFilter, InboxOrder, InboxQuery};
use rusqlite::params;
use sync_protocol::api::CaseStatus;
use sync_protocol::ids::{AuthorityId, RecordId};

const AUTHORITY: &str = "gemeinde-musterstadt";
const KITS: usize = 20;
const CLERKS: usize = 50;

fn env_sizes() -> Vec<usize> {
    std::env::var("FIELDKIT_BENCH_CASES")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![10_000, 1_000_000])
}

fn iterations() -> usize {
    std::env::var("FIELDKIT_BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

/// Status by position: 70 % received, the rest spread over the workflow.
fn status_of(i: usize) -> &'static str {
    match i % 20 {
        0..=13 => "received",
        14..=16 => "in_review",
        17 => "needs_information",
        18 => "approved",
        _ => "completed",
    }
}

/// Fills the database at `path` (already migrated) with `n` cases; returns the time.
fn fill(path: &std::path::Path, n: usize) -> Duration {
    let start = Instant::now();
    let mut c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch("PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF;")
        .unwrap();
    let tx = c.transaction().unwrap();
    let now = Utc::now().timestamp_millis();
    tx.execute(
        "INSERT INTO authorities (id, name, ars, kind, created_at)
         VALUES (?1, 'Gemeinde Musterstadt', '064320001001', 'gemeinde', ?2)",
        params![AUTHORITY, now],
    )
    .unwrap();
    let kits: Vec<String> = (0..KITS)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    for (i, kit) in kits.iter().enumerate() {
        tx.execute(
            "INSERT INTO kits (kit_id, authority_id, name, status, code_hash, code_expires_at,
                               created_at)
             VALUES (?1, ?2, ?3, 'active', ?4, ?5, ?5)",
            params![
                kit,
                AUTHORITY,
                format!("Koffer {i}"),
                vec![i as u8; 32],
                now
            ],
        )
        .unwrap();
    }
    {
        let mut record = tx
            .prepare(
                "INSERT INTO records (kit_id, seq, record_id, hash, envelope, outcome, log_position,
                     received_at, authority_id, form_id, form_version, kind)
                 VALUES (?1, ?2, ?3, ?4, X'7B7D', 'accepted', ?5, ?6, ?7, 'anmeldung', 1,
                         'application')",
            )
            .unwrap();
        let mut case = tx
            .prepare(
                "INSERT INTO cases (record_id, authority_id, status, updated_at, kit_id, form_id,
                                    received_at, clerk_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'anmeldung', ?4, ?6)",
            )
            .unwrap();
        let base = DateTime::parse_from_rfc3339("2026-01-05T08:00:00Z")
            .unwrap()
            .timestamp_millis();
        for i in 0..n {
            let kit = &kits[i % KITS];
            let seq = (i / KITS + 1) as i64;
            let id = uuid::Uuid::now_v7().to_string();
            // Batches of 100 share one received_at (one push), so ties are common.
            let received = base + (i / 100) as i64 * 60_000;
            let mut hash = [0u8; 32];
            hash[..8].copy_from_slice(&(i as u64).to_be_bytes());
            record
                .execute(params![
                    kit,
                    seq,
                    id,
                    hash.as_slice(),
                    i as i64 + 1,
                    received,
                    AUTHORITY
                ])
                .unwrap();
            case.execute(params![
                id,
                AUTHORITY,
                status_of(i),
                received,
                kit,
                format!("c-{}", i % CLERKS)
            ])
            .unwrap();
        }
    }
    tx.execute(
        "UPDATE counters SET value = ?1 WHERE name = 'log_position'",
        [n as i64],
    )
    .unwrap();
    tx.commit().unwrap();
    start.elapsed()
}

fn query(clerk: Option<&str>, after: Option<InboxCursor>) -> InboxQuery {
    InboxQuery {
        filter: InboxFilter {
            authority_id: AuthorityId::parse(AUTHORITY).unwrap(),
            form_id: None,
            status: Some(CaseStatus::Received),
            kit_id: None,
            received_from: None,
            received_before: None,
            clerk_id: clerk.map(str::to_owned),
            assignee: None,
            flagged: false,
        },
        order: InboxOrder::OldestFirst,
        after,
        limit: 50,
        with_counts: true,
    }
}

/// The cursor of the received case at `position` (outside the timing).
fn cursor_at(path: &std::path::Path, position: usize) -> InboxCursor {
    let c = rusqlite::Connection::open(path).unwrap();
    let (ms, id): (i64, String) = c
        .query_row(
            "SELECT received_at, record_id FROM cases WHERE authority_id = ?1 AND status = 'received'
             ORDER BY received_at, record_id LIMIT 1 OFFSET ?2",
            params![AUTHORITY, position as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    InboxCursor {
        received_at: DateTime::from_timestamp_millis(ms).unwrap(),
        record_id: id.parse().unwrap(),
    }
}

#[derive(Debug, Clone, Copy)]
struct Stats {
    p50: Duration,
    p95: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Stats {
        p50: at(0.50),
        p95: at(0.95),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

struct Run {
    cases: usize,
    first: Stats,
    deep: Stats,
    clerk: Stats,
    lookup: Stats,
}

async fn measure(n: usize, iterations: usize) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fieldkit.sqlite3");
    drop(SqliteStore::open(&path).await.unwrap());
    let filled = fill(&path, n);
    let store = SqliteStore::open(&path).await.unwrap();
    println!(
        "\n{n} cases: filled in {:.1} s ({:.0} cases/s)",
        filled.as_secs_f64(),
        n as f64 / filled.as_secs_f64()
    );
    let received = (0..n).filter(|i| status_of(*i) == "received").count();
    let deep_cursor = cursor_at(&path, received * 9 / 10);
    let first_q = query(None, None);
    let deep_q = query(None, Some(deep_cursor));
    let clerk_q = query(Some("c-7"), None);
    for (name, q) in [
        ("first page", &first_q),
        ("deep page", &deep_q),
        ("clerk", &clerk_q),
    ] {
        println!("  EXPLAIN QUERY PLAN ({name}):");
        for line in store.explain_inbox_page(q).await.unwrap() {
            println!("    {line}");
        }
    }
    let probe: RecordId = store.inbox_page(&deep_q).await.unwrap().cases[0].record_id;
    let mut samples: [Vec<Duration>; 4] = Default::default();
    for _ in 0..iterations {
        for (k, q) in [&first_q, &deep_q, &clerk_q].into_iter().enumerate() {
            let t = Instant::now();
            let page = store.inbox_page(q).await.unwrap();
            samples[k].push(t.elapsed());
            assert_eq!(page.cases.len(), 50);
        }
        let t = Instant::now();
        let found = store.case_detail(&probe).await.unwrap();
        samples[3].push(t.elapsed());
        assert!(found.is_some());
    }
    let [first, deep, clerk, lookup] = samples.map(stats);
    Run {
        cases: n,
        first,
        deep,
        clerk,
        lookup,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sizes = env_sizes();
    let iterations = iterations();
    println!(
        "inbox benchmark: sizes {sizes:?}, {iterations} iterations each, SQLite, one authority, \
         status filter `received` (70 % of cases), page of 50 with counts"
    );
    let mut runs = Vec::new();
    for n in sizes {
        runs.push(measure(n, iterations).await);
    }
    println!("\n| cases | first page p50 / p95 | deep page (90 %) p50 / p95 | + clerk filter p50 / p95 | PK lookup (reference) p50 / p95 |");
    println!("|---|---|---|---|---|");
    for r in &runs {
        println!(
            "| {} | {} / {} | {} / {} | {} / {} | {} / {} |",
            r.cases,
            ms(r.first.p50),
            ms(r.first.p95),
            ms(r.deep.p50),
            ms(r.deep.p95),
            ms(r.clerk.p50),
            ms(r.clerk.p95),
            ms(r.lookup.p50),
            ms(r.lookup.p95)
        );
    }
    if let (Some(small), Some(large)) = (runs.first(), runs.last()) {
        if large.cases > small.cases {
            let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
            println!(
                "\nratio {}/{} (p50): first page {:.2}x, deep page {:.2}x, clerk filter {:.2}x, \
                 PK lookup {:.2}x (target for the pages: <= 2x)",
                large.cases,
                small.cases,
                ratio(large.first.p50, small.first.p50),
                ratio(large.deep.p50, small.deep.p50),
                ratio(large.clerk.p50, small.clerk.p50),
                ratio(large.lookup.p50, small.lookup.p50),
            );
        }
    }
}
