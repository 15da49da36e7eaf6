//! `POST /v1/records` (PROTOCOL.md §6.3, §4.9): receipts, duplicates with the original
//! receipt, gaps, forks, wrong links, routing into inboxes, and per-record rejections
//! that never abort the batch.

use axum::http::StatusCode;
use sync_protocol::api::{Outcome, PushBatchResponse};
use sync_protocol::ids::{AuthorityId, Sha256Hash};
use sync_protocol::receipt::Receipt;
use sync_protocol::record::SignedRecord;

use crate::support::kit::{SealTo, Spec};
use crate::support::{databases, Backend, Db, TestKit};

pub async fn push(
    backend: &Backend,
    kit: &TestKit,
    records: &[&SignedRecord],
) -> PushBatchResponse {
    let resp = backend.send(kit.push(records)).await;
    assert_eq!(resp.status, StatusCode::OK, "{resp:?}");
    resp.json()
}

/// What a kit must check before it marks a record delivered (§8.2).
pub fn delivered(
    kit: &TestKit,
    response: &PushBatchResponse,
    index: usize,
    record: &SignedRecord,
) -> Receipt {
    let result = &response.results[index];
    assert_eq!(result.index, index);
    let envelope = result.receipt.as_ref().expect("a receipt");
    let receipt = Receipt::verify(envelope, &kit.server_keys).expect("receipt verifies");
    receipt
        .require_matches(record)
        .expect("receipt names the record");
    receipt
}

fn code(response: &PushBatchResponse, index: usize) -> String {
    let p = response.results[index].problem.as_ref().expect("a problem");
    serde_json::to_value(p.code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[tokio::test]
async fn a_story_of_accepts_duplicates_gaps_and_forks_holds_on_every_store() {
    for db in databases("records story") {
        story(&db).await;
    }
}

async fn story(db: &Db) {
    let backend = Backend::serve(db).await;
    let mut kit = backend.kit().await;
    let r1 = kit.next(&Spec::anmeldung());
    let r2 = kit.next(&Spec::anmeldung().with_attachments(&[1000]));
    let r3 = kit.next(&Spec::anmeldung());

    let first = push(&backend, &kit, &[&r1, &r2]).await;
    assert_eq!(first.results[0].outcome, Outcome::Accepted, "{}", db.name());
    let c1 = delivered(&kit, &first, 0, &r1);
    let c2 = delivered(&kit, &first, 1, &r2);
    assert!(c2.log_position > c1.log_position, "log positions increase");
    assert_eq!(first.head.map(|h| (h.seq, h.hash)), Some((2, r2.hash)));

    // The kit crashed before storing the receipts and sends again, with r3.
    let again = push(&backend, &kit, &[&r1, &r2, &r3]).await;
    assert_eq!(again.results[0].outcome, Outcome::Duplicate);
    assert_eq!(
        again.results[0].receipt, first.results[0].receipt,
        "a duplicate carries the original receipt, byte for byte"
    );
    assert_eq!(again.results[2].outcome, Outcome::Accepted);
    delivered(&kit, &again, 2, &r3);

    // Records 5 and 6 while the backend holds 3: both are a gap from 4.
    let r4 = kit.next(&Spec::anmeldung());
    let r5 = kit.next(&Spec::anmeldung());
    let r6 = kit.next(&Spec::anmeldung());
    let gap = push(&backend, &kit, &[&r5, &r6]).await;
    assert_eq!(gap.results[0].outcome, Outcome::Gap);
    assert_eq!(gap.results[0].resend_from, Some(4));
    assert_eq!(gap.results[0].record_id, Some(r5.record.record_id));
    assert_eq!(gap.results[1].outcome, Outcome::Gap);
    assert_eq!(
        gap.results[1].record_id, None,
        "a sticky gap is not looked at"
    );
    let resent = push(&backend, &kit, &[&r4, &r5, &r6]).await;
    assert!(resent
        .results
        .iter()
        .all(|r| r.outcome == Outcome::Accepted));

    // A clone of the kit signs another record at seq 3: a fork.
    let fork = kit.record_at(3, r2.hash, &Spec::anmeldung());
    let forked = push(&backend, &kit, &[&fork]).await;
    assert_eq!(forked.results[0].outcome, Outcome::Conflict);
    assert_eq!(code(&forked, 0), "conflict");
    let evidence = backend
        .store()
        .fork_evidence(&kit.kit_id)
        .await
        .expect("evidence");
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0].hash, fork.hash);
    let refused = backend.send(kit.push(&[&r1])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "kit-quarantined");
    let inbox = backend
        .store()
        .inbox(&AuthorityId::parse("gemeinde-musterstadt").expect("id"))
        .await
        .expect("inbox");
    assert_eq!(inbox.len(), 6, "the fork is evidence, not a case");
}

#[tokio::test]
async fn a_wrong_link_and_a_reused_record_id_are_conflicts_and_store_nothing() {
    let backend = Backend::new(&Db::Sqlite).await;
    let mut kit = backend.kit().await;
    let r1 = kit.next(&Spec::anmeldung());
    push(&backend, &kit, &[&r1]).await;
    let wrong = kit.record_at(2, Sha256Hash([7; 32]), &Spec::anmeldung());
    let resp = push(&backend, &kit, &[&wrong]).await;
    assert_eq!(resp.results[0].outcome, Outcome::Conflict);
    assert_eq!(resp.head.map(|h| h.seq), Some(1), "nothing was stored");

    // Another kit sends a record with r1's id (other bytes): conflict.
    let mut other = backend.kit().await;
    let mut stolen = other.record_at(1, Sha256Hash::ZERO, &Spec::anmeldung());
    let mut record = stolen.record.clone();
    record.record_id = r1.record.record_id;
    stolen = record.sign(&other.key).expect("signs");
    other.chain.push(stolen.clone());
    let resp = push(&backend, &other, &[&stolen]).await;
    assert_eq!(resp.results[0].outcome, Outcome::Conflict);
    assert!(resp.results[0]
        .problem
        .as_ref()
        .is_some_and(|p| p.detail.contains("record_id")));
    assert_eq!(resp.head, None);
}

#[tokio::test]
async fn a_misrouted_record_is_rejected_but_stays_in_the_chain_so_later_records_append() {
    let backend = Backend::new(&Db::Sqlite).await;
    let mut kit = backend.kit().await;
    let misrouted = Spec {
        authority: "gemeinde-beispielheim",
        ..Spec::anmeldung()
    };
    let r1 = kit.next(&misrouted);
    let r2 = kit.next(&Spec::anmeldung());
    let resp = push(&backend, &kit, &[&r1, &r2]).await;
    assert_eq!(resp.results[0].outcome, Outcome::Rejected);
    assert_eq!(code(&resp, 0), "unknown-routing");
    assert_eq!(resp.results[0].receipt, None);
    assert_eq!(resp.results[1].outcome, Outcome::Accepted);
    delivered(&kit, &resp, 1, &r2);
    // Sending the rejected record again answers the original rejection.
    let again = push(&backend, &kit, &[&r1]).await;
    assert_eq!(again.results[0].outcome, Outcome::Rejected);
    assert_eq!(again.results[0].problem, resp.results[0].problem);
    let beispielheim = backend
        .store()
        .inbox(&AuthorityId::parse("gemeinde-beispielheim").expect("id"))
        .await
        .expect("inbox");
    assert!(beispielheim.is_empty(), "a rejected record is not a case");
}

#[tokio::test]
async fn unknown_forms_versions_keys_and_services_are_unknown_routing() {
    let backend = Backend::new(&Db::Sqlite).await;
    let mut kit = backend.kit().await;
    let specs = [
        Spec {
            form_version: 7,
            ..Spec::anmeldung()
        },
        Spec {
            leika: "99000000000003",
            ..Spec::anmeldung()
        },
        Spec {
            seal_to: SealTo::Stranger,
            ..Spec::anmeldung()
        },
        Spec {
            form: "personalausweis",
            leika: "99000000000005",
            ..Spec::anmeldung()
        },
    ];
    let records: Vec<SignedRecord> = specs.iter().map(|s| kit.next(s)).collect();
    let refs: Vec<&SignedRecord> = records.iter().collect();
    let resp = push(&backend, &kit, &refs).await;
    for (i, r) in resp.results.iter().enumerate() {
        assert_eq!(r.outcome, Outcome::Rejected, "record {i}");
        assert_eq!(code(&resp, i), "unknown-routing", "record {i}");
        assert_eq!(r.problem.as_ref().map(|p| p.status), Some(422));
    }
    assert_eq!(
        resp.head.map(|h| h.seq),
        Some(4),
        "rejected records stay chained"
    );
}

#[tokio::test]
async fn a_driving_licence_taken_by_a_municipal_kit_lands_in_the_county_inbox() {
    let backend = Backend::new(&Db::Sqlite).await;
    let mut kit = backend.kit().await;
    let r1 = kit.next(&Spec::driving_licence());
    let resp = push(&backend, &kit, &[&r1]).await;
    delivered(&kit, &resp, 0, &r1);
    let county = backend
        .store()
        .inbox(&AuthorityId::parse("landkreis-musterkreis").expect("id"))
        .await
        .expect("inbox");
    assert_eq!(county.len(), 1);
    assert_eq!(county[0].record_id, r1.record.record_id);
    assert_eq!(county[0].kit_id, kit.kit_id);
    let own = backend
        .store()
        .inbox(&AuthorityId::parse("gemeinde-musterstadt").expect("id"))
        .await
        .expect("inbox");
    assert!(own.is_empty(), "each authority sees only its own cases");
}

#[tokio::test]
async fn tampered_and_foreign_envelopes_are_rejected_without_stopping_the_batch() {
    let backend = Backend::new(&Db::Sqlite).await;
    let mut kit = backend.kit().await;
    let mut other = backend.kit().await;
    let r1 = kit.next(&Spec::anmeldung());
    let mut tampered = r1.clone();
    tampered.envelope.signatures[0].sig = sync_protocol::b64::encode([0u8; 64]);
    let foreign = other.next(&Spec::anmeldung());
    let resp = push(&backend, &kit, &[&tampered, &foreign, &r1]).await;
    assert_eq!(resp.results[0].outcome, Outcome::Rejected);
    assert_eq!(code(&resp, 0), "bad-record-signature");
    assert_eq!(resp.results[0].record_id, None);
    assert_eq!(
        code(&resp, 1),
        "bad-record-signature",
        "keyid is another kit"
    );
    assert_eq!(resp.results[2].outcome, Outcome::Accepted);
}

#[tokio::test]
async fn batch_limits_are_checked_before_any_signature_work() {
    let backend = Backend::new(&Db::Sqlite).await;
    let mut kit = backend.kit().await;
    let empty = backend
        .send(kit.signed("POST", "/v1/records", br#"{"envelopes":[]}"#.to_vec()))
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(empty.code(), "malformed-request");
    let r1 = kit.next(&Spec::anmeldung());
    let many: Vec<&SignedRecord> = std::iter::repeat_n(&r1, 101).collect();
    let resp = backend.send(kit.push(&many)).await;
    assert_eq!(resp.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(resp.code(), "too-large");
    let garbage = backend
        .send(kit.signed("POST", "/v1/records", b"{\"envelopes\":".to_vec()))
        .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn records_sealed_to_a_retired_authority_key_are_still_accepted() {
    let backend = Backend::new(&Db::Sqlite).await;
    let mut kit = backend.kit().await;
    let old = kit.next(&Spec::anmeldung());
    let new_key_id =
        fieldkit_backend::admin::authority::rotate_key(&backend.admin, "gemeinde-musterstadt")
            .await
            .expect("rotated");
    let keys = backend
        .store()
        .authority_keys(&AuthorityId::parse("gemeinde-musterstadt").expect("id"))
        .await
        .expect("keys");
    assert_eq!(keys[0].key.key_id, new_key_id);
    assert!(keys[0].retired_at.is_none() && keys[1].retired_at.is_some());
    kit.learn_key("gemeinde-musterstadt", keys[0].key.public_key);
    let new = kit.next(&Spec::anmeldung());
    let resp = push(&backend, &kit, &[&old, &new]).await;
    delivered(&kit, &resp, 0, &old);
    delivered(&kit, &resp, 1, &new);
}
