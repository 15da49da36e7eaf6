//! A kit enrols with the backend demo, captures offline, and delivers.

use std::time::Duration;

use fieldkit_backend::admin::{demo, Admin, Target};
use fieldkit_backend::config::DatabaseUrl;
use fieldkit_backend::keys::{MasterKey, MasterKeySource};
use fieldkit_backend::state::AppState;
use kit_core::net::Backend;
use kit_core::{Kit, KitError, RecordState};
use sync_protocol::api::{Outcome, PushBatch, PushBatchResponse};
use zeroize::Zeroizing;

const PIN: &str = "Rathaus am Markt";

/// The backend's log output, captured in memory.
#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    /// Captures every log line of this process as JSON, at debug level (more than a
    /// production backend writes).
    fn install() -> Self {
        let buffer = Self::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("the only subscriber in this test binary");
        buffer
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().map(|v| v.clone()).unwrap_or_default()).into_owned()
    }
}

struct RunningBackend {
    url: String,
    code: String,
    provisioning: kit_core::Provisioning,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Drop for RunningBackend {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.runtime
            .block_on(async { tokio::time::sleep(Duration::from_millis(50)).await });
    }
}

fn start_backend_demo() -> RunningBackend {
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
    let (code, provisioning) = runtime.block_on(async {
        let target = Target {
            database: DatabaseUrl::embedded(dir.path()),
            data_dir: dir.path().to_path_buf(),
            master_key: MasterKeySource {
                env: Some(Zeroizing::new(MasterKey::generate().to_text().to_string())),
                file: None,
                generate_in: None,
            },
            blobs: fieldkit_backend::blobs::BlobConfig::Filesystem(dir.path().to_path_buf()),
        };
        let admin = Admin::open(&target).await.expect("backend store opens");
        let report = demo::demo(
            &admin,
            std::path::Path::new(fieldkit_catalog::CATALOG_DIR),
            &url,
            chrono::Duration::hours(1),
        )
        .await
        .expect("demo set up");
        let app = AppState::new(
            std::sync::Arc::clone(&admin.store),
            admin.server_key().await.expect("server key"),
            url.clone(),
            fieldkit_backend::blobs::BlobStore::filesystem(dir.path()).expect("attachment store"),
        );
        tokio::spawn(fieldkit_backend::server::serve_on(
            listener,
            app,
            None,
            Duration::from_secs(5),
            async move {
                let _ = stop.await;
            },
        ));
        let file = serde_json::to_string(&report.kit.provisioning).expect("provisioning JSON");
        (
            report.kit.code,
            kit_core::Provisioning::from_json(file.as_bytes())
                .expect("the kit reads the backend's provisioning file"),
        )
    });
    RunningBackend {
        url,
        code,
        provisioning,
        shutdown: Some(shutdown),
        runtime,
        _dir: dir,
    }
}

fn anmeldung() -> serde_json::Value {
    let path = std::path::Path::new(fieldkit_catalog::CATALOG_DIR)
        .join("tests/golden/anmeldung/valid-family-of-three-moving-together.json");
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("golden")).expect("json");
    golden["data"].clone()
}

#[test]
fn a_kit_enrols_with_the_demo_captures_offline_and_delivers_with_a_verified_receipt() {
    let logs = LogBuffer::install();
    let backend = start_backend_demo();
    let kit_dir = tempfile::tempdir().expect("temp dir");
    let kit = Kit::at(kit_dir.path().join("kit"));
    let init = kit.init(None).expect("kit init");
    kit.unlock_recovery(&init.recovery_secret)
        .expect("recovery")
        .add_clerk("Clara Müller", PIN.as_bytes())
        .expect("clerk");
    let mut session = kit
        .unlock("c-clara-mueller", PIN.as_bytes())
        .expect("unlock");

    // Enrolment: the one-time code, the provisioning file's keys as trust anchor.
    let client = Backend::new(&backend.url, backend.provisioning.tls_pin.as_ref()).expect("client");
    let enrolment = session
        .enrol(
            &client,
            &backend.url,
            &backend.code,
            "e2e-kit",
            Some(&backend.provisioning.server_keys),
        )
        .expect("enrols and installs the catalog");
    assert_eq!(enrolment.authority_id.as_str(), "gemeinde-musterstadt");
    assert!(session.installed_version().expect("version").is_some());

    // The code is single use.
    let second = Kit::at(kit_dir.path().join("second"));
    let init2 = second.init(None).expect("init");
    let mut other = second
        .unlock_recovery(&init2.recovery_secret)
        .expect("recovery");
    match other.enrol(&client, &backend.url, &backend.code, "thief", None) {
        Err(KitError::Backend { status: 403, .. }) => {}
        res => panic!("a reused code must be refused, got {res:?}"),
    }

    // Capture offline: sealed to the authority key the backend published.
    let draft = session
        .create_draft("anmeldung", &anmeldung())
        .expect("draft");
    session
        .attach(
            &draft,
            "signed-printout",
            "application/pdf",
            &b"%PDF-1.7 signed printout"[..],
        )
        .expect("attach");
    session
        .attach(
            &draft,
            "landlord-confirmation",
            "application/pdf",
            &b"%PDF-1.7 landlord"[..],
        )
        .expect("attach");
    let done = session.finalize(&draft).expect("finalize");

    // Deliver: the backend verifies, routes and stores; the kit verifies the receipt.
    let pending = session.pending_records(10).expect("pending");
    let body = serde_json::to_vec(&PushBatch {
        envelopes: vec![pending[0].envelope.clone()],
    })
    .expect("json");
    let answer: PushBatchResponse = client
        .post_signed(&session, "/v1/records", body.clone())
        .expect("push");
    assert_eq!(
        answer.results[0].outcome,
        Outcome::Accepted,
        "{:?}",
        answer.results[0].problem
    );
    let receipt = answer.results[0].receipt.clone().expect("receipt");
    session
        .mark_delivered(&done.record_id, &receipt)
        .expect("receipt verifies with the enrolled key");
    assert_eq!(
        session.record(&done.record_id).expect("record").state,
        RecordState::Delivered
    );

    // The same batch again is a duplicate with the original receipt.
    let again: PushBatchResponse = client
        .post_signed(&session, "/v1/records", body)
        .expect("push again");
    assert_eq!(again.results[0].outcome, Outcome::Duplicate);
    assert_eq!(again.results[0].receipt.as_ref(), Some(&receipt));
    let code = backend.code.clone();
    drop(backend);

    // Nothing personal and nothing secret reached the backend's logs.
    let logs = logs.text();
    assert!(logs.contains("kit enrolled"), "the log capture works");
    let data = anmeldung().to_string();
    let mut forbidden = vec![
        code.as_str(),
        PIN,
        init.recovery_secret.as_str(),
        init2.recovery_secret.as_str(),
    ];
    for needle in [
        "Özdemir",
        "Ayşe",
        "Lindenweg",
        "1984-02-29",
        "Müller-Lüdenscheidt",
        "İzmir",
        "L01X00T47",
    ] {
        assert!(
            data.contains(needle),
            "{needle} is in the captured form data"
        );
        forbidden.push(needle);
    }
    for needle in forbidden {
        assert!(!logs.contains(needle), "the backend logged {needle:?}");
    }
}
