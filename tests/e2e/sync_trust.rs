//! Trust after enrolment, end to end through the CLIs (PROTOCOL.md §2.5, §6.5): the
//! backend rotates its signing key and moves to a new TLS certificate, and the enrolled
//! kit follows both from its signed changes feed without re-enrolment, delivering
//! records before and after; a wipe that is unsigned or signed by anyone but the server
//! is refused, reported, and never executed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fieldkit_backend::config::DatabaseUrl;
use fieldkit_e2e::harness::backend::{demo, Demo};
use fieldkit_e2e::harness::bins::bin;
use fieldkit_e2e::harness::check::assert_exactly_once;
use fieldkit_e2e::harness::free_port;
use fieldkit_e2e::harness::kit::TestKit;
use fieldkit_e2e::harness::scenario::Scenario;
use sync_protocol::api::{Change, ChangeKind};
use sync_protocol::change::SignedChange;

fn lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The report of a `fieldkit --json sync` that must have succeeded.
fn synced(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "sync failed ({}): {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    lines(out).last().expect("report")["report"].clone()
}

#[test]
fn a_server_key_rotation_reaches_the_kit_without_re_enrolment() {
    let mut s = Scenario::new();
    s.kit.capture(2, 1_000);
    assert_eq!(synced(&s.kit.sync(None, &[]))["delivered"], 2);
    let old_key = s.kit.session().trusted_server_keys().expect("keys");
    let out = s
        .backend
        .admin(&["--json", "server-key", "rotate", "--overlap-days", "30"]);
    let rotated: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let new_id = rotated["new"].as_str().expect("new key id").to_owned();
    assert_eq!(
        rotated["replaces"].as_str(),
        Some(sync_protocol::receipt::ed25519_key_id(&old_key[0]).as_str())
    );
    s.backend.stop();
    s.backend.restart();
    // The first sync after the rotation learns the key before it sends: the receipts of
    // the new records are signed by the new key and verify.
    s.kit.capture(2, 1_000);
    let report = synced(&s.kit.sync(None, &[]));
    assert_eq!(report["delivered"], 2, "{report}");
    assert_eq!(report["trust_updates"], 1, "{report}");
    let trust = s.kit.session().trust_state().expect("trust");
    let ids: Vec<_> = trust
        .server_keys
        .iter()
        .map(|k| (k.key.key_id.clone(), k.until.is_some()))
        .collect();
    assert!(ids.contains(&(new_id.clone(), false)), "{ids:?}");
    assert!(
        ids.iter().any(|(id, overlap)| *id != new_id && *overlap),
        "the old key stays trusted until the overlap ends: {ids:?}"
    );
    let session = s.kit.session();
    let signers: Vec<String> = session
        .records(None, 100)
        .expect("records")
        .iter()
        .map(|r| {
            let receipt = session
                .receipt(&r.record_id)
                .expect("receipt")
                .expect("a stored receipt");
            receipt.claimed_keyid().expect("keyid").to_owned()
        })
        .collect();
    drop(session);
    assert_eq!(
        signers.iter().filter(|k| **k == new_id).count(),
        2,
        "two receipts by the new key, two by the old: {signers:?}"
    );
    // Nothing more to learn: the rollover is applied once.
    assert_eq!(synced(&s.kit.sync(None, &[]))["trust_updates"], 0);
    s.check();
}

/// `fieldkit-backend serve` over TLS with one certificate, restartable with another.
struct TlsBackend {
    data: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl TlsBackend {
    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    fn start(&mut self, cert: &Path, key: &Path) {
        assert!(self.child.is_none());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data.join("serve.log"))
            .expect("log");
        let child = Command::new(bin("fieldkit-backend"))
            .args(["serve", "--data-dir"])
            .arg(&self.data)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--public-base-url")
            .arg(self.url())
            .arg("--tls-cert")
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            .env("FIELDKIT_SHUTDOWN_GRACE_SECONDS", "1")
            // A test setup: the demo's master key lies in the data folder, and the
            // operations listener takes any free port.
            .env("FIELDKIT_OPS_LISTEN", "127.0.0.1:0")
            .env("FIELDKIT_ALLOW_MASTER_KEY_IN_DATA_DIR", "true")
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("serve starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "the TLS backend did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn admin(&self, args: &[&str]) -> std::process::Output {
        let out = Command::new(bin("fieldkit-backend"))
            .arg("admin")
            .arg("--data-dir")
            .arg(&self.data)
            .args(args)
            .output()
            .expect("admin runs");
        assert!(
            out.status.success(),
            "admin {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

impl Drop for TlsBackend {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A self-signed certificate for 127.0.0.1 written as `<name>.pem` and `<name>.key`.
fn certificate(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("certificate");
    let (pem, key) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    );
    std::fs::write(&pem, cert.cert.pem()).expect("write");
    std::fs::write(&key, cert.signing_key.serialize_pem()).expect("write");
    (pem, key)
}

#[test]
fn a_tls_pin_rollover_reaches_the_kit_and_it_moves_to_the_new_certificate() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("backend");
    let (old_cert, old_key) = certificate(dir.path(), "old");
    let (new_cert, new_key) = certificate(dir.path(), "new");
    let (rogue_cert, rogue_key) = certificate(dir.path(), "unannounced");
    let mut backend = TlsBackend {
        data: data.clone(),
        port: free_port(),
        child: None,
    };
    // The demo's own kit is not used (it would need the certificate for its pin): this
    // test provisions one with the pin below.
    demo(&data, None, &format!("http://127.0.0.1:{}", backend.port));
    // A kit provisioned with the pin of the certificate the backend serves now.
    let file = dir.path().join("provisioning.json");
    let out = backend.admin(&[
        "--json",
        "kit",
        "provision",
        "--authority",
        "gemeinde-musterstadt",
        "--name",
        "Koffer TLS",
        "--backend-url",
        &backend.url(),
        "--tls-cert",
        old_cert.to_str().expect("utf-8"),
        "--out",
        file.to_str().expect("utf-8"),
    ]);
    let provisioned: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    // Not secret, and for another user (the clerk's account): readable by all, though
    // everything else the backend's program writes is its owner's alone (umask 077).
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file)
            .expect("the file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644, "provisioning file mode {mode:o}");
    }
    backend.start(&old_cert, &old_key);
    let kit = TestKit::enrolled(
        &dir.path().join("kit"),
        &Demo {
            code: provisioned["code"].as_str().expect("code").to_owned(),
            provisioning: file,
            users: Vec::new(),
        },
    );
    kit.capture(1, 1_000);
    assert_eq!(synced(&kit.sync(None, &[]))["delivered"], 1);

    backend.admin(&[
        "tls-pin",
        "announce",
        "--cert",
        new_cert.to_str().expect("utf-8"),
        "--overlap-days",
        "14",
    ]);
    kit.capture(1, 1_000);
    let report = synced(&kit.sync(None, &[]));
    assert_eq!(report["delivered"], 1);
    assert_eq!(report["trust_updates"], 1);
    assert_eq!(
        kit.session()
            .trust_state()
            .expect("trust")
            .pins_at(chrono::Utc::now())
            .len(),
        2,
        "old and new pin during the overlap"
    );

    // IT installs the new certificate: the kit follows without re-enrolment.
    backend.stop();
    backend.start(&new_cert, &new_key);
    kit.capture(1, 1_000);
    assert_eq!(synced(&kit.sync(None, &[]))["delivered"], 1);

    // A certificate nobody announced is refused (a rogue or a misconfigured server);
    // nothing is sent to it and nothing is lost.
    backend.stop();
    backend.start(&rogue_cert, &rogue_key);
    kit.capture(1, 1_000);
    let refused = kit.sync(None, &["--retry-for", "2"]);
    assert_eq!(refused.status.code(), Some(5), "incomplete, not delivered");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("pin")
            || lines(&refused)
                .iter()
                .any(|e| e["reason"].as_str().is_some_and(|r| r.contains("pin"))),
        "the pin is named: {}",
        String::from_utf8_lossy(&refused.stdout)
    );
    backend.stop();
    backend.start(&new_cert, &new_key);
    assert_eq!(synced(&kit.sync(None, &[]))["delivered"], 1);
    backend.stop();
    assert_exactly_once(&kit, &DatabaseUrl::embedded(&data), &data);
}

/// A server that answers the kit's handshake as the real backend would and serves a
/// forged changes page: what a network attacker past TLS (or a rogue proxy) could do.
fn rogue_backend(state: serde_json::Value, page: serde_json::Value) -> (SocketAddr, Rogue) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new()
        .route(
            "/v1/state",
            axum::routing::get(move || {
                let mut state = state.clone();
                state["server_time"] = chrono::Utc::now()
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                    .into();
                async move { axum::Json(state) }
            }),
        )
        .route(
            "/v1/changes",
            axum::routing::get(move || {
                let page = page.clone();
                async move { axum::Json(page) }
            }),
        );
    runtime.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, Rogue(Some(runtime)))
}

/// Stops the rogue server when dropped.
struct Rogue(Option<tokio::runtime::Runtime>);

impl Drop for Rogue {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

#[test]
fn a_forged_or_unsigned_wipe_is_refused_reported_and_never_executed() {
    let s = Scenario::new();
    s.kit.capture(2, 1_000);
    synced(&s.kit.sync(None, &[]));
    let session = s.kit.session();
    let kit_id = session
        .enrolment()
        .expect("enrolment")
        .expect("enrolled")
        .kit_id;
    let server_key_id = session.trust_state().expect("trust").server_keys[0]
        .key
        .key_id
        .clone();
    let cursor: u64 = 1_000_000;
    let installed = session.installed_version().expect("catalog");
    drop(session);
    let real_head = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let store = fieldkit_backend::storage::open(&s.database(), 1)
                .await
                .expect("store");
            store
                .kit(&kit_id)
                .await
                .expect("kit")
                .expect("known kit")
                .head
                .expect("a head")
        });
    let backend_addr: SocketAddr = ([127, 0, 0, 1], s.backend.port()).into();
    let state = serde_json::json!({
        "kit_id": kit_id.to_string(), "standing": "active",
        "head": null, "pending_uploads": [], "catalog_version": installed,
        "protocol_versions": [1, 2], "server_time": "",
    });
    let wipe = Change {
        cursor,
        at: chrono::Utc::now(),
        change: ChangeKind::Wipe {
            reason: "Gerät als verloren gemeldet".into(),
        },
    };
    let rogue_key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let mut unsigned = SignedChange::new(kit_id, &wipe).sign(&rogue_key);
    unsigned.signatures.clear();
    let mut forged = SignedChange::new(kit_id, &wipe).sign(&rogue_key);
    // It even claims the server's key id.
    forged.signatures[0].keyid = server_key_id;
    for (name, envelope) in [("unsigned", unsigned), ("forged", forged)] {
        let page = serde_json::json!({"changes": [envelope], "next_cursor": cursor, "more": false});
        // The kit has delivered everything; the rogue answers with the real head so
        // that the kit has nothing to send (head = null would make it resend).
        let mut state = state.clone();
        state["head"] = serde_json::to_value(real_head).expect("anchor");
        let (rogue_addr, _rogue) = rogue_backend(state, page);
        s.proxy.set_upstream(rogue_addr);
        let out = s.kit.sync(None, &["--retry-for", "10"]);
        assert_eq!(
            out.status.code(),
            Some(5),
            "{name}: the run reports a problem: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let events = lines(&out);
        assert!(
            events.iter().all(|e| e["event"] != "wiped"),
            "{name}: never wiped: {events:?}"
        );
        let report = &events.last().expect("report")["report"];
        assert_eq!(report["wiped"], false, "{name}");
        assert_eq!(
            report["blocked"]["reason"], "change_refused",
            "{name}: {report}"
        );
        assert!(
            s.kit.home.join("kit.db").exists(),
            "{name}: the store is kept"
        );
        assert!(
            s.kit.home.join("keyslots.json").exists(),
            "{name}: keys kept"
        );
        assert_eq!(
            s.kit.session().records(None, 100).expect("records").len(),
            2,
            "{name}: every record kept"
        );
        s.proxy.set_upstream(backend_addr);
    }
    // Back at the real backend: nothing refused, the queue and the check are whole.
    let report = synced(&s.kit.sync(None, &[]));
    assert!(report["blocked"].is_null(), "{report}");
    s.check();
}
