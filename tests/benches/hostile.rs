//! The cost of issue 14's hostile load for an honest kit: the same honest sync (N
//! records, each with a 200 KB scan) against a fresh backend of the profile it is built in (`cargo bench`: release) (embedded SQLite,
//! the short limits of `hostile::LIMITS`), once without and once under the attack
//! (`hostile::issue_14_plan`), in the same run. Prints the sync time and the backend's
//! peak RSS (`VmHWM` of the real process) for both, and the ratios.
//!
//! Run: `cargo bench -p fieldkit-e2e --bench hostile`
//! Knobs: `FIELDKIT_BENCH_RECORDS` (default 20), `FIELDKIT_BENCH_LOGIN_STORM` (`0` leaves
//! out the login storm).

#![allow(clippy::print_stdout)]

use fieldkit_e2e::harness::check::assert_exactly_once;
use fieldkit_e2e::hostile::{self, Plan};

fn with_logins(real: &str) -> Plan {
    hostile::issue_14_plan(true, real)
}

fn without_logins(real: &str) -> Plan {
    hostile::issue_14_plan(false, real)
}

fn main() {
    let records: usize = std::env::var("FIELDKIT_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let storm = std::env::var("FIELDKIT_BENCH_LOGIN_STORM").map_or(true, |v| v != "0");
    let plan: fn(&str) -> Plan = if storm { with_logins } else { without_logins };
    println!(
        "hostile-load benchmark: {records} records with a 200 KB scan each; attack: 60 \
         unfinished bodies, 20 header trickles, 10 silent connections{}",
        if storm {
            ", 120 made-up logins, 20 wrong passwords"
        } else {
            ""
        }
    );
    let quiet = hostile::run(None, records, 200_000, None);
    assert!(quiet.sync.status.success(), "the sync without attack");
    assert_exactly_once(&quiet.kit, &quiet.database, &quiet.data);
    let attacked = hostile::run(None, records, 200_000, Some(plan));
    assert!(attacked.sync.status.success(), "the sync under attack");
    assert_exactly_once(&attacked.kit, &attacked.database, &attacked.data);
    let mb = |b: u64| b as f64 / 1024.0 / 1024.0;
    let (t0, t1) = (
        quiet.sync_time.as_secs_f64(),
        attacked.sync_time.as_secs_f64(),
    );
    let (r0, r1) = (mb(quiet.peak_rss), mb(attacked.peak_rss));
    println!("                      without attack   under attack   ratio");
    println!(
        "honest sync time      {t0:>11.2} s  {t1:>11.2} s  {:>6.2}",
        t1 / t0
    );
    println!(
        "backend peak RSS      {r0:>10.1} MB  {r1:>10.1} MB  {:>6.2}",
        r1 / r0
    );
    if let Some(report) = attacked.attack {
        println!(
            "attack: {} body connections (longest {:?}), {} trickles (longest {:?}), \
             {} silent (longest {:?}), {} logins, {} wrong passwords",
            report.bodies.opened,
            report.bodies.longest,
            report.trickles.opened,
            report.trickles.longest,
            report.silent.opened,
            report.silent.longest,
            report.made_up_logins.opened,
            report.wrong_passwords.opened
        );
    }
}
