//! The sync engine over bad links and failing processes (issue: Sync engine). Every
//! scenario ends with the same check: every finalized record on the backend exactly
//! once, every stored receipt verifying, every attachment's bytes hashing to the signed
//! manifest, the kit's chain intact.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fieldkit_e2e::captive_portal::CaptivePortal;
use fieldkit_e2e::fault_proxy::Faults;
use fieldkit_e2e::harness::scenario::Scenario;
use kit_core::RecordState;

/// Exit code of `fieldkit sync` when it did not finish (the queue is kept).
const INCOMPLETE: i32 = 5;

fn json_lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line of --json is JSON"))
        .collect()
}

fn report(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "sync failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(out);
    let last = lines.last().expect("a report line");
    assert_eq!(last["event"], "report");
    last["report"].clone()
}

#[test]
fn a_clean_link_delivers_everything_once_and_a_second_sync_has_nothing_to_do() {
    let s = Scenario::new();
    s.kit.capture(5, 100_000);
    let out = s.kit.sync(None, &[]);
    let first = report(&out);
    assert_eq!(first["delivered"], 5);
    assert_eq!(first["attachments_uploaded"], 10);
    let events = json_lines(&out);
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "bytes" && e["sent"] == e["total"]),
        "progress reaches the total"
    );
    let second = report(&s.kit.sync(None, &[]));
    assert_eq!(second["delivered"], 0);
    assert_eq!(second["bytes_uploaded"], 0);
    let settled = s.check();
    assert_eq!((settled.records, settled.attachments), (5, 10));
}

#[test]
fn a_captive_portals_200_is_never_a_delivery() {
    let s = Scenario::new();
    s.kit.capture(3, 20_000);
    let portal = CaptivePortal::start().expect("portal");
    let out = s.kit.sync(Some(&portal.url()), &["--retry-for", "2"]);
    assert_eq!(
        out.status.code(),
        Some(INCOMPLETE),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(portal.requests() >= 2, "the kit retried against the portal");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("captive portal"),
        "the retries say why"
    );
    assert!(
        s.states().iter().all(|st| *st == RecordState::Pending),
        "nothing was marked delivered by the portal's 200"
    );
    report(&s.kit.sync(None, &[]));
    s.check();
}

#[test]
fn a_proxys_413_page_never_rejects_a_record() {
    let s = Scenario::new();
    s.kit.capture(1, 1_000);
    // A reverse proxy's HTML "413 Request Entity Too Large", not the backend's problem
    // (here for every request, so the run stops at the handshake already).
    let proxy_page = CaptivePortal::start_with_status(413).expect("proxy page");
    let out = s.kit.sync(Some(&proxy_page.url()), &[]);
    assert!(!out.status.success());
    assert_eq!(s.states(), vec![RecordState::Pending], "kept, not rejected");
    report(&s.kit.sync(None, &[]));
    s.check();
}

#[test]
fn a_reset_in_the_middle_of_a_batch_is_retried_into_exactly_once() {
    let s = Scenario::new();
    s.kit.capture(30, 1_000);
    let proxy = &s.proxy;
    // The batch of 30 records is ~150 KB: cut it after 60 KB, once.
    proxy.set_faults(Faults {
        reset_after_upstream_bytes: Some(60_000),
        ..Faults::default()
    });
    let r = report(&s.kit.sync(None, &[]));
    assert!(proxy.stats().resets >= 1, "the reset happened");
    assert!(r["retries"].as_u64().expect("retries") >= 1);
    assert_eq!(r["delivered"], 30);
    s.check();
}

#[test]
fn lost_answers_are_repaired_by_the_original_receipts() {
    let s = Scenario::new();
    s.kit.capture(10, 1_000);
    let proxy = &s.proxy;
    // Every answer is cut after its first 200 bytes: the backend stores the batch, the
    // kit never sees a receipt.
    proxy.set_faults(Faults {
        truncate_responses_after: Some(200),
        ..Faults::default()
    });
    let out = s.kit.sync(None, &["--retry-for", "2"]);
    assert_eq!(out.status.code(), Some(INCOMPLETE));
    assert!(s.states().iter().all(|st| *st == RecordState::Pending));
    // The link heals: the same batch again gets `duplicate` with the original receipts.
    proxy.set_faults(Faults::default());
    let r = report(&s.kit.sync(None, &[]));
    assert_eq!(r["delivered"], 10);
    s.check();
}

#[test]
fn resets_in_the_middle_of_attachments_resume_at_the_servers_offset() {
    let s = Scenario::new();
    s.kit.capture(3, 3_000_000);
    let proxy = &s.proxy;
    proxy.reset_stats();
    proxy.set_faults(Faults {
        reset_every_upstream_bytes: Some(1_500_000),
        ..Faults::default()
    });
    let r = report(&s.kit.sync(None, &["--chunk-kib", "256"]));
    let stats = proxy.stats();
    assert!(stats.resets >= 4, "{stats:?}");
    let payload = r["bytes_uploaded"].as_u64().expect("bytes");
    assert!(payload >= 9_000_000);
    // Resumed, not restarted: the bytes resent per reset stay within one chunk plus the
    // requests' own overhead.
    let resent = stats.upstream_bytes.saturating_sub(payload);
    assert!(
        resent / stats.resets <= 256 * 1024 + 64 * 1024,
        "{resent} bytes resent over {} resets",
        stats.resets
    );
    s.check();
}

#[test]
fn a_backend_killed_and_restarted_mid_sync_loses_nothing() {
    let mut s = Scenario::new();
    s.kit.capture(8, 1_000_000);
    let proxy = &s.proxy;
    // 1 MB/s: the uploads take ~8 s, the kill lands in the middle.
    proxy.set_faults(Faults {
        bandwidth_bytes_per_sec: Some(1_000_000),
        ..Faults::default()
    });
    let child = s
        .kit
        .cli()
        .args(["--json", "sync", "--backoff-ms", "50", "--retry-for", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sync starts");
    std::thread::sleep(Duration::from_secs(3));
    s.backend.kill9();
    std::thread::sleep(Duration::from_millis(500));
    s.backend.restart();
    let out = child.wait_with_output().expect("sync ends");
    let r = report(&out);
    assert!(
        r["retries"].as_u64().expect("retries") >= 1,
        "the kill was noticed"
    );
    s.check();
}

#[test]
fn the_same_batch_twice_is_stored_once() {
    let s = Scenario::new();
    s.kit.capture(4, 1_000);
    {
        // Push the batch behind the engine's back, as a sync whose answer was lost.
        let session = s.kit.session();
        let client = session.backend().expect("client");
        let pending = session.pending_records(10).expect("pending");
        let body = serde_json::to_vec(&kit_core::protocol::api::PushBatch {
            envelopes: pending.iter().map(|p| p.envelope.clone()).collect(),
        })
        .expect("json");
        for _ in 0..2 {
            let answer: kit_core::protocol::api::PushBatchResponse = client
                .post_signed(&session, "/v1/records", body.clone())
                .expect("push");
            assert_eq!(answer.results.len(), 4);
        }
    }
    let r = report(&s.kit.sync(None, &[]));
    assert_eq!(r["delivered"], 4, "the receipts came back as duplicates");
    s.check();
}

#[test]
fn a_second_sync_of_the_same_kit_waits_for_the_first() {
    let s = Scenario::new();
    s.kit.capture(2, 500_000);
    let proxy = &s.proxy;
    proxy.set_faults(Faults {
        bandwidth_bytes_per_sec: Some(200_000),
        ..Faults::default()
    });
    let mut first = s
        .kit
        .cli()
        .args(["--json", "sync"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("first sync");
    std::thread::sleep(Duration::from_millis(1500));
    let second = s.kit.sync(None, &[]);
    assert_eq!(second.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("another sync"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(first.wait().expect("first ends").success());
    s.check();
}

#[test]
fn a_kit_killed_at_random_points_a_hundred_times_still_delivers_exactly_once() {
    let s = Scenario::new();
    s.kit.capture(10, 200_000);
    let proxy = &s.proxy;
    // Slow enough that a sync lasts a few seconds and the kills land in every phase.
    proxy.set_faults(Faults {
        bandwidth_bytes_per_sec: Some(600_000),
        ..Faults::default()
    });
    let mut killed_running = 0;
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for i in 0..100 {
        if i % 4 == 3 {
            // New work keeps arriving, as on a real day.
            s.kit.capture(2, 300_000);
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(150 + seed % 900);
        let mut child = s
            .kit
            .cli()
            .args(["--json", "sync", "--backoff-ms", "20"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sync starts");
        let started = Instant::now();
        while started.elapsed() < delay {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if child.try_wait().expect("wait").is_none() {
            // SIGKILL: no destructor, no rollback handler — only what is durable counts.
            Command::new("kill")
                .args(["-KILL", &child.id().to_string()])
                .status()
                .expect("kill");
            killed_running += 1;
        }
        let _ = child.wait();
    }
    assert!(
        killed_running >= 50,
        "only {killed_running} kills hit a running sync"
    );
    proxy.set_faults(Faults::default());
    report(&s.kit.sync(None, &[]));
    let settled = s.check();
    assert_eq!(settled.records, 60);
    drop(s.dir);
}
