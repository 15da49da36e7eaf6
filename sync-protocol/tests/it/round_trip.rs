//! A record's whole life through the protocol, as kit and backend see it: capture with
//! an attachment, verify, chain, receipt, open by the authority.

use sync_protocol::attachment::{decrypt_all, AttachmentSecret};
use sync_protocol::chain::{classify_incoming, ChainAnchor, ChainLink, Incoming};
use sync_protocol::ids::Sha256Hash;
use sync_protocol::receipt::Receipt;
use sync_protocol::record::{RecordKind, SignedRecord};
use sync_protocol::seal::{self, CasePayload};
use sync_protocol::ProtocolError;

use crate::support::{self, authority_keys, kit_id, kit_key, make_chain, make_record};

#[test]
fn a_captured_record_travels_to_the_authority_and_back_as_a_receipt() {
    let chain = make_chain(2);
    let sent = &chain[1];

    // Backend: verify before parsing, then classify against the stored head.
    let received = SignedRecord::verify(&sent.envelope, kit_id(), &kit_key().verifying_key())
        .expect("verifies");
    assert_eq!(
        received.payload, sent.payload,
        "the signed bytes are kept as they are"
    );
    let head = Some(ChainAnchor {
        seq: 1,
        hash: chain[0].hash,
    });
    assert_eq!(
        classify_incoming(head, None, &ChainLink::from(&received)),
        Incoming::Append
    );

    // Backend: receipt; kit: verify it and check it names what was sent.
    let server = support::signing_key("server key 1");
    let receipt_env = Receipt::for_record(&received, support::device_time(9), 42).sign(&server);
    let receipt =
        Receipt::verify(&receipt_env, &[server.verifying_key()]).expect("receipt verifies");
    receipt
        .require_matches(sent)
        .expect("receipt names the record");
    assert!(receipt.require_matches(&chain[0]).is_err());
    let stranger = support::signing_key("not the server");
    assert!(Receipt::verify(&receipt_env, &[stranger.verifying_key()]).is_err());

    // Authority: open the case, then the attachment with the key inside it.
    let (sk, _) = authority_keys();
    let aad = seal::case_aad(
        &received.record.record_id,
        &kit_id(),
        &received.record.authority_id,
    );
    let case =
        CasePayload::from_json(&seal::open(&sk, &received.record.sealed, &aad).expect("opens"))
            .expect("case payload");
    assert_eq!(case.form_data["persons"][0]["family_name"], "Musterfrau");
    case.require_keys_match(&received.record.attachments)
        .expect("one key per attachment");
    assert!(
        case.require_keys_match(&[]).is_err(),
        "a key without an attachment is refused"
    );
    let entry = &received.record.attachments[0];
    let secret = AttachmentSecret::from_wire(&case.attachment_keys[0]).expect("key");
    assert_eq!(case.attachment_keys[0].attachment_id, entry.id);
    // The fixture encrypts with the same key, so re-encrypting gives the uploaded bytes.
    let (ct, _) = sync_protocol::attachment::encrypt_all(
        &secret,
        entry.id,
        &support::attachment_plaintext(1000),
    )
    .expect("encrypts");
    let (plain, digests) = decrypt_all(&secret, entry.id, &ct).expect("decrypts");
    assert_eq!(plain.len() as u64, entry.size);
    assert_eq!(digests.ciphertext_sha256, entry.ciphertext_sha256);
    assert_eq!(digests.sha256, entry.sha256);
}

#[test]
fn a_case_sealed_for_one_authority_cannot_be_opened_as_another_record() {
    let rec = &make_chain(1)[0];
    let (sk, _) = authority_keys();
    let other_aad = seal::case_aad(
        &support::record_id(999),
        &kit_id(),
        &rec.record.authority_id,
    );
    assert_eq!(
        seal::open(&sk, &rec.record.sealed, &other_aad).err(),
        Some(ProtocolError::DecryptionFailed)
    );
    let (other_sk, _) = seal::derive_authority_keypair(b"another authority");
    let aad = seal::case_aad(&rec.record.record_id, &kit_id(), &rec.record.authority_id);
    assert!(seal::open(&other_sk, &rec.record.sealed, &aad).is_err());
}

#[test]
fn records_that_break_model_rules_are_never_signed() {
    let good = make_record(1, Sha256Hash::ZERO, RecordKind::Application, false, 0).record;
    type Mutation = Box<dyn Fn(&mut sync_protocol::record::Record)>;
    let cases: Vec<(&str, Mutation)> = vec![
        ("seq 0", Box::new(|r| r.seq = 0)),
        (
            "seq 1 with a predecessor",
            Box::new(|r| r.prev_hash = Sha256Hash([1; 32])),
        ),
        ("seq 2 without a predecessor", Box::new(|r| r.seq = 2)),
        (
            "correction without reference",
            Box::new(|r| r.kind = RecordKind::Correction),
        ),
        (
            "application with reference",
            Box::new(|r| r.references = Some(support::record_id(5))),
        ),
        ("form version 0", Box::new(|r| r.form_version = 0)),
        (
            "record id not v7",
            Box::new(|r| {
                r.record_id = sync_protocol::ids::RecordId::from_uuid(uuid::Uuid::from_u128(
                    0x0193_0000_0000_4000_8000_0000_0000_0001,
                ));
            }),
        ),
        (
            "unknown seal suite",
            Box::new(|r| r.sealed.suite = "RSA".into()),
        ),
        ("version 2", Box::new(|r| r.v = 2)),
    ];
    for (name, mutate) in cases {
        let mut bad = good.clone();
        mutate(&mut bad);
        assert!(
            matches!(
                bad.sign(&kit_key()),
                Err(ProtocolError::Invalid { .. } | ProtocolError::Malformed { .. })
            ),
            "{name} was signed"
        );
    }
}

#[test]
fn batches_over_the_limits_are_refused_before_any_signature_work() {
    use sync_protocol::api::{PushBatch, MAX_BATCH_RECORDS};
    let env = make_chain(1)[0].envelope.clone();
    let ok = serde_json::to_vec(&PushBatch {
        envelopes: vec![env.clone()],
    })
    .expect("json");
    assert!(PushBatch::from_json(&ok).is_ok());
    let empty = serde_json::to_vec(&PushBatch { envelopes: vec![] }).expect("json");
    assert!(matches!(
        PushBatch::from_json(&empty),
        Err(ProtocolError::Malformed { .. })
    ));
    let many = serde_json::to_vec(&PushBatch {
        envelopes: vec![env; MAX_BATCH_RECORDS + 1],
    })
    .expect("json");
    assert!(matches!(
        PushBatch::from_json(&many),
        Err(ProtocolError::TooLarge { .. })
    ));
    assert!(matches!(
        PushBatch::from_json(&vec![b' '; 9 * 1024 * 1024]),
        Err(ProtocolError::TooLarge { what: "batch", .. })
    ));
    assert!(PushBatch::from_json(b"{\"envelopes\": 3}").is_err());
}

#[test]
fn an_unknown_problem_code_from_a_newer_backend_still_parses() {
    let json = br#"{"type":"urn:fieldkit:problem:brand-new","title":"New","status":422,"detail":"x","code":"brand-new","retryable":false}"#;
    let p: sync_protocol::api::Problem = serde_json::from_slice(json).expect("parses");
    assert_eq!(p.code, sync_protocol::api::ProblemCode::Unknown);
}

#[test]
fn attachment_labels_name_only_manifest_attachments_once_and_are_sanitized_when_read() {
    use sync_protocol::seal::AttachmentLabel;
    let chain = make_chain(2);
    let record = SignedRecord::verify(&chain[1].envelope, kit_id(), &kit_key().verifying_key())
        .expect("verifies");
    let (sk, _) = authority_keys();
    let aad = seal::case_aad(
        &record.record.record_id,
        &kit_id(),
        &record.record.authority_id,
    );
    let mut case =
        CasePayload::from_json(&seal::open(&sk, &record.record.sealed, &aad).expect("opens"))
            .expect("case payload");
    let id = record.record.attachments[0].id;
    let label = |file_name: &str| AttachmentLabel {
        attachment_id: id,
        kind: "landlord-confirmation".into(),
        file_name: Some(file_name.into()),
    };
    // A kit that did not sanitize (or lied): whoever reads the label sanitizes again.
    case.attachments = vec![label("../../Pass\u{202E}fdp.exe")];
    case.require_keys_match(&record.record.attachments)
        .expect("a label for a manifest attachment");
    assert_eq!(
        case.label_of(id).and_then(|l| l.file_name).as_deref(),
        Some("Passfdp.exe")
    );
    let json = case.to_json();
    let back = CasePayload::from_json(&json).expect("labels round-trip");
    assert_eq!(back.attachments, case.attachments);

    case.attachments = vec![label("a.pdf"), label("b.pdf")];
    assert!(
        case.require_keys_match(&record.record.attachments).is_err(),
        "two labels for one attachment"
    );
    let mut stranger = label("a.pdf");
    stranger.attachment_id = sync_protocol::ids::AttachmentId::from_uuid(uuid::Uuid::nil());
    case.attachments = vec![stranger];
    assert!(
        case.require_keys_match(&record.record.attachments).is_err(),
        "a label for an attachment the manifest does not list"
    );
    // Unknown members inside a label are refused like everywhere in the case payload.
    let mut value: serde_json::Value = serde_json::from_slice(&json).expect("json");
    value["attachments"][0]["extra"] = "x".into();
    assert!(CasePayload::from_json(&serde_json::to_vec(&value).expect("json")).is_err());
}
