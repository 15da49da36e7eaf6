//! Enrolment happens once, end to end: a kit enrolled with the real backend (behind
//! its proxy) refuses `fieldkit enrol` with a rogue's provisioning file and with a
//! rogue URL — a real HTTP server on loopback that would answer with the kit's own id —
//! before any request reaches the rogue; the records captured before and after still
//! reach the original backend exactly once.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use fieldkit_e2e::harness::scenario::Scenario;
use kit_core::KitError;
use sync_protocol::api::{EnrolResponse, ServerKey};
use sync_protocol::ids::{AuthorityId, KitId};

/// Starts a server that answers every request with an enrolment answer naming
/// `kit_id`; returns its URL and the request counter.
fn rogue_backend(kit_id: KitId, key: &SigningKey) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let body = serde_json::to_vec(&EnrolResponse {
        kit_id,
        authority_id: AuthorityId::parse("gemeinde-musterstadt").expect("id"),
        kit_name: "rogue".into(),
        server_keys: vec![ServerKey::from_key(&key.verifying_key())],
        server_time: chrono::Utc::now(),
    })
    .expect("json");
    let requests = Arc::new(AtomicUsize::new(0));
    let count = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            let _ = answer(stream, &body);
        }
    });
    (url, requests)
}

fn answer(stream: TcpStream, body: &[u8]) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut ignored = vec![0; length];
    reader.read_exact(&mut ignored)?;
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)
}

#[test]
fn re_enrolment_against_a_rogue_answering_with_the_kits_id_is_refused_and_records_reach_the_original_backend(
) {
    let s = Scenario::new();
    s.kit.capture(2, 20_000);
    let before = s
        .kit
        .session()
        .enrolment()
        .expect("read")
        .expect("enrolled");
    let rogue_key = SigningKey::from_bytes(&[9; 32]);
    let (rogue_url, requests) = rogue_backend(before.kit_id, &rogue_key);
    let provisioning = s.dir.path().join("rogue-provisioning.json");
    std::fs::write(
        &provisioning,
        serde_json::json!({
            "format": sync_protocol::api::PROVISIONING_FORMAT,
            "backend_url": rogue_url,
            "authority_id": "gemeinde-musterstadt",
            "kit_name": "rogue",
            "code_expires_at": "2099-01-01T00:00:00.000Z",
            "server_keys": [ServerKey::from_key(&rogue_key.verifying_key())],
            "tls_pin": null,
        })
        .to_string(),
    )
    .expect("write");

    for args in [
        vec![
            "enrol",
            "--provisioning",
            provisioning.to_str().expect("utf-8"),
            "--code",
            "ROGUE-1234",
        ],
        vec!["enrol", "--backend", &rogue_url, "--code", "ROGUE-1234"],
    ] {
        let out = s.kit.cli().args(&args).output().expect("fieldkit runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?} must fail: {stderr}");
        assert!(
            stderr.contains("bereits als") && stderr.contains("already enrolled"),
            "{stderr}"
        );
    }
    // The app's path (the library call its `enrol` command makes).
    let client = kit_core::net::Backend::new(&rogue_url, None).expect("client");
    let mut session = s.kit.session();
    assert!(matches!(
        session.enrol(&client, &rogue_url, "ROGUE-1234", "rogue", None),
        Err(KitError::AlreadyEnrolled { .. })
    ));
    assert_eq!(session.enrolment().expect("read"), Some(before));
    drop(session);
    assert_eq!(requests.load(Ordering::SeqCst), 0, "the rogue saw nothing");

    s.kit.capture(1, 5_000);
    let out = s.kit.sync(None, &[]);
    assert!(
        out.status.success(),
        "sync: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let settled = s.check();
    assert_eq!(settled.records, 3);
    assert_eq!(requests.load(Ordering::SeqCst), 0, "the sync went home");
}
