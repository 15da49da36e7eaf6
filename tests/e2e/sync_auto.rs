//! Auto-sync: the loop notices the backend is unreachable (refused connections, a
//! captive portal's 200) by probing the backend itself, syncs as soon as it answers,
//! syncs on demand, and stops at once when asked — also in the middle of a slow upload.

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
    wait_for(&events, "online", |e| matches!(e, AutoSyncEvent::Online));
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
        events
            .try_iter()
            .all(|e| !matches!(e, AutoSyncEvent::Online | AutoSyncEvent::Finished { .. })),
        "never online behind the portal"
    );
    auto.stop();
}
