//! `POST /v1/enrol` (PROTOCOL.md §6.1): codes are single use and expire, repeating an
//! enrolment with the same key is idempotent, and the request must be signed by the key
//! it enrols.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ed25519_dalek::SigningKey;
use rand_core::OsRng;
use sync_protocol::api::{EnrolRequest, EnrolResponse};

use crate::support::{Backend, Db, TestKit};

#[tokio::test]
async fn enrolment_returns_the_kit_id_and_server_keys_and_repeating_it_is_idempotent() {
    let backend = Backend::new(&Db::Sqlite).await;
    let code = backend
        .provision("gemeinde-musterstadt", chrono::Duration::hours(1))
        .await;
    let kit = TestKit::new(&backend).await;
    let first = backend.send(kit.enrol_request(&code)).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.header("fieldkit-protocol"), Some("1"));
    let answer: EnrolResponse = first.json();
    assert_eq!(answer.authority_id.as_str(), "gemeinde-musterstadt");
    assert_eq!(answer.kit_name, "Testkoffer");
    assert_eq!(answer.server_keys, backend.app.server_keys);
    assert!(answer.server_keys.iter().all(|k| k.to_key().is_ok()));
    let again: EnrolResponse = backend.send(kit.enrol_request(&code)).await.json();
    assert_eq!(again.kit_id, answer.kit_id, "same key, same code: same kit");
    let row = backend
        .store()
        .kit(&answer.kit_id)
        .await
        .expect("store")
        .expect("kit");
    assert_eq!(row.public_key, Some(kit.key.verifying_key().to_bytes()));
    assert_eq!(row.reported_name.as_deref(), Some("test-host"));
}

#[tokio::test]
async fn a_used_code_is_refused_for_another_key() {
    let backend = Backend::new(&Db::Sqlite).await;
    let code = backend
        .provision("gemeinde-musterstadt", chrono::Duration::hours(1))
        .await;
    let first = TestKit::new(&backend).await;
    assert_eq!(
        backend.send(first.enrol_request(&code)).await.status,
        StatusCode::CREATED
    );
    let second = TestKit::new(&backend).await;
    let resp = backend.send(second.enrol_request(&code)).await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert_eq!(resp.code(), "enrolment-code-invalid");
}

#[tokio::test]
async fn an_expired_or_unknown_code_is_refused_with_a_clear_problem() {
    let backend = Backend::new(&Db::Sqlite).await;
    let expired = backend
        .provision("gemeinde-musterstadt", chrono::Duration::milliseconds(1))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let kit = TestKit::new(&backend).await;
    for code in [expired.as_str(), "AAAA-BBBB-CCCC"] {
        let resp = backend.send(kit.enrol_request(code)).await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN);
        let problem = resp.problem();
        assert_eq!(resp.code(), "enrolment-code-invalid");
        assert!(problem.detail.contains("expired"), "{}", problem.detail);
        assert!(!problem.retryable);
    }
}

#[tokio::test]
async fn an_enrolled_key_cannot_take_a_second_code() {
    let backend = Backend::new(&Db::Sqlite).await;
    let kit = backend.kit().await;
    let code = backend
        .provision("gemeinde-musterstadt", chrono::Duration::hours(1))
        .await;
    let mut again = TestKit::new(&backend).await;
    again.key = kit.key.clone();
    let resp = backend.send(again.enrol_request(&code)).await;
    assert_eq!(resp.status, StatusCode::CONFLICT);
    assert_eq!(resp.code(), "conflict");
}

#[tokio::test]
async fn an_enrolment_for_a_key_other_than_the_signing_one_is_a_bad_signature() {
    let backend = Backend::new(&Db::Sqlite).await;
    let code = backend
        .provision("gemeinde-musterstadt", chrono::Duration::hours(1))
        .await;
    let signer = SigningKey::generate(&mut OsRng);
    let other = SigningKey::generate(&mut OsRng);
    let request = EnrolRequest {
        v: 1,
        code,
        kit_public_key: sync_protocol::b64::encode(other.verifying_key().as_bytes()),
        kit_name: "x".into(),
        device_time: chrono::Utc::now(),
    };
    let mut envelope = request.sign(&signer);
    let resp = backend
        .send(
            Request::post("/v1/enrol")
                .header("fieldkit-protocol", "1")
                .body(Body::from(envelope.to_json()))
                .expect("request"),
        )
        .await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    assert_eq!(resp.code(), "bad-request-signature");
    // A malformed envelope is a 400, not a 401.
    envelope.signatures.clear();
    let resp = backend
        .send(
            Request::post("/v1/enrol")
                .header("fieldkit-protocol", "1")
                .body(Body::from(envelope.to_json()))
                .expect("request"),
        )
        .await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert_eq!(resp.code(), "malformed-request");
}

/// The enrolment request of `kit` with `code`, sent from `ip`.
fn enrol_from(kit: &TestKit, code: &str, ip: &str) -> Request<Body> {
    let mut req = kit.enrol_request(code);
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(
            ip.parse().expect("ip"),
            50000,
        )));
    req
}

#[tokio::test]
async fn failed_enrolments_make_only_their_own_address_wait() {
    let backend = Backend::new(&Db::Sqlite).await;
    let kit = TestKit::new(&backend).await;
    let limit = fieldkit_backend::codes::FAILURES_PER_WINDOW;
    for _ in 0..limit {
        let resp = backend
            .send(enrol_from(&kit, "ZZZZ-ZZZZ-ZZZZ", "192.0.2.66"))
            .await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN);
    }
    let resp = backend
        .send(enrol_from(&kit, "ZZZZ-ZZZZ-ZZZZ", "192.0.2.66"))
        .await;
    assert_eq!(resp.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.code(), "rate-limited");
    let retry: u64 = resp
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=61).contains(&retry), "{retry}");
    // Even the right code waits at the guessing address ...
    let code = backend
        .provision("gemeinde-musterstadt", chrono::Duration::hours(1))
        .await;
    let resp = backend.send(enrol_from(&kit, &code, "192.0.2.66")).await;
    assert_eq!(resp.status, StatusCode::TOO_MANY_REQUESTS);
    // ... while another address enrols with it at once.
    let resp = backend.send(enrol_from(&kit, &code, "192.0.2.77")).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{resp:?}");
}

#[tokio::test]
async fn over_http_the_limit_binds_the_tcp_peer() {
    let backend = Backend::serve(&Db::Sqlite).await;
    let kit = TestKit::new(&backend).await;
    for _ in 0..fieldkit_backend::codes::FAILURES_PER_WINDOW {
        let resp = backend
            .send(enrol_from(&kit, "ZZZZ-ZZZZ-ZZZZ", "127.0.0.3"))
            .await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN);
    }
    let resp = backend
        .send(enrol_from(&kit, "ZZZZ-ZZZZ-ZZZZ", "127.0.0.3"))
        .await;
    assert_eq!(resp.status, StatusCode::TOO_MANY_REQUESTS);
    let code = backend
        .provision("gemeinde-musterstadt", chrono::Duration::hours(1))
        .await;
    let resp = backend.send(enrol_from(&kit, &code, "127.0.0.4")).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{resp:?}");
}
