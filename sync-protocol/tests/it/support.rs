//! Deterministic fixtures: keys from fixed seeds, a sample Anmeldung, and records built
//! the way a kit builds them (seal → manifest → sign → chain).

use chrono::{DateTime, NaiveDate, Utc};
use ed25519_dalek::SigningKey;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};
use sync_protocol::attachment::{encrypt_all, AttachmentSecret};
use sync_protocol::ids::{
    Ars, AttachmentId, AuthorityId, ClerkId, FormId, KitId, LeikaKey, MediaType, RecordId,
    Sha256Hash,
};
use sync_protocol::record::{AttachmentEntry, Purpose, Record, RecordKind, SignedRecord};
use sync_protocol::seal::{self, AuthorityPublicKey, AuthoritySecretKey, CasePayload};
use uuid::Uuid;

/// A deterministic RNG for vectors; never used outside tests.
pub fn rng(label: &str) -> ChaCha20Rng {
    ChaCha20Rng::from_seed(Sha256::digest(label.as_bytes()).into())
}

pub fn signing_key(label: &str) -> SigningKey {
    SigningKey::from_bytes(&Sha256::digest(label.as_bytes()).into())
}

pub fn kit_key() -> SigningKey {
    signing_key("fieldkit test vectors: kit 1")
}

pub fn kit_id() -> KitId {
    "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
        .parse()
        .expect("fixed kit id")
}

pub fn authority_keys() -> (AuthoritySecretKey, AuthorityPublicKey) {
    seal::derive_authority_keypair(b"fieldkit test vectors: gemeinde-musterstadt")
}

pub fn authority_id() -> AuthorityId {
    AuthorityId::parse("gemeinde-musterstadt").expect("fixed authority")
}

/// A UUIDv7 at a fixed instant, distinct per `n`.
pub fn record_id(n: u64) -> RecordId {
    let mut tail = [0u8; 10];
    tail[2..].copy_from_slice(&n.to_be_bytes());
    RecordId::from_uuid(
        uuid::Builder::from_unix_timestamp_millis(1_763_716_200_000 + n, &tail).into_uuid(),
    )
}

pub fn attachment_id(n: u64) -> AttachmentId {
    AttachmentId::from_uuid(Uuid::from_u64_pair(
        0x0193_a1b2_c3d4_4e5f,
        0x8a9b_0000_0000_0000 + n,
    ))
}

pub fn device_time(n: u64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_763_716_200_000 + 60_000 * n as i64).expect("fixed time")
}

pub fn sample_form_data(n: u64) -> serde_json::Value {
    serde_json::json!({
        "persons": [{
            "family_name": "Musterfrau",
            "first_names": "Erika",
            "date_of_birth": "1941-08-12",
            "place_of_birth": "Berlin",
            "sex": "w",
            "nationalities": ["DE"],
            "family_status": "VW"
        }],
        "move_in_date": "2026-11-02",
        "new_address": {"street": "Lindenweg", "house_number": format!("{n}"), "postal_code": "64342", "city": "Seeheim-Jugenheim"},
        "dwelling": "hauptwohnung",
        "landlord_confirmation": "captured"
    })
}

/// One attachment's plaintext: byte `i % 251`.
pub fn attachment_plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Builds and signs record `seq` of the fixture kit, as a kit would.
pub fn make_record(
    seq: u64,
    prev_hash: Sha256Hash,
    kind: RecordKind,
    with_attachment: bool,
    variant: u64,
) -> SignedRecord {
    let mut rng = rng(&format!("record {seq} variant {variant}"));
    let record_id = record_id(seq * 100 + variant);
    let mut attachments = Vec::new();
    let mut keys = Vec::new();
    if with_attachment {
        let id = attachment_id(seq);
        let secret = AttachmentSecret::generate(&mut rng);
        let (_, d) = encrypt_all(&secret, id, &attachment_plaintext(1000)).expect("encrypts");
        attachments.push(AttachmentEntry {
            id,
            purpose: Purpose::Form,
            media_type: MediaType::parse("application/pdf").expect("media type"),
            size: d.size,
            sha256: d.sha256,
            ciphertext_size: d.ciphertext_size,
            ciphertext_sha256: d.ciphertext_sha256,
        });
        keys.push(secret.to_wire(id));
    }
    let case = CasePayload {
        form_data: sample_form_data(seq + variant),
        attachment_keys: keys,
        attachments: Vec::new(),
    };
    let (_, authority_pk) = authority_keys();
    let aad = seal::case_aad(&record_id, &kit_id(), &authority_id());
    let sealed = seal::seal(&authority_pk, &aad, &case.to_json(), &mut rng).expect("seals");
    let references = match kind {
        RecordKind::Application => None,
        _ => Some(self::record_id(100)),
    };
    Record {
        v: 1,
        record_id,
        kit_id: kit_id(),
        seq,
        prev_hash,
        device_time: device_time(seq),
        clerk_id: ClerkId::parse("c-mueller").expect("clerk"),
        kind,
        references,
        leika: LeikaKey::parse("99115005104000").expect("leika"),
        form_id: FormId::parse("anmeldung").expect("form"),
        form_version: 1,
        authority_id: authority_id(),
        ars: Ars::parse("064320014014").expect("ars"),
        visit_date: NaiveDate::from_ymd_opt(2026, 11, 21).expect("date"),
        sealed,
        attachments,
    }
    .sign(&kit_key())
    .expect("signs")
}

/// A chain of `n` application records.
pub fn make_chain(n: u64) -> Vec<SignedRecord> {
    let mut out: Vec<SignedRecord> = Vec::new();
    for seq in 1..=n {
        let prev = out.last().map_or(Sha256Hash::ZERO, |r| r.hash);
        out.push(make_record(
            seq,
            prev,
            RecordKind::Application,
            seq % 2 == 0,
            0,
        ));
    }
    out
}
