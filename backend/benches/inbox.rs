//! Inbox benchmark: the inbox's page query at 10,000 and 1,000,000 cases of one
//! authority, in the embedded store and (when `FIELDKIT_TEST_DATABASE_URL` is set, in a
//! fresh schema) in PostgreSQL. Cases are bulk-inserted with raw SQL mirroring the
//! schema (500 rows per statement; the `case_counts` triggers run as in
//! production) — they need not decrypt, the inbox never opens them. Then the exact
//! store call the inbox handler makes (`Store::inbox_page`, with its counts) is timed
//! for the first and a deep keyset page (90 % in) under the status filter, and for a
//! first page under status + clerk, against a reference measured in the same run: the
//! case view's primary-key lookup (`Store::case_detail`). Prints p50/p95, the ratio
//! 1M/10k (target ≤ 2×) and the query plan of the page and count statements.
//!
//! Run: `cargo bench -p fieldkit-backend --bench inbox`
//! Knobs: `FIELDKIT_BENCH_CASES` (default `10000,1000000`), `FIELDKIT_BENCH_ITERATIONS`
//! (default 300).

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::{Duration, Instant};

#[path = "support/pg.rs"]
mod pg_schema;

use chrono::{DateTime, Utc};
use fieldkit_backend::config::DatabaseUrl;
use fieldkit_backend::storage::{self, InboxCursor, InboxFilter, InboxOrder, InboxQuery};
use sqlx::Row as _;
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

/// Rows per `INSERT` while filling.
const ROWS: usize = 500;

/// `($1, …, $columns), …` for `rows` rows, numbered through.
fn values(columns: usize, rows: usize) -> String {
    (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", marks.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Fills the (migrated) database at `url` with `n` cases, through sqlx with the same
/// `$N` statements on SQLite and PostgreSQL; returns the time.
async fn fill(url: &str, n: usize) -> Duration {
    let start = Instant::now();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    // One transaction per statement: PostgreSQL's `case_counts` trigger updates the same
    // few rows once per case, and within one transaction their versions pile up and each
    // update walks them (a million cases in one transaction takes hours).
    let db = &pool;
    let now = Utc::now().timestamp_millis();
    sqlx::query(
        "INSERT INTO authorities (id, name, ars, kind, created_at)
         VALUES ($1, 'Gemeinde Musterstadt', '064320001001', 'gemeinde', $2)",
    )
    .bind(AUTHORITY)
    .bind(now)
    .execute(db)
    .await
    .unwrap();
    let kits: Vec<String> = (0..KITS)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    for (i, kit) in kits.iter().enumerate() {
        sqlx::query(
            "INSERT INTO kits (kit_id, authority_id, name, status, code_hash, code_expires_at,
                               created_at)
             VALUES ($1, $2, $3, 'active', $4, $5, $5)",
        )
        .bind(kit.clone())
        .bind(AUTHORITY)
        .bind(format!("Koffer {i}"))
        .bind(vec![i as u8; 32])
        .bind(now)
        .execute(db)
        .await
        .unwrap();
    }
    let base = DateTime::parse_from_rfc3339("2026-01-05T08:00:00Z")
        .unwrap()
        .timestamp_millis();
    for first in (0..n).step_by(ROWS) {
        let rows: Vec<usize> = (first..n.min(first + ROWS)).collect();
        let ids: Vec<String> = rows
            .iter()
            .map(|_| uuid::Uuid::now_v7().to_string())
            .collect();
        // Batches of 100 share one received_at (one push), so ties are common.
        let received = |i: usize| base + (i / 100) as i64 * 60_000;
        let sql = format!(
            "INSERT INTO records (kit_id, seq, record_id, hash, envelope, outcome, log_position,
                 received_at, authority_id, form_id, form_version, kind, problem) VALUES {}",
            values(13, rows.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (i, id) in rows.iter().zip(&ids) {
            let mut hash = [0u8; 32];
            hash[..8].copy_from_slice(&(*i as u64).to_be_bytes());
            q = q
                .bind(kits[i % KITS].clone())
                .bind((i / KITS + 1) as i64)
                .bind(id.clone())
                .bind(hash.to_vec())
                .bind(b"{}".to_vec())
                .bind("accepted")
                .bind(*i as i64 + 1)
                .bind(received(*i))
                .bind(AUTHORITY)
                .bind("anmeldung")
                .bind(1_i64)
                .bind("application")
                .bind(None::<String>);
        }
        q.execute(db).await.unwrap();
        let sql = format!(
            "INSERT INTO cases (record_id, authority_id, status, updated_at, kit_id, form_id,
                 received_at, clerk_id) VALUES {}",
            values(8, rows.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (i, id) in rows.iter().zip(ids) {
            q = q
                .bind(id)
                .bind(AUTHORITY)
                .bind(status_of(*i))
                .bind(received(*i))
                .bind(kits[i % KITS].clone())
                .bind("anmeldung")
                .bind(received(*i))
                .bind(format!("c-{}", i % CLERKS));
        }
        q.execute(db).await.unwrap();
    }
    // What autovacuum does to a production database after such a load: the trigger
    // rewrote each `case_counts` row once per case, and fresh statistics decide the plans.
    let settle = if url.starts_with("sqlite:") {
        "ANALYZE"
    } else {
        "VACUUM ANALYZE"
    };
    sqlx::query(settle).execute(&pool).await.unwrap();
    pool.close().await;
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
async fn cursor_at(url: &str, position: usize) -> InboxCursor {
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let row = sqlx::query(
        "SELECT received_at, record_id FROM cases WHERE authority_id = $1 AND status = 'received'
         ORDER BY received_at, record_id LIMIT 1 OFFSET $2",
    )
    .bind(AUTHORITY)
    .bind(position as i64)
    .fetch_one(&pool)
    .await
    .unwrap();
    let (ms, id): (i64, String) = (row.get(0), row.get(1));
    pool.close().await;
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
    database: &'static str,
    cases: usize,
    first: Stats,
    deep: Stats,
    clerk: Stats,
    lookup: Stats,
}

async fn measure(pg: Option<&str>, n: usize, iterations: usize) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let (url, schema) = match pg {
        Some(base) => {
            let (url, name) = pg_schema::fresh_schema(base).await;
            (url, Some(name))
        }
        None => (
            format!("sqlite://{}", dir.path().join("fieldkit.sqlite3").display()),
            None,
        ),
    };
    let database = DatabaseUrl::parse(&url).unwrap();
    drop(storage::open(&database, 4).await.unwrap());
    let filled = fill(&url, n).await;
    let store = storage::open(&database, 4).await.unwrap();
    println!(
        "\n[{}] {n} cases: filled in {:.1} s ({:.0} cases/s)",
        store.kind(),
        filled.as_secs_f64(),
        n as f64 / filled.as_secs_f64()
    );
    let received = (0..n).filter(|i| status_of(*i) == "received").count();
    let deep_cursor = cursor_at(&url, received * 9 / 10).await;
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
    drop(store);
    if let (Some(base), Some(name)) = (pg, schema) {
        pg_schema::drop_schema(base, &name).await;
    }
    Run {
        database: if pg.is_some() { "postgresql" } else { "sqlite" },
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
    let pg = std::env::var("FIELDKIT_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    println!(
        "inbox benchmark: sizes {sizes:?}, {iterations} iterations each, SQLite{}, one \
         authority, status filter `received` (70 % of cases), page of 50 with counts",
        if pg.is_some() {
            " and PostgreSQL"
        } else {
            " (PostgreSQL skipped: FIELDKIT_TEST_DATABASE_URL is not set)"
        }
    );
    let mut databases = vec![None];
    if let Some(url) = pg.as_deref() {
        databases.push(Some(url));
    }
    for database in databases {
        let mut runs = Vec::new();
        for &n in &sizes {
            runs.push(measure(database, n, iterations).await);
        }
        report(&runs);
    }
}

fn report(runs: &[Run]) {
    println!("\n| database | cases | first page p50 / p95 | deep page (90 %) p50 / p95 | + clerk filter p50 / p95 | PK lookup (reference) p50 / p95 |");
    println!("|---|---|---|---|---|---|");
    for r in runs {
        println!(
            "| {} | {} | {} / {} | {} / {} | {} / {} | {} / {} |",
            r.database,
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
                "\n[{}] ratio {}/{} (p50): first page {:.2}x, deep page {:.2}x, clerk filter \
                 {:.2}x, PK lookup {:.2}x (target for the pages: <= 2x)",
                large.database,
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
