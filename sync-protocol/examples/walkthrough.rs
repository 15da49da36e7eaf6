//! A narrated run of the protocol, kit side and backend side in one process: enrol,
//! capture a sealed and signed Anmeldung with its signed printout, verify and chain it at
//! the backend, return a receipt, refuse a replay and a forgery, open the case as the
//! authority. `bash scripts/run.sh` runs it until the backend and the kit app exist.
#![allow(clippy::print_stdout)]

use chrono::{NaiveDate, Utc};
use ed25519_dalek::SigningKey;
use rand_core::OsRng;
use sync_protocol::api::EnrolRequest;
use sync_protocol::attachment::{AttachmentDecryptor, AttachmentEncryptor, AttachmentSecret};
use sync_protocol::chain::{classify_incoming, ChainAnchor, ChainLink, Incoming};
use sync_protocol::httpsig::{self, RequestParts};
use sync_protocol::ids::{
    Ars, AttachmentId, AuthorityId, ClerkId, FormId, KitId, LeikaKey, MediaType, RecordId,
    Sha256Hash,
};
use sync_protocol::receipt::Receipt;
use sync_protocol::record::{AttachmentEntry, Purpose, Record, RecordKind, SignedRecord};
use sync_protocol::seal::{self, CasePayload};
use sync_protocol::{b64, ProtocolError};
use uuid::Uuid;

fn main() -> Result<(), ProtocolError> {
    println!(
        "Fieldkit protocol walkthrough (sync-protocol v{})\n",
        sync_protocol::PROTOCOL_VERSION
    );

    // IT staff: an authority with its HPKE key, a backend with its signing key.
    let authority = AuthorityId::parse("gemeinde-musterstadt")?;
    let (authority_sk, authority_pk) = seal::generate_authority_keypair(&mut OsRng);
    let server_key = SigningKey::generate(&mut OsRng);
    println!(
        "1. IT: authority {authority} has HPKE key {}",
        authority_pk.key_id()
    );

    // Kit: generate its key on the device and enrol with a one-time code.
    let kit_key = SigningKey::generate(&mut OsRng);
    let enrol = EnrolRequest {
        v: 1,
        code: "7KQ4-M2XP".into(),
        kit_public_key: b64::encode(kit_key.verifying_key().as_bytes()),
        kit_name: "Bürgerkoffer 1".into(),
        device_time: Utc::now(),
    }
    .sign(&kit_key);
    let (_, enrolled_key) = EnrolRequest::verify(&enrol)?;
    let kit_id = KitId::from_uuid(Uuid::now_v7());
    println!("2. Kit: enrolled as {kit_id}; the backend checked proof of key possession");

    // Clerk: capture an Anmeldung with the signed printout as an attachment.
    let printout = b"%PDF-1.7 printout of the captured data, signed by the citizen".repeat(3000);
    let attachment_id = AttachmentId::from_uuid(Uuid::new_v4());
    let secret = AttachmentSecret::generate(&mut OsRng);
    let mut encryptor = AttachmentEncryptor::new(&secret, attachment_id);
    let mut ciphertext = Vec::new();
    for piece in printout.chunks(16 * 1024) {
        ciphertext.extend(encryptor.update(piece)?);
    }
    let (tail, digests) = encryptor.finish()?;
    ciphertext.extend(tail);
    let case = CasePayload {
        form_data: serde_json::json!({
            "persons": [{"family_name": "Musterfrau", "first_names": "Erika", "date_of_birth": "1941-08-12"}],
            "move_in_date": "2026-11-02",
            "dwelling": "hauptwohnung"
        }),
        attachment_keys: vec![secret.to_wire(attachment_id)],
        attachments: Vec::new(),
    };
    let record_id = RecordId::from_uuid(Uuid::now_v7());
    let sealed = seal::seal(
        &authority_pk,
        &seal::case_aad(&record_id, &kit_id, &authority),
        &case.to_json(),
        &mut OsRng,
    )?;
    let record = Record {
        v: 1,
        record_id,
        kit_id,
        seq: 1,
        prev_hash: Sha256Hash::ZERO,
        device_time: Utc::now(),
        clerk_id: ClerkId::parse("c-mueller")?,
        kind: RecordKind::Application,
        references: None,
        leika: LeikaKey::parse("99115005104000")?,
        form_id: FormId::parse("anmeldung")?,
        form_version: 1,
        authority_id: authority.clone(),
        ars: Ars::parse("064320014014")?,
        visit_date: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap_or_default(),
        sealed,
        attachments: vec![AttachmentEntry {
            id: attachment_id,
            purpose: Purpose::Form,
            media_type: MediaType::parse("application/pdf")?,
            size: digests.size,
            sha256: digests.sha256,
            ciphertext_size: digests.ciphertext_size,
            ciphertext_sha256: digests.ciphertext_sha256,
        }],
    }
    .sign(&kit_key)?;
    println!(
        "3. Clerk: finalized record {} (seq 1, {} payload bytes, attachment {} → {} bytes sealed)",
        record.record.record_id,
        record.payload.len(),
        digests.size,
        digests.ciphertext_size
    );
    println!(
        "   verification code for the citizen's receipt: {}",
        &record.hash.to_hex()[..8].to_uppercase()
    );

    // Kit → backend: the request is signed; the backend checks signature, digest, window.
    let body = serde_json::to_vec(&sync_protocol::api::PushBatch {
        envelopes: vec![record.envelope.clone()],
    })
    .unwrap_or_default();
    let mut headers = vec![
        ("content-digest".to_owned(), httpsig::content_digest(&body)),
        ("fieldkit-protocol".to_owned(), "1".to_owned()),
    ];
    let uri = "https://fieldkit.musterstadt.example/v1/records";
    let now = Utc::now().timestamp();
    let signed = httpsig::sign_request(
        &RequestParts {
            method: "POST",
            target_uri: uri,
            headers: &headers,
        },
        &kit_id,
        &kit_key,
        now,
        &hex::encode(Uuid::new_v4().as_bytes()),
    )?;
    headers.push(("signature-input".to_owned(), signed.signature_input));
    headers.push(("signature".to_owned(), signed.signature));
    let who = httpsig::verify_request(
        &RequestParts {
            method: "POST",
            target_uri: uri,
            headers: &headers,
        },
        &body,
        now,
        |id| (*id == kit_id).then_some(enrolled_key),
    )?;
    println!("4. Backend: request signed by kit {}", who.kit_id);

    // Backend: verify the record before parsing, chain it, sign a receipt.
    let received = SignedRecord::verify(&record.envelope, kit_id, &enrolled_key)?;
    let outcome = classify_incoming(None, None, &ChainLink::from(&received));
    let receipt = Receipt::for_record(&received, Utc::now(), 1).sign(&server_key);
    println!("5. Backend: record verified, chain says {outcome:?}, receipt signed");

    // Kit: a delivery counts only with a verifying receipt for exactly this record.
    let r = Receipt::verify(&receipt, &[server_key.verifying_key()])?;
    r.require_matches(&record)?;
    println!(
        "6. Kit: receipt verified, record delivered at {}",
        r.received_at
    );

    // The same bytes again are a duplicate; a forged record never verifies.
    let head = Some(ChainAnchor {
        seq: 1,
        hash: received.hash,
    });
    let again = classify_incoming(head, Some(received.hash), &ChainLink::from(&received));
    let forger = SigningKey::generate(&mut OsRng);
    let forged = SignedRecord::verify(
        &record.record.clone().sign(&forger)?.envelope,
        kit_id,
        &enrolled_key,
    );
    println!(
        "7. Backend: resend → {again:?}; record signed by another key → {}",
        match forged {
            Err(e) => e.to_string(),
            Ok(_) => "ACCEPTED (bug)".to_owned(),
        }
    );
    assert_eq!(again, Incoming::Duplicate);

    // Authority: open the case and stream-decrypt the printout.
    let aad = seal::case_aad(
        &received.record.record_id,
        &kit_id,
        &received.record.authority_id,
    );
    let opened =
        CasePayload::from_json(&seal::open(&authority_sk, &received.record.sealed, &aad)?)?;
    let key = AttachmentSecret::from_wire(&opened.attachment_keys[0])?;
    let mut decryptor = AttachmentDecryptor::new(&key, attachment_id);
    let mut plain = decryptor.update(&ciphertext)?;
    let (last, check) = decryptor.finish()?;
    plain.extend(last);
    println!(
        "8. Authority: opened case of {} {}; printout {} bytes, hash {}",
        opened.form_data["persons"][0]["first_names"]
            .as_str()
            .unwrap_or("?"),
        opened.form_data["persons"][0]["family_name"]
            .as_str()
            .unwrap_or("?"),
        plain.len(),
        if check.sha256 == received.record.attachments[0].sha256 {
            "matches the signed manifest"
        } else {
            "DOES NOT MATCH"
        }
    );
    println!("\nThe backend, the kit CLI and the desktop app build on these steps (see README).");
    Ok(())
}
