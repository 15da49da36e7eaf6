//! `held-records.json`: held-records files (PROTOCOL.md §11), valid and broken, with
//! the verdict of §11.2 and, for valid files, the positions whose receipt is taken.

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use sync_protocol::api::ServerKey;
use sync_protocol::held::{HeldEntry, HeldFile, HeldRecord, HeldState, HeldStatement};
use sync_protocol::receipt::Receipt;
use sync_protocol::record::SignedRecord;

use crate::support::{self, kit_id, kit_key, make_chain};

use super::{load, str_field};

fn server() -> SigningKey {
    support::signing_key("server key 1")
}

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_795_000_000_000 + minutes * 60_000).expect("time")
}

fn receipt(r: &SignedRecord, by: &SigningKey) -> sync_protocol::dsse::Envelope {
    Receipt::for_record(r, at(r.record.seq as i64), 40 + r.record.seq).sign(by)
}

/// Positions 2–4 of a chain: 2 purged with its receipt, 3 complete with envelope and
/// receipt, 4 pending.
fn parts(chain: &[SignedRecord], receipt_by: &SigningKey) -> (HeldStatement, Vec<HeldRecord>) {
    let states = [HeldState::Purged, HeldState::Complete, HeldState::Pending];
    let held = &chain[1..4];
    let statement = HeldStatement {
        v: 1,
        kit_id: kit_id(),
        created_at: at(600),
        blocked: "cannot_resend".into(),
        entries: held
            .iter()
            .zip(states)
            .map(|(r, state)| HeldEntry {
                seq: r.record.seq,
                record_id: r.record.record_id,
                hash: r.hash,
                state,
                problem: None,
            })
            .collect(),
    };
    let records = held
        .iter()
        .zip(states)
        .map(|(r, state)| HeldRecord {
            seq: r.record.seq,
            envelope: (state != HeldState::Purged).then(|| r.envelope.clone()),
            receipt: (state != HeldState::Pending).then(|| receipt(r, receipt_by)),
        })
        .collect();
    (statement, records)
}

fn case(name: &str, file: Value, valid: bool, reason: &str, taken: &[u64]) -> Value {
    json!({
        "name": name,
        "kit_id": kit_id().to_string(),
        "kit_public_key_hex": hex::encode(kit_key().verifying_key().as_bytes()),
        "server_keys": [ServerKey::from_key(&server().verifying_key())],
        "file": file,
        "valid": valid,
        "reason": reason,
        "receipts_taken": taken,
    })
}

fn signed(statement: &HeldStatement, records: Vec<HeldRecord>) -> Value {
    serde_json::to_value(statement.sign_file(&kit_key(), records).expect("signs")).expect("json")
}

/// Signs whatever statement JSON is given, bypassing the shape checks of `sign_file`.
fn signed_raw(statement: &Value, records: Vec<HeldRecord>) -> Value {
    let payload = serde_json::to_vec(statement).expect("json");
    let env = sync_protocol::dsse::sign(
        sync_protocol::held::HELD_STATEMENT_PAYLOAD_TYPE,
        &payload,
        &kit_id().to_string(),
        &kit_key(),
    );
    json!({"format": "fieldkit-held-records", "statement": env, "records": records})
}

pub(super) fn held_records() -> Value {
    let chain = make_chain(4);
    let server = server();
    let rogue = support::signing_key("rogue backend");
    let (statement, records) = parts(&chain, &server);
    let valid = signed(&statement, records.clone());

    let (_, rogue_records) = parts(&chain, &rogue);
    let rogue_receipts = signed(&statement, rogue_records);

    let mut tampered = valid.clone();
    let mut payload: Value = serde_json::from_slice(
        &sync_protocol::b64::decode(
            "payload",
            tampered["statement"]["payload"].as_str().expect("payload"),
        )
        .expect("b64"),
    )
    .expect("json");
    payload["entries"][0]["state"] = "complete".into();
    tampered["statement"]["payload"] =
        sync_protocol::b64::encode(serde_json::to_vec(&payload).expect("json")).into();

    let mut swapped = valid.clone();
    swapped["records"][1]["envelope"] = serde_json::to_value(&chain[3].envelope).expect("json");

    let mut hole = serde_json::to_value(&statement).expect("json");
    hole["entries"][1]["seq"] = 5.into();
    let mut hole_records = records.clone();
    hole_records[1].seq = 5;
    let hole = signed_raw(&hole, hole_records);

    let mut foreign = serde_json::to_value(&statement).expect("json");
    foreign["kit_id"] = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c".into();
    let foreign = signed_raw(&foreign, records.clone());

    let mut extra = valid.clone();
    extra["records"][0]["note"] = "x".into();

    json!([
        case("purged-complete-pending", valid, true, "", &[2, 3]),
        case(
            "receipts-by-another-key-are-set-aside",
            rogue_receipts,
            true,
            "",
            &[]
        ),
        case(
            "statement-changed-after-signing",
            tampered,
            false,
            "the statement's signature does not verify",
            &[]
        ),
        case(
            "envelope-of-another-position",
            swapped,
            false,
            "an envelope's payload does not hash to its entry's hash",
            &[]
        ),
        case(
            "positions-with-a-hole",
            hole,
            false,
            "seqs must ascend without holes",
            &[]
        ),
        case(
            "statement-names-another-kit",
            foreign,
            false,
            "kit_id is not the kit whose key signed",
            &[]
        ),
        case(
            "unknown-member",
            extra,
            false,
            "a record has a member §11.1 does not define",
            &[]
        ),
    ])
}

#[test]
fn held_records_vectors_get_the_recorded_verdict() {
    for c in load("held-records.json") {
        let name = str_field(&c, "name");
        let key = ed25519_dalek::VerifyingKey::from_bytes(
            &hex::decode(str_field(&c, "kit_public_key_hex"))
                .expect("hex")
                .try_into()
                .expect("32 bytes"),
        )
        .expect("key");
        let servers: Vec<ed25519_dalek::VerifyingKey> = c["server_keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| {
                serde_json::from_value::<ServerKey>(k.clone())
                    .expect("server key")
                    .to_key()
                    .expect("valid key")
            })
            .collect();
        let verdict =
            HeldFile::from_json(&serde_json::to_vec(&c["file"]).expect("json")).and_then(|f| {
                f.verify(
                    str_field(&c, "kit_id").parse().expect("kit id"),
                    &key,
                    &servers,
                )
            });
        assert_eq!(verdict.is_ok(), c["valid"] == true, "{name}: {verdict:?}");
        if let Ok(checked) = verdict {
            let taken: Vec<u64> = checked
                .entries
                .iter()
                .filter(|e| e.receipt.is_some())
                .map(|e| e.entry.seq)
                .collect();
            let expected: Vec<u64> = c["receipts_taken"]
                .as_array()
                .expect("taken")
                .iter()
                .map(|v| v.as_u64().expect("seq"))
                .collect();
            assert_eq!(taken, expected, "{name}");
        }
    }
}
