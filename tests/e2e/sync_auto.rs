//! Auto-sync: the loop notices the backend is unreachable (refused connections, a
//! captive portal's 200) by probing the backend itself, syncs as soon as it answers,
//! syncs on demand, and stops at once when asked — also in the middle of a slow upload.
//! Connectivity is honest: a backend that goes away is noticed within one probe
//! interval, and "sync now" while offline is answered within one probe's time limit
//! with the time of the next attempt.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use fieldkit_e2e::fault_proxy::Faults;
use fieldkit_e2e::harness::kit::capture_in;
use fieldkit_e2e::harness::scenario::Scenario;
use kit_core::sync::auto::{AutoSync, AutoSyncEvent, AutoSyncOptions};
use kit_core::sync::BackoffPolicy;
use kit_core::RecordState;

fn options() -> AutoSyncOptions {
    AutoSyncOptions {
        interval: Duration::from_secs(30),
        probe_backoff: BackoffPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(300),
        },
        probe_timeout: Duration::from_secs(2),
        ..AutoSyncOptions::default()
    }
}

fn wait_for(
    events: &mpsc::Receiver<AutoSyncEvent>,
    what: &str,
    pred: impl Fn(&AutoSyncEvent) -> bool,
) -> AutoSyncEvent {
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match events.recv_timeout(left) {
            Ok(e) if pred(&e) => return e,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("no {what} event within 30 s");
}

#[test]
fn auto_sync_waits_for_the_backend_then_delivers_and_stops_on_request() {
    let scenario = Scenario::new();
    let (proxy, kit) = (&scenario.proxy, &scenario.kit);

    // The basement: connections are refused.
    proxy.set_faults(Faults {
        refuse_connections: true,
        ..Faults::default()
    });
    // The clerk's session and the loop's own (a second connection to the same store).
    let mut session = kit.session();
    let client = session.backend().expect("client");
    capture_in(&mut session, 2, 50_000);
    let (tx, events) = mpsc::channel();
    let auto = AutoSync::spawn(
        session.reopen().expect("reopen"),
        client,
        options(),
        move |e| {
            let _ = tx.send(e.clone());
        },
    );
    wait_for(&events, "offline", |e| {
        matches!(e, AutoSyncEvent::Offline { .. })
    });
    assert_eq!(
        session
            .records(Some(RecordState::Pending), 10)
            .expect("records")
            .len(),
        2,
        "nothing is sent while offline"
    );

    // Back upstairs: the next probe finds the backend and the loop syncs.
    proxy.set_faults(Faults::default());
    wait_for(&events, "online", |e| {
        matches!(e, AutoSyncEvent::Online { .. })
    });
    let finished = wait_for(&events, "finished", |e| {
        matches!(e, AutoSyncEvent::Finished { .. })
    });
    let AutoSyncEvent::Finished { report } = finished else {
        unreachable!("matched above")
    };
    assert_eq!(report.delivered, 2);
    assert_eq!(report.attachments_uploaded, 4);

    // A new application and "sync now": delivered without waiting for the interval.
    capture_in(&mut session, 1, 1_000);
    auto.sync_now();
    let finished = wait_for(&events, "finished", |e| {
        matches!(e, AutoSyncEvent::Finished { .. })
    });
    let AutoSyncEvent::Finished { report } = finished else {
        unreachable!("matched above")
    };
    assert_eq!(report.delivered, 1);

    // Stop in the middle of a slow upload: the loop ends promptly, nothing is lost.
    proxy.set_faults(Faults {
        bandwidth_bytes_per_sec: Some(50_000),
        ..Faults::default()
    });
    capture_in(&mut session, 1, 2_000_000);
    auto.sync_now();
    wait_for(
        &events,
        "upload",
        |e| matches!(e, AutoSyncEvent::Sync { inner: kit_core::sync::SyncEvent::Bytes { sent, .. } } if *sent > 0),
    );
    let stopping = Instant::now();
    auto.stop();
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "stopped in {:?}",
        stopping.elapsed()
    );
    assert_eq!(
        session.status().expect("status").delivered,
        1,
        "the record stays delivered, upload open"
    );
}

#[test]
fn a_captive_portal_does_not_count_as_online() {
    let scenario = Scenario::new();
    let kit = &scenario.kit;
    let portal = fieldkit_e2e::captive_portal::CaptivePortal::start().expect("portal");
    let session = kit.session();
    let client = kit_core::net::Backend::new(&portal.url(), None).expect("client");
    let (tx, events) = mpsc::channel();
    let auto = AutoSync::spawn(session, client, options(), move |e| {
        let _ = tx.send(e.clone());
    });
    let offline = wait_for(&events, "offline", |e| {
        matches!(e, AutoSyncEvent::Offline { .. })
    });
    assert!(
        format!("{offline:?}").contains("captive portal"),
        "{offline:?}"
    );
    std::thread::sleep(Duration::from_millis(800));
    assert!(portal.requests() >= 2, "it keeps probing");
    assert!(
        events.try_iter().all(|e| !matches!(
            e,
            AutoSyncEvent::Online { .. } | AutoSyncEvent::Finished { .. }
        )),
        "never online behind the portal"
    );
    auto.stop();
}

#[test]
fn a_vanished_backend_is_noticed_within_a_probe_and_sync_now_offline_answers_in_time() {
    let scenario = Scenario::new();
    let (proxy, kit) = (&scenario.proxy, &scenario.kit);
    let session = kit.session();
    let client = session.backend().expect("client");
    let probe_interval = Duration::from_millis(500);
    let probe_timeout = Duration::from_secs(2);
    let (tx, events) = mpsc::channel();
    let auto = AutoSync::spawn(
        session,
        client,
        AutoSyncOptions {
            interval: Duration::from_secs(600),
            probe_interval,
            probe_timeout,
            // Long: only "sync now" makes the next probe come soon.
            probe_backoff: BackoffPolicy {
                base: Duration::from_secs(60),
                cap: Duration::from_secs(60),
            },
            ..AutoSyncOptions::default()
        },
        move |e| {
            let _ = tx.send(e.clone());
        },
    );
    wait_for(&events, "finished", |e| {
        matches!(e, AutoSyncEvent::Finished { .. })
    });
    // Between syncs the loop keeps probing: online is never older than the interval.
    let AutoSyncEvent::Online { checked_at: first } = wait_for(&events, "online", |e| {
        matches!(e, AutoSyncEvent::Online { .. })
    }) else {
        unreachable!("matched above")
    };
    let AutoSyncEvent::Online { checked_at: second } = wait_for(&events, "online", |e| {
        matches!(e, AutoSyncEvent::Online { .. })
    }) else {
        unreachable!("matched above")
    };
    assert!(second > first, "each probe reports its own time");

    // The backend goes away (the proxy swallows requests without answering).
    proxy.set_faults(Faults {
        stall: true,
        ..Faults::default()
    });
    let gone = Instant::now();
    wait_for(&events, "offline", |e| {
        matches!(e, AutoSyncEvent::Offline { .. })
    });
    let limit = probe_interval + probe_timeout + Duration::from_secs(2);
    assert!(
        gone.elapsed() < limit,
        "noticed after {:?} (limit {limit:?})",
        gone.elapsed()
    );

    // "Sync now" while offline: an answer within one probe's time limit, naming when
    // the next attempt goes out — not a spinner until the backoff ends.
    let asked = Instant::now();
    let asked_at = chrono::Utc::now();
    auto.sync_now();
    let answer = wait_for(&events, "offline", |e| {
        matches!(e, AutoSyncEvent::Offline { .. })
    });
    assert!(
        asked.elapsed() < probe_timeout + Duration::from_secs(2),
        "answered after {:?}",
        asked.elapsed()
    );
    let AutoSyncEvent::Offline {
        next_attempt_at, ..
    } = answer
    else {
        unreachable!("matched above")
    };
    assert!(
        next_attempt_at > asked_at + chrono::Duration::seconds(1),
        "the next attempt is in the future: {next_attempt_at} vs {asked_at}"
    );
    proxy.set_faults(Faults::default());
    auto.stop();
}
