//! Enrolment happens once: an enrolled kit refuses `enrol` — through the library (the
//! app's path) and the CLI — before it sends anything, even to a server that would
//! answer with the kit's own id and keys the provisioning file vouches for.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::Utc;
use ed25519_dalek::SigningKey;
use kit_core::net::Backend;
use kit_core::KitError;
use sync_protocol::api::{EnrolResponse, ServerKey};
use sync_protocol::ids::{AuthorityId, KitId};

use crate::support::{bare_kit, enrolled_kit, CLERK, PIN};

/// A real HTTP server on loopback that answers every request with an enrolment answer
/// naming `kit_id` (what a rogue operator would send), and counts the requests.
pub struct RogueBackend {
    pub url: String,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl RogueBackend {
    pub fn start(kit_id: KitId, key: &SigningKey) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let body = serde_json::to_vec(&EnrolResponse {
            kit_id,
            authority_id: AuthorityId::parse("gemeinde-musterstadt").expect("id"),
            kit_name: "rogue".into(),
            server_keys: vec![ServerKey::from_key(&key.verifying_key())],
            server_time: Utc::now(),
        })
        .expect("json");
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopped) = (requests.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                let _ = answer(stream, &body);
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}"),
            requests,
            stop,
            port,
        }
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for RogueBackend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
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
    let mut request_body = vec![0; length];
    reader.read_exact(&mut request_body)?;
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

#[test]
fn an_enrolled_kit_refuses_a_second_enrolment_before_any_request() {
    let f = enrolled_kit();
    let rogue_key = SigningKey::from_bytes(&[7; 32]);
    let rogue = RogueBackend::start(f.kit_id, &rogue_key);
    let mut session = f.unlock();
    let before = session.enrolment().expect("read").expect("enrolled");

    // The app's path: Session::enrol, keys "vouched for" by a rogue provisioning file.
    let client = Backend::new(&rogue.url, None).expect("client");
    let keys = [ServerKey::from_key(&rogue_key.verifying_key())];
    match session.enrol(&client, &rogue.url, "ROGUE-CODE", "kit", Some(&keys)) {
        Err(KitError::AlreadyEnrolled {
            kit_id,
            backend_url,
        }) => {
            assert_eq!(kit_id, f.kit_id.to_string());
            assert_eq!(backend_url, before.backend_url);
        }
        other => panic!("re-enrolment must be refused, got {other:?}"),
    }
    // An answer repeating the kit's own id, applied directly, is refused too.
    let answer = EnrolResponse {
        kit_id: f.kit_id,
        authority_id: before.authority_id.clone(),
        kit_name: "rogue".into(),
        server_keys: keys.to_vec(),
        server_time: Utc::now(),
    };
    assert!(matches!(
        session.apply_enrolment(&rogue.url, &answer, None),
        Err(KitError::AlreadyEnrolled { .. })
    ));
    drop(session);

    // The CLI, with a provisioning file that names the rogue and its key.
    let provisioning = f.dir.path().join("rogue.json");
    std::fs::write(
        &provisioning,
        serde_json::json!({
            "format": sync_protocol::api::PROVISIONING_FORMAT,
            "backend_url": rogue.url,
            "authority_id": "gemeinde-musterstadt",
            "kit_name": "rogue",
            "code_expires_at": "2099-01-01T00:00:00.000Z",
            "server_keys": keys,
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
            "ROGUE-CODE",
        ],
        vec!["enrol", "--backend", &rogue.url, "--code", "ROGUE-CODE"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_fieldkit"))
            .arg("--home")
            .arg(f.kit.home().root())
            .args(&args)
            .env_remove("FIELDKIT_RECOVERY_SECRET")
            .env("FIELDKIT_CLERK", CLERK)
            .env("FIELDKIT_PIN", PIN)
            .output()
            .expect("fieldkit runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("bereits als") && stderr.contains("already enrolled"),
            "German and English message: {stderr}"
        );
    }
    assert_eq!(rogue.requests(), 0, "nothing was sent to the rogue");
    let after = f.unlock().enrolment().expect("read").expect("enrolled");
    assert_eq!(after, before, "server keys, TLS pin and URL unchanged");
    assert!(f
        .unlock()
        .trusted_server_keys()
        .expect("keys")
        .contains(&f.server_key.verifying_key()));

    // The rogue is a working server: a kit that is not enrolled does reach it.
    let (_dir, bare, _) = bare_kit();
    let mut fresh = bare.unlock(CLERK, PIN.as_bytes()).expect("unlock");
    let _ = fresh.enrol(&client, &rogue.url, "CODE", "kit", None);
    assert!(
        rogue.requests() >= 1,
        "the control request reached the rogue"
    );
}
