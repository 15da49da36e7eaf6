//! Kit request authentication (PROTOCOL.md §7) and the order of checks (§6): every
//! route except enrolment and the operations endpoints refuses unsigned requests, and
//! each way a signature can be wrong has its own problem code.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Utc;
use fieldkit_backend::api::{Access, ROUTES};

use crate::support::kit::Spec;
use crate::support::{Backend, Db, TestKit};

fn concrete(path: &str) -> String {
    path.replace("{attachment_id}", "5f0c2a9e-3b7d-4c81-a6e2-9d4f1b8c7e30")
}

#[tokio::test]
async fn every_kit_route_refuses_unauthenticated_requests() {
    let backend = Backend::new(&Db::Sqlite).await;
    let kit = backend.kit().await;
    let mut checked = 0;
    for route in ROUTES {
        let path = concrete(route.path);
        let unsigned = Request::builder()
            .method(route.method)
            .uri(&path)
            .header("fieldkit-protocol", "1")
            .body(Body::empty())
            .expect("request");
        let resp = backend.send(unsigned).await;
        match route.access {
            Access::Kit(_) => {
                assert_eq!(
                    resp.status,
                    StatusCode::UNAUTHORIZED,
                    "{} {}",
                    route.method,
                    path
                );
                // HEAD answers carry no body, so no problem to read.
                let head = route.method == "HEAD";
                if !head {
                    assert_eq!(
                        resp.code(),
                        "bad-request-signature",
                        "{} {}",
                        route.method,
                        path
                    );
                }
                // Signed by a key the backend does not know.
                let mut stranger = TestKit::new(&backend).await;
                stranger.kit_id = sync_protocol::ids::KitId::from_uuid(uuid::Uuid::new_v4());
                let resp = backend
                    .send(stranger.signed(route.method, &path, Vec::new()))
                    .await;
                assert_eq!(
                    resp.status,
                    StatusCode::UNAUTHORIZED,
                    "{} {}",
                    route.method,
                    path
                );
                if !head {
                    assert_eq!(resp.code(), "unknown-kit", "{} {}", route.method, path);
                }
                // Signed properly: never refused for authentication.
                let resp = backend
                    .send(kit.signed(route.method, &path, Vec::new()))
                    .await;
                assert_ne!(
                    resp.status,
                    StatusCode::UNAUTHORIZED,
                    "{} {}",
                    route.method,
                    path
                );
                checked += 1;
            }
            Access::Enrolment => {
                assert_eq!(resp.status, StatusCode::BAD_REQUEST, "a body is needed")
            }
            Access::Public => assert!(resp.status.is_success(), "{} {}", route.method, path),
            Access::Operations => assert_eq!(
                resp.status,
                StatusCode::NOT_FOUND,
                "{} is only on the operations listener",
                path
            ),
        }
    }
    assert_eq!(checked, 8, "every kit route was checked");
}

#[tokio::test]
async fn a_missing_or_unsupported_protocol_version_is_refused_first() {
    let backend = Backend::new(&Db::Sqlite).await;
    let kit = backend.kit().await;
    for version in [None, Some("3"), Some("01"), Some("one")] {
        let mut req = kit.signed("GET", "/v1/state", Vec::new());
        match version {
            None => req.headers_mut().remove("fieldkit-protocol"),
            Some(v) => req
                .headers_mut()
                .insert("fieldkit-protocol", v.parse().expect("value")),
        };
        let resp = backend.send(req).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{version:?}");
        assert_eq!(resp.code(), "unsupported-protocol-version");
        assert_eq!(resp.problem().supported, Some(vec![1, 2]));
        assert_eq!(resp.header("fieldkit-protocol"), Some("2"));
    }
}

#[tokio::test]
async fn a_replayed_request_is_refused() {
    let backend = Backend::new(&Db::Sqlite).await;
    let kit = backend.kit().await;
    let req = kit.signed("GET", "/v1/state", Vec::new());
    let (parts, _) = req.into_parts();
    let copy = || {
        let mut r = Request::builder()
            .method(parts.method.clone())
            .uri(parts.uri.clone());
        for (n, v) in &parts.headers {
            r = r.header(n, v);
        }
        r.body(Body::empty()).expect("request")
    };
    assert_eq!(backend.send(copy()).await.status, StatusCode::OK);
    let again = backend.send(copy()).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert_eq!(again.code(), "replay");
}

#[tokio::test]
async fn a_stale_signature_is_clock_skew_with_the_server_time() {
    let backend = Backend::new(&Db::Sqlite).await;
    let kit = backend.kit().await;
    for created in [Utc::now().timestamp() - 400, Utc::now().timestamp() + 120] {
        let resp = backend
            .send(kit.signed_with("GET", "/v1/state", Vec::new(), &[], created))
            .await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
        assert_eq!(resp.code(), "clock-skew");
        let p = resp.problem();
        assert!(p.retryable && p.server_time.is_some());
    }
}

#[tokio::test]
async fn a_signature_over_another_base_url_or_body_does_not_verify() {
    let backend = Backend::new(&Db::Sqlite).await;
    let mut kit = backend.kit().await;
    let record = kit.next(&Spec::anmeldung());
    // A proxy rewrote the host: the backend checks against its configured URL only.
    let mut elsewhere = TestKit::new(&backend).await;
    elsewhere.key = kit.key.clone();
    elsewhere.kit_id = kit.kit_id;
    elsewhere.base_url = "https://other.example".into();
    let resp = backend
        .send(elsewhere.signed("GET", "/v1/state", Vec::new()))
        .await;
    assert_eq!(resp.code(), "bad-request-signature");
    // The body was swapped after signing.
    let signed = kit.push(&[&record]);
    let (parts, _) = signed.into_parts();
    let swapped = Request::from_parts(parts, Body::from("{\"envelopes\":[]}"));
    let resp = backend.send(swapped).await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    assert_eq!(resp.code(), "bad-request-signature");
    // Query strings are signed as sent.
    let mut req = kit.signed("GET", "/v1/changes?after=0", Vec::new());
    *req.uri_mut() = "/v1/changes?after=1".parse().expect("uri");
    assert_eq!(backend.send(req).await.code(), "bad-request-signature");
}

#[tokio::test]
async fn a_quarantined_kit_can_read_but_not_send() {
    let backend = Backend::new(&Db::Sqlite).await;
    let mut kit = backend.kit().await;
    let r1 = kit.next(&Spec::anmeldung());
    crate::records::push(&backend, &kit, &[&r1]).await;
    let fork = kit.record_at(1, sync_protocol::ids::Sha256Hash::ZERO, &Spec::anmeldung());
    crate::records::push(&backend, &kit, &[&fork]).await;
    let state: sync_protocol::api::KitState = backend
        .send(kit.signed("GET", "/v1/state", Vec::new()))
        .await
        .json();
    assert_eq!(state.standing, sync_protocol::api::KitStanding::Quarantined);
    let create = backend
        .send(kit.signed_with(
            "POST",
            "/v1/uploads",
            Vec::new(),
            &[("tus-resumable", "1.0.0")],
            Utc::now().timestamp(),
        ))
        .await;
    assert_eq!(create.code(), "kit-quarantined");
    assert_eq!(create.header("tus-resumable"), Some("1.0.0"));
    fieldkit_backend::admin::kit::release(&backend.admin, &kit.kit_id.to_string())
        .await
        .expect("released");
    let r2 = kit.next(&Spec::anmeldung());
    let resp = crate::records::push(&backend, &kit, &[&r2]).await;
    assert_eq!(
        resp.results[0].outcome,
        sync_protocol::api::Outcome::Accepted
    );
}
