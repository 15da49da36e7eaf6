//! Operations and bad input: health, readiness, metrics, the OpenAPI document matching
//! the router's routes, body limits on every route, unknown paths and methods.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fieldkit_backend::api::{Access, ROUTES};

use crate::records::push;
use crate::support::kit::Spec;
use crate::support::{Backend, Db};

const OPENAPI: &str = include_str!("../../openapi.json");

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).expect("request")
}

/// A request to the operations listener's routes.
async fn ops(backend: &Backend, req: Request<Body>) -> (StatusCode, axum::body::Bytes) {
    use tower::ServiceExt as _;
    let response = fieldkit_backend::api::ops_router(backend.app.clone())
        .oneshot(req)
        .await
        .expect("infallible");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, body)
}

#[test]
fn the_openapi_document_lists_exactly_the_routes_of_the_router() {
    let doc: serde_json::Value = serde_json::from_str(OPENAPI).expect("valid JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if method == "parameters" {
                continue;
            }
            assert!(
                op["operationId"].is_string(),
                "{method} {path} has an operationId"
            );
            assert!(op["responses"].is_object(), "{method} {path} has responses");
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(documented, routed);
    // The back-office pages are HTML for browsers, not part of the kit API: they are
    // left out of the OpenAPI document on purpose, and live only under `/office`.
    for r in fieldkit_backend::office::OFFICE_ROUTES {
        assert!(r.path.starts_with("/office"), "{}", r.path);
        assert!(
            doc["paths"].get(r.path).is_none(),
            "{} is an office page",
            r.path
        );
    }
    assert!(ROUTES.iter().all(|r| !r.path.starts_with("/office")));
    for r in ROUTES {
        let op = &doc["paths"][r.path][r.method.to_lowercase()];
        let secured = op["security"].as_array().is_none_or(|s| !s.is_empty());
        assert_eq!(
            secured,
            matches!(r.access, Access::Kit(_)),
            "{} {}: security matches the route's access",
            r.method,
            r.path
        );
    }
}

#[tokio::test]
async fn operations_endpoints_answer_without_the_kit_protocol() {
    let backend = Backend::new(&Db::Sqlite).await;
    assert_eq!(backend.send(get("/healthz")).await.status, StatusCode::OK);
    assert_eq!(backend.send(get("/readyz")).await.status, StatusCode::OK);
    let (status, doc) = ops(&backend, get("/api/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc.as_ref(), OPENAPI.as_bytes());
    assert_eq!(ops(&backend, get("/healthz")).await.0, StatusCode::OK);
    // Never on the public listener.
    for path in ["/api/openapi.json", "/metrics"] {
        let public = backend.send(get(path)).await;
        assert_eq!(public.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        ops(&backend, get("/v1/state")).await.0,
        StatusCode::NOT_FOUND,
        "and no kit API on the operations listener"
    );
    backend.app.begin_shutdown();
    assert_eq!(
        backend.send(get("/readyz")).await.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "a stopping server is not ready"
    );
}

#[tokio::test]
async fn metrics_count_records_by_outcome_batches_and_upload_bytes() {
    let backend = Backend::new(&Db::Sqlite).await;
    let mut kit = backend.kit().await;
    let good = kit.next(&Spec::anmeldung());
    let bad = kit.next(&Spec {
        form_version: 9,
        ..Spec::anmeldung()
    });
    push(&backend, &kit, &[&good, &bad]).await;
    let text = String::from_utf8(ops(&backend, get("/metrics")).await.1.to_vec()).expect("utf-8");
    assert!(
        text.contains(r#"fieldkit_records_total{outcome="accepted",reason="none"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"fieldkit_records_total{outcome="rejected",reason="unknown-routing"} 1"#)
    );
    assert!(text.contains("fieldkit_batch_duration_seconds_count 1"));
    assert!(text.contains("fieldkit_upload_bytes_total 0"));
    assert!(text.contains(r#"fieldkit_http_requests_total{route="/v1/records",status="200"} 1"#));
    assert!(!text.contains(&kit.kit_id.to_string()), "no ids in metrics");
}

#[tokio::test]
async fn every_route_has_a_body_limit() {
    let backend = Backend::new(&Db::Sqlite).await;
    let kit = backend.kit().await;
    for route in ROUTES {
        let path = route
            .path
            .replace("{attachment_id}", "5f0c2a9e-3b7d-4c81-a6e2-9d4f1b8c7e30");
        let body = vec![b' '; route.body_limit + 1];
        let req = match route.access {
            Access::Kit(_) => kit.signed(route.method, &path, body),
            _ => Request::builder()
                .method(route.method)
                .uri(&path)
                .header("fieldkit-protocol", "1")
                .body(Body::from(body))
                .expect("request"),
        };
        if route.access == Access::Operations {
            let (status, _) = ops(&backend, req).await;
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{}", route.path);
            continue;
        }
        let resp = backend.send(req).await;
        assert_eq!(
            resp.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{} {}",
            route.method,
            path
        );
        if route.method != "HEAD" {
            assert_eq!(resp.code(), "too-large");
        }
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_are_problems() {
    let backend = Backend::new(&Db::Sqlite).await;
    let resp = backend.send(get("/v1/nothing")).await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert_eq!(resp.code(), "not-found");
    let resp = backend
        .send(
            Request::delete("/v1/state")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(resp.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.code(), "malformed-request");
}

#[tokio::test]
async fn the_published_catalog_bundle_is_exactly_what_its_documented_schema_allows() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/catalog-bundle.schema.json"))
            .expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let backend = Backend::new(&Db::Sqlite).await;
    let kit = backend.kit().await;
    let served = backend
        .send(kit.signed("GET", "/v1/catalog/current", Vec::new()))
        .await;
    assert_eq!(served.status, StatusCode::OK);
    let envelope: serde_json::Value = served.json();
    let payload =
        sync_protocol::b64::decode("payload", envelope["payload"].as_str().expect("payload"))
            .expect("base64");
    let bundle: serde_json::Value = serde_json::from_slice(&payload).expect("JSON");
    let errors: Vec<String> = validator
        .iter_errors(&bundle)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        bundle["authorities"][0]["hpke_public_key"]["public_key"].is_string(),
        "published bundles carry the authorities' keys"
    );
    // What the schema refuses: unknown members, routing as an object, a bad ARS.
    let mut unknown = bundle.clone();
    unknown["meta"]["colour"] = serde_json::json!("blue");
    let mut routing_object = bundle.clone();
    routing_object["routing"] = serde_json::json!({"rules": []});
    let mut bad_ars = bundle;
    bad_ars["authorities"][0]["ars"] = serde_json::json!("1234");
    for wrong in [unknown, routing_object, bad_ars] {
        assert!(!validator.is_valid(&wrong));
    }
}
