//! `changes.json`: pages of signed changes (PROTOCOL.md §6.5, protocol version 2) and how
//! many of their entries a kit accepts, in order, before the first it must refuse.

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use sync_protocol::api::{CaseStatus, Change, ChangeKind, ServerKey, TlsPin};
use sync_protocol::change::{PageVerifier, SignedChange, TrustedKey, CHANGE_PAYLOAD_TYPE};
use sync_protocol::dsse::{self, Envelope};
use sync_protocol::ids::KitId;
use sync_protocol::receipt::ed25519_key_id;

use crate::support::{self, kit_id, record_id};

use super::{load, str_field};

fn server() -> SigningKey {
    support::signing_key("server key 1")
}

fn successor() -> SigningKey {
    support::signing_key("server key 2")
}

fn at(n: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_795_000_000_000 + n * 60_000).expect("time")
}

fn change(cursor: u64, kind: ChangeKind) -> Change {
    Change {
        cursor,
        at: at(cursor as i64),
        change: kind,
    }
}

fn status(cursor: u64) -> Change {
    change(
        cursor,
        ChangeKind::Status {
            record_id: record_id(1),
            status: CaseStatus::NeedsInformation,
            comment: Some("Wohnungsgeberbestätigung fehlt.".into()),
        },
    )
}

fn wipe(cursor: u64) -> Change {
    change(
        cursor,
        ChangeKind::Wipe {
            reason: "Gerät als verloren gemeldet".into(),
        },
    )
}

fn rollover(cursor: u64) -> Change {
    change(
        cursor,
        ChangeKind::ServerKey {
            key: ServerKey::from_key(&successor().verifying_key()),
            replaces: ed25519_key_id(&server().verifying_key()),
            overlap_until: at(60 * 24 * 30),
        },
    )
}

fn signed(kit: KitId, c: &Change, key: &SigningKey) -> Value {
    serde_json::to_value(SignedChange::new(kit, c).sign(key)).expect("serializes")
}

fn ours(c: &Change, key: &SigningKey) -> Value {
    signed(kit_id(), c, key)
}

fn case(name: &str, after: u64, changes: Vec<Value>, accepted: usize, reason: &str) -> Value {
    json!({
        "name": name,
        "kit_id": kit_id().to_string(),
        "after": after,
        "trusted": [ServerKey::from_key(&server().verifying_key())],
        "changes": changes,
        "accepted": accepted,
        "reason": reason,
    })
}

pub(super) fn changes() -> Value {
    let key = server();
    let rogue = support::signing_key("rogue backend");
    let other_kit = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c"
        .parse::<KitId>()
        .expect("kit id");
    let mut unsigned: Envelope = serde_json::from_value(ours(&wipe(3), &key)).expect("envelope");
    unsigned.signatures.clear();
    let mut flipped: Envelope = serde_json::from_value(ours(&wipe(3), &key)).expect("envelope");
    let mut payload = sync_protocol::b64::decode("payload", &flipped.payload).expect("b64");
    payload[30] ^= 0x01;
    flipped.payload = sync_protocol::b64::encode(payload);
    let payload_of = |v: Value| serde_json::to_vec(&v).expect("json");
    let v1_statement = payload_of(json!({
        "v": 1, "kit_id": kit_id().to_string(), "cursor": 3, "at": "2026-11-18T08:00:00.000Z",
        "change": {"type": "wipe", "reason": "x"}}));
    let unknown_kind = payload_of(json!({
        "v": 2, "kit_id": kit_id().to_string(), "cursor": 3, "at": "2026-11-18T08:00:00.000Z",
        "change": {"type": "format_disk"}}));
    let extra_member = payload_of(json!({
        "v": 2, "kit_id": kit_id().to_string(), "cursor": 3, "at": "2026-11-18T08:00:00.000Z",
        "change": {"type": "wipe", "reason": "x", "now": true}}));
    let raw = |payload: &[u8], payload_type: &str| {
        serde_json::to_value(dsse::sign(
            payload_type,
            payload,
            &ed25519_key_id(&key.verifying_key()),
            &key,
        ))
        .expect("serializes")
    };
    let pin = TlsPin {
        spki_sha256: "4f2b8e5d1c0a9f7e6d5c4b3a29180706f5e4d3c2b1a09f8e7d6c5b4a39281706".into(),
        cert_sha256: "9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9".into(),
    };
    let tls_pin = change(
        4,
        ChangeKind::TlsPin {
            pin,
            overlap_until: at(60 * 24 * 14),
        },
    );
    let catalog = change(
        2,
        ChangeKind::Catalog {
            version: "2026.11.4".into(),
        },
    );
    json!([
        case(
            "status-catalog-wipe",
            0,
            vec![
                ours(&status(1), &key),
                ours(&catalog, &key),
                ours(&wipe(3), &key)
            ],
            3,
            ""
        ),
        case("tls-pin-rollover", 3, vec![ours(&tls_pin, &key)], 1, ""),
        case(
            "server-key-rollover-then-new-key",
            0,
            vec![ours(&rollover(5), &key), ours(&wipe(6), &successor())],
            2,
            ""
        ),
        case(
            "new-key-before-its-rollover",
            0,
            vec![ours(&wipe(6), &successor()), ours(&rollover(7), &key)],
            0,
            "no trusted key has the key id"
        ),
        case(
            "rollover-signed-by-the-new-key",
            0,
            vec![ours(&rollover(5), &successor())],
            0,
            "no trusted key has the key id"
        ),
        case(
            "unsigned-wipe",
            0,
            vec![serde_json::to_value(&unsigned).expect("json")],
            0,
            "exactly one signature required"
        ),
        case(
            "wipe-signed-by-a-rogue-key",
            0,
            vec![ours(&wipe(3), &rogue)],
            0,
            "no trusted key has the key id"
        ),
        case(
            "wipe-claiming-the-server-key-id",
            0,
            vec![serde_json::to_value(dsse::sign(
                CHANGE_PAYLOAD_TYPE,
                &serde_json::to_vec(&SignedChange::new(kit_id(), &wipe(3))).expect("json"),
                &ed25519_key_id(&key.verifying_key()),
                &rogue,
            ))
            .expect("json")],
            0,
            "signature does not verify"
        ),
        case(
            "flipped-payload-byte",
            0,
            vec![serde_json::to_value(&flipped).expect("json")],
            0,
            "signature does not verify"
        ),
        case(
            "wipe-for-another-kit",
            0,
            vec![signed(other_kit, &wipe(3), &key)],
            0,
            "kit_id is another kit"
        ),
        case(
            "replayed-cursor",
            3,
            vec![ours(&wipe(3), &key)],
            0,
            "cursor does not follow after"
        ),
        case(
            "reordered-cursors",
            0,
            vec![ours(&wipe(3), &key), ours(&status(1), &key)],
            1,
            "cursor does not follow the previous entry"
        ),
        case(
            "receipt-payload-type",
            0,
            vec![raw(
                &serde_json::to_vec(&SignedChange::new(kit_id(), &wipe(3))).expect("json"),
                sync_protocol::receipt::RECEIPT_PAYLOAD_TYPE
            )],
            0,
            "payloadType is not the change type"
        ),
        case(
            "statement-version-1",
            0,
            vec![raw(&v1_statement, CHANGE_PAYLOAD_TYPE)],
            0,
            "v is not 2"
        ),
        case(
            "unknown-change-type",
            0,
            vec![raw(&unknown_kind, CHANGE_PAYLOAD_TYPE)],
            0,
            "unknown change type"
        ),
        case(
            "unknown-member-in-change",
            0,
            vec![raw(&extra_member, CHANGE_PAYLOAD_TYPE)],
            0,
            "unknown member"
        ),
    ])
}

#[test]
fn change_vectors_accept_exactly_the_recorded_prefix() {
    let cases = load("changes.json");
    assert!(cases.len() >= 15);
    for case in &cases {
        let name = str_field(case, "name");
        let trusted: Vec<ServerKey> =
            serde_json::from_value(case["trusted"].clone()).expect("trusted keys");
        let keys = trusted
            .iter()
            .map(|k| TrustedKey::new(k.to_key().expect("valid key")))
            .collect();
        let kit: KitId = str_field(case, "kit_id").parse().expect("kit id");
        let mut verifier = PageVerifier::new(kit, case["after"].as_u64().expect("after"), keys);
        let mut accepted = 0;
        for env in case["changes"].as_array().expect("changes") {
            let verdict = Envelope::from_json(&serde_json::to_vec(env).expect("json"))
                .and_then(|e| verifier.next(&e));
            if verdict.is_err() {
                break;
            }
            accepted += 1;
        }
        assert_eq!(
            accepted,
            case["accepted"].as_u64().expect("accepted") as usize,
            "{name}"
        );
    }
}
