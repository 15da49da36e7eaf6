//! Two backend processes on one PostgreSQL database behind one address (a load
//! balancer: the fault proxy, switching its upstream), the kit's requests alternating
//! between them, and one node killed in the middle of a batch: still exactly once.
//! Twice: nodes sharing one data folder, and nodes with a data folder each that share
//! only the database and an S3 bucket, one killed in the middle of a large attachment's
//! upload that the other then finishes.

use std::io::BufRead as _;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fieldkit_backend::config::DatabaseUrl;
use fieldkit_e2e::fault_proxy::{FaultProxy, Faults};
use fieldkit_e2e::harness::backend::{demo, demo_with, master_key_at, BackendProcess};
use fieldkit_e2e::harness::check::{assert_exactly_once, assert_exactly_once_in};
use fieldkit_e2e::harness::free_port;
use fieldkit_e2e::harness::kit::TestKit;
use fieldkit_e2e::harness::pg::Schema;
use fieldkit_e2e::harness::s3::Bucket;

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

/// The balancer in front of the nodes: every 150 ms new connections go to the next node
/// in rotation, unless pinned.
struct Balancer {
    proxy: Arc<FaultProxy>,
    state: Arc<Mutex<Rotation>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Rotation {
    ports: Vec<u16>,
    next: usize,
    pinned: bool,
    stop: bool,
}

impl Balancer {
    fn start(proxy: &Arc<FaultProxy>, ports: &[u16]) -> Self {
        let state = Arc::new(Mutex::new(Rotation {
            ports: ports.to_vec(),
            next: 0,
            pinned: false,
            stop: false,
        }));
        let thread = {
            let (proxy, state) = (Arc::clone(proxy), Arc::clone(&state));
            std::thread::spawn(move || loop {
                std::thread::sleep(Duration::from_millis(150));
                let mut r = state.lock().expect("rotation");
                if r.stop {
                    return;
                }
                if !r.pinned && !r.ports.is_empty() {
                    r.next = (r.next + 1) % r.ports.len();
                    proxy.set_upstream(addr(r.ports[r.next]));
                }
            })
        };
        Self {
            proxy: Arc::clone(proxy),
            state,
            thread: Some(thread),
        }
    }

    /// New connections go to `port` only, until [`Balancer::rotate`].
    fn pin(&self, port: u16) {
        let mut r = self.state.lock().expect("rotation");
        r.pinned = true;
        self.proxy.set_upstream(addr(port));
    }

    /// Alternates between `ports` again.
    fn rotate(&self, ports: &[u16]) {
        let mut r = self.state.lock().expect("rotation");
        r.ports = ports.to_vec();
        r.next = 0;
        r.pinned = false;
        self.proxy.set_upstream(addr(ports[0]));
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.state.lock().expect("rotation").stop = true;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One attachment's upload as the shared database records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Progress {
    offset: u64,
    length: u64,
    complete: bool,
}

/// Reads the upload rows of a kit's attachments from the shared database.
struct Uploads {
    runtime: tokio::runtime::Runtime,
    store: Arc<fieldkit_backend::storage::Store>,
    kit_id: sync_protocol::ids::KitId,
    attachments: Vec<(
        sync_protocol::ids::RecordId,
        sync_protocol::ids::AttachmentId,
    )>,
}

impl Uploads {
    /// For the attachments `kit` holds now.
    fn of(kit: &TestKit, database: &DatabaseUrl) -> Self {
        let session = kit.session();
        let kit_id = session
            .enrolment()
            .expect("enrolment")
            .expect("enrolled")
            .kit_id;
        let mut attachments = Vec::new();
        for r in session.records(None, usize::MAX >> 1).expect("records") {
            for a in session
                .record_attachments(&r.record_id)
                .expect("attachments")
            {
                attachments.push((
                    r.record_id.parse().expect("record id"),
                    a.attachment_id.parse().expect("attachment id"),
                ));
            }
        }
        drop(session);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let store = runtime
            .block_on(fieldkit_backend::storage::open(database, 1))
            .expect("the database opens");
        Self {
            runtime,
            store,
            kit_id,
            attachments,
        }
    }

    /// Every upload the backend knows of (the records delivered so far), by attachment.
    fn rows(&self) -> Vec<(String, Progress)> {
        self.runtime.block_on(async {
            let mut rows = Vec::new();
            for (record, attachment) in &self.attachments {
                if let Some(row) = self
                    .store
                    .upload(&self.kit_id, attachment, Some(record))
                    .await
                    .expect("upload row")
                {
                    rows.push((
                        attachment.to_string(),
                        Progress {
                            offset: row.offset,
                            length: row.length,
                            complete: row.complete,
                        },
                    ));
                }
            }
            rows
        })
    }

    /// An upload that has stored some chunks and not all.
    fn partial(&self) -> Option<(String, Progress)> {
        self.rows()
            .into_iter()
            .find(|(_, p)| !p.complete && p.offset > 0 && p.offset < p.length)
    }

    /// Bytes stored over all uploads.
    fn stored(&self) -> u64 {
        self.rows().iter().map(|(_, p)| p.offset).sum()
    }

    /// Polls until `done` holds, for at most 60 s.
    fn wait_for(&self, what: &str, mut done: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; uploads: {:?}",
                self.rows()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Upload chunks (tus `PATCH`) a node stored (204), from its request log; with `id`, only
/// those of that attachment.
fn patches(log: &Path, id: Option<&str>) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            // One JSON object per line: the response's status, the request's span.
            l.contains("finished processing request")
                && l.contains("\"status\":204")
                && l.contains("\"method\":\"PATCH\"")
        })
        .filter(|l| id.is_none_or(|id| l.contains(id)))
        .count()
}

/// The last lines of a node's log, for a failure message.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Files under `attachments/` or `uploads/` of a node's data folder.
fn attachment_files(data: &Path) -> Vec<std::path::PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&entry.path(), found);
            } else {
                found.push(entry.path());
            }
        }
    }
    let mut found = Vec::new();
    walk(&data.join("attachments"), &mut found);
    walk(&data.join("uploads"), &mut found);
    found
}

const MIB: usize = 1024 * 1024;

#[test]
fn two_nodes_with_separate_folders_share_only_postgres_and_s3_and_survive_a_kill_mid_upload() {
    let Some(schema) = Schema::create() else {
        eprintln!("skipped: FIELDKIT_TEST_DATABASE_URL is not set (scripts/test.sh sets it)");
        return;
    };
    let Some(bucket) = Bucket::create() else {
        eprintln!("skipped: FIELDKIT_TEST_S3_URL is not set (scripts/test.sh sets it)");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (port_a, port_b) = (free_port(), free_port());
    let proxy = Arc::new(FaultProxy::start(addr(port_a)).expect("proxy"));
    // Two machines: a data folder each, nothing on a shared disk. They share the
    // database, the bucket and the master key (one secret given to both, in neither
    // folder).
    let (data_a, data_b) = (dir.path().join("node-a"), dir.path().join("node-b"));
    let key = master_key_at(&dir.path().join("secrets/master.key"));
    let env = bucket.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let demo = demo_with(&data_a, Some(&schema.url), &proxy.url(), Some(&key), &env);
    let start = |data: &Path, port| {
        BackendProcess::start_with_master_key(
            data,
            Some(&schema.url),
            port,
            Some(&proxy.url()),
            Some(&key),
            &env,
        )
    };
    let mut node_a = start(&data_a, port_a);
    let node_b = start(&data_b, port_b);
    let kit = TestKit::enrolled(&dir.path().join("kit"), &demo);
    let database = DatabaseUrl::Postgres(schema.url.clone());
    let blobs = bucket.config();

    // 1. Six records with a 2.5 MiB scan each: ten 256 KiB tus chunks per scan. The
    //    balancer alternates every 150 ms and connections are cut every 600 KB, so the
    //    kit reconnects to whichever node is current, and an upload's chunks land on
    //    both nodes (each chunk its own object in the bucket).
    kit.capture(6, 5 * MIB / 2);
    let uploads = Uploads::of(&kit, &database);
    let alternating = Faults {
        bandwidth_bytes_per_sec: Some(2_000_000),
        reset_every_upstream_bytes: Some(600_000),
        ..Faults::default()
    };
    proxy.set_faults(alternating.clone());
    let balancer = Balancer::start(&proxy, &[port_a, port_b]);
    let started = Instant::now();
    let mut child = kit
        .cli()
        .args(["--json", "sync", "--backoff-ms", "50", "--retry-for", "120"])
        .args(["--chunk-kib", "256"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sync starts");
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    // Only states that last: an upload seen half stored at one poll can be complete at
    // the next (three uploads run at once), and step 2 finds one in progress itself.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (a, b) = (patches(node_a.log(), None), patches(node_b.log(), None));
        let rows = uploads.rows();
        let complete = rows.iter().filter(|(_, p)| p.complete).count();
        if a > 0 && b > 0 && complete >= 2 {
            assert!(
                complete < rows.len() || rows.len() < 12,
                "every upload ended before both nodes had stored a chunk; uploads: {rows:?}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for two complete uploads and chunks stored by both nodes \
             (node A stored {a} chunks, node B {b}); uploads: {rows:?}\nnode B's log:\n{}",
            tail(node_b.log())
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (chunks_a, chunks_b) = (patches(node_a.log(), None), patches(node_b.log(), None));
    assert!(
        chunks_a > 0 && chunks_b > 0,
        "both nodes stored chunks while requests alternated: A {chunks_a}, B {chunks_b}"
    );

    // 2. Node A dies in the middle of an upload. The balancer sends new connections to
    //    A and cuts the kit's current one; once A has stored a chunk, the kit is on A
    //    sending the next one. The link freezes with that chunk half sent, the database
    //    shows the upload half stored, and A is SIGKILLed.
    balancer.pin(port_a);
    let resets = proxy.stats().resets;
    proxy.set_faults(Faults {
        reset_after_upstream_bytes: Some(1),
        ..alternating.clone()
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while proxy.stats().resets == resets {
        assert!(
            Instant::now() < deadline,
            "the kit's connection was not cut"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let frozen = Faults {
        stall: true,
        ..alternating.clone()
    };
    let mut interrupted = None;
    for _ in 0..20 {
        let before = uploads.stored();
        uploads.wait_for("a chunk stored by node A", |u| u.stored() > before);
        proxy.set_faults(frozen.clone());
        std::thread::sleep(Duration::from_millis(300));
        interrupted = uploads.partial();
        if interrupted.is_some() {
            break;
        }
        // Between two attachments: let the next one begin.
        proxy.set_faults(alternating.clone());
    }
    let (interrupted, at_kill) = interrupted.expect("an upload in progress at the kill");
    node_a.kill9();
    balancer.rotate(&[port_b]);
    proxy.set_faults(alternating.clone());
    let out = child.wait_with_output().expect("sync ends");
    let lines = reader.join().expect("reader").join("\n");
    assert!(
        out.status.success(),
        "{}\n{lines}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        lines.contains("\"retrying\""),
        "the kill cut a request: {lines}"
    );
    assert!(
        patches(node_b.log(), Some(&interrupted)) > 0,
        "node B went on with upload {interrupted} that stopped at {at_kill:?}"
    );
    let settled = assert_exactly_once_in(&kit, &database, &blobs);
    assert_eq!((settled.records, settled.attachments), (6, 12));
    eprintln!(
        "sync with the kill: {:.1} s; chunks before the kill A {chunks_a}, B {chunks_b}; \
         upload {interrupted} interrupted at {} of {} bytes",
        started.elapsed().as_secs_f64(),
        at_kill.offset,
        at_kill.length
    );

    // 3. A comes back on its own (empty) folder; requests alternate between both again.
    node_a.restart();
    balancer.rotate(&[port_a, port_b]);
    kit.capture(2, 3 * MIB / 2);
    let out = kit.sync(None, &["--chunk-kib", "256"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let settled = assert_exactly_once_in(&kit, &database, &blobs);
    assert_eq!((settled.records, settled.attachments), (8, 16));
    for data in [&data_a, &data_b] {
        let files = attachment_files(data);
        assert!(
            files.is_empty(),
            "attachment bytes on a node's own disk: {files:?}"
        );
    }
    drop(balancer);
    drop(node_b);
}
