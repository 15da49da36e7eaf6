//! Two backend processes on one PostgreSQL database behind one address (a load
//! balancer: the fault proxy, switching its upstream), the kit's requests alternating
//! between them, and one node killed in the middle of a batch: still exactly once.

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fieldkit_backend::config::DatabaseUrl;
use fieldkit_e2e::fault_proxy::{FaultProxy, Faults};
use fieldkit_e2e::harness::backend::{demo, BackendProcess};
use fieldkit_e2e::harness::check::assert_exactly_once;
use fieldkit_e2e::harness::free_port;
use fieldkit_e2e::harness::kit::TestKit;
use fieldkit_e2e::harness::pg::Schema;

fn addr(port: u16) -> std::net::SocketAddr {
    ([127, 0, 0, 1], port).into()
}

#[test]
fn two_backend_nodes_on_one_postgres_database_deliver_exactly_once() {
    let Some(schema) = Schema::create() else {
        eprintln!("skipped: FIELDKIT_TEST_DATABASE_URL is not set (scripts/test.sh sets it)");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (port_a, port_b) = (free_port(), free_port());
    let proxy = Arc::new(FaultProxy::start(addr(port_a)).expect("proxy"));
    // Both nodes share the database, the attachment folder and the master key — as two
    // replicas behind a load balancer share a database and a volume.
    let data = dir.path().join("backend");
    let demo = demo(&data, Some(&schema.url), &proxy.url());
    let mut node_a = BackendProcess::start(&data, Some(&schema.url), port_a, Some(&proxy.url()));
    let node_b = BackendProcess::start(&data, Some(&schema.url), port_b, Some(&proxy.url()));
    let kit = TestKit::enrolled(&dir.path().join("kit"), &demo);
    let database = DatabaseUrl::Postgres(schema.url.clone());

    // 1. Requests alternate: the balancer switches nodes every 150 ms and connections
    //    are cut every 200 KB, so the kit reconnects to whichever node is current.
    kit.capture(12, 60_000);
    proxy.set_faults(Faults {
        reset_every_upstream_bytes: Some(200_000),
        ..Faults::default()
    });
    let flipping = Arc::new(AtomicBool::new(true));
    let flipper = {
        let (proxy, flipping) = (Arc::clone(&proxy), Arc::clone(&flipping));
        std::thread::spawn(move || {
            let mut on_a = true;
            while flipping.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(150));
                on_a = !on_a;
                proxy.set_upstream(addr(if on_a { port_a } else { port_b }));
            }
        })
    };
    let out = kit.sync(None, &[]);
    flipping.store(false, Ordering::Relaxed);
    flipper.join().expect("flipper");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        proxy.stats().resets >= 2,
        "connections were cut and re-made"
    );
    assert_exactly_once(&kit, &database, &data);

    // 2. Node A dies in the middle of a batch of 100; the balancer sends the kit to B.
    proxy.set_faults(Faults {
        bandwidth_bytes_per_sec: Some(150_000),
        ..Faults::default()
    });
    proxy.set_upstream(addr(port_a));
    kit.capture(100, 1_000);
    let child = kit
        .cli()
        .args(["--json", "sync", "--backoff-ms", "50", "--retry-for", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sync starts");
    std::thread::sleep(Duration::from_millis(1500));
    node_a.kill9();
    proxy.set_upstream(addr(port_b));
    let out = child.wait_with_output().expect("sync ends");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = String::from_utf8_lossy(&out.stdout);
    assert!(
        lines.contains("\"retrying\""),
        "the kill cut a request: {lines}"
    );
    assert_exactly_once(&kit, &database, &data);

    // 3. A comes back; the kit goes on with it.
    node_a.restart();
    proxy.set_faults(Faults::default());
    proxy.set_upstream(addr(port_a));
    kit.capture(3, 10_000);
    let out = kit.sync(None, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let settled = assert_exactly_once(&kit, &database, &data);
    assert_eq!(settled.records, 115);
    drop(node_b);
}
