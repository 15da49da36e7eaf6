//! Property tests for everything that decodes request input: the header and query
//! decoders never panic and accept exactly what they should, and arbitrary bodies sent
//! to the JSON endpoints are answered with a problem (never a server error) and store
//! nothing.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use fieldkit_backend::api::decode;
use proptest::prelude::*;
use sync_protocol::ids::{AttachmentId, RecordId};

use crate::support::{Backend, Db};

fn header(name: &'static str, value: &str) -> Option<HeaderMap> {
    let mut map = HeaderMap::new();
    map.insert(
        HeaderName::from_static(name),
        HeaderValue::from_str(value).ok()?,
    );
    Some(map)
}

proptest! {
    #[test]
    fn change_queries_round_trip_and_nothing_else_panics(
        after in 0u64..=9_007_199_254_740_991,
        limit in 1u32..=500,
        noise in ".{0,40}",
    ) {
        let query = format!("after={after}&limit={limit}");
        prop_assert_eq!(decode::parse_query(Some(&query)).ok(), Some((after, limit)));
        let _ = decode::parse_query(Some(&noise));
    }

    #[test]
    fn upload_metadata_round_trips_and_nothing_else_panics(
        r in any::<u128>(),
        a in any::<u128>(),
        noise in ".{0,80}",
    ) {
        let record = RecordId::from_uuid(uuid::Uuid::from_u128(r));
        let attachment = AttachmentId::from_uuid(uuid::Uuid::from_u128(a));
        let meta = format!(
            "attachment_id {},record_id {}",
            sync_protocol::b64::encode(attachment.to_string()),
            sync_protocol::b64::encode(record.to_string()),
        );
        prop_assert_eq!(decode::parse_metadata(Some(&meta)).ok(), Some((record, attachment)));
        let _ = decode::parse_metadata(Some(&noise));
    }

    #[test]
    fn protocol_versions_other_than_1_and_2_are_refused(value in ".{0,8}") {
        prop_assert_eq!(decode::protocol_version_ok(Some(&value)), value == "1" || value == "2");
    }

    #[test]
    fn numeric_and_checksum_headers_never_panic(value in ".{0,60}", n in any::<u64>()) {
        if let Some(h) = header("upload-offset", &value) {
            let _ = decode::decimal_header(&h, &HeaderName::from_static("upload-offset"));
        }
        if let Some(h) = header("upload-checksum", &value) {
            let _ = decode::checksum(&h);
        }
        let h = header("upload-offset", &n.to_string()).expect("digits are a valid header");
        prop_assert_eq!(
            decode::decimal_header(&h, &HeaderName::from_static("upload-offset")).ok(),
            Some(n)
        );
    }
}

fn json_like() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        "\\{\"envelopes\":\\[.{0,120}\\]\\}".prop_map(String::into_bytes),
        "\\{\"payloadType\":\".{0,20}\",\"payload\":\".{0,40}\",\"signatures\":\\[.{0,60}\\]\\}"
            .prop_map(String::into_bytes),
    ]
}

#[test]
fn arbitrary_bodies_get_problems_never_server_errors() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (backend, kit) = rt.block_on(async {
        let backend = Backend::new(&Db::Sqlite).await;
        let kit = backend.kit().await;
        (backend, kit)
    });
    let config = ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    };
    proptest!(config, |(body in json_like())| {
        rt.block_on(async {
            for req in [
                kit.signed("POST", "/v1/records", body.clone()),
                Request::post("/v1/enrol")
                    .header("fieldkit-protocol", "1")
                    .body(Body::from(body.clone()))
                    .expect("request"),
            ] {
                let resp = backend.send(req).await;
                assert!(
                    resp.status == StatusCode::OK || resp.status.is_client_error(),
                    "{resp:?}"
                );
                if resp.status != StatusCode::OK {
                    let _ = resp.problem();
                }
            }
        });
    });
    let kit_row = rt
        .block_on(backend.store().kit(&kit.kit_id))
        .expect("store")
        .expect("kit");
    assert_eq!(kit_row.head, None, "no arbitrary body stored a record");
}
