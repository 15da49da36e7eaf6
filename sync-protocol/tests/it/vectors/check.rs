//! Checking every committed vector against the implementation.

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde_json::Value;
use sync_protocol::attachment::{decrypt_all, encrypt_all, AttachmentSecret};
use sync_protocol::chain::{verify_run, ChainAnchor, ChainLink};
use sync_protocol::dsse::Envelope;
use sync_protocol::httpsig::{self, RequestParts};
use sync_protocol::ids::KitId;
use sync_protocol::record::SignedRecord;
use sync_protocol::seal::{self, CasePayload};
use sync_protocol::ProtocolError;

use crate::support::{self, kit_id};

use super::{hex_field, load, received_base, str_field, FixedRng};

// ---------------------------------------------------------------- checking

fn public_key(case: &Value) -> VerifyingKey {
    let bytes: [u8; 32] = hex_field(case, "public_key_hex")
        .try_into()
        .expect("32 bytes");
    VerifyingKey::from_bytes(&bytes).expect("valid key")
}

fn verify_envelope_case(case: &Value, env: &Value) -> Result<SignedRecord, ProtocolError> {
    let envelope = Envelope::from_json(&serde_json::to_vec(env).expect("serializes"))?;
    let kit: KitId = str_field(case, "kit_id").parse()?;
    SignedRecord::verify(&envelope, kit, &public_key(case))
}

#[test]
fn envelope_vectors_verify_exactly_when_marked_valid() {
    let cases = load("envelopes.json");
    assert!(cases.len() >= 15);
    for case in &cases {
        let verdict = verify_envelope_case(case, &case["envelope"]);
        assert_eq!(
            verdict.is_ok(),
            case["valid"].as_bool().expect("valid flag"),
            "{}: {:?}",
            str_field(case, "name"),
            verdict.err()
        );
    }
}

#[test]
fn chain_vectors_give_exactly_the_recorded_findings() {
    for case in load("chains.json") {
        let links: Vec<ChainLink> = case["envelopes"]
            .as_array()
            .expect("envelopes")
            .iter()
            .map(|env| {
                ChainLink::from(
                    &verify_envelope_case(&case, env).expect("chain vectors are validly signed"),
                )
            })
            .collect();
        let anchor: Option<ChainAnchor> =
            serde_json::from_value(case["anchor"].clone()).expect("anchor");
        let findings = serde_json::to_value(verify_run(anchor, &links)).expect("serializes");
        assert_eq!(findings, case["findings"], "{}", str_field(&case, "name"));
    }
    let names: Vec<String> = load("chains.json")
        .iter()
        .map(|c| str_field(c, "name").to_owned())
        .collect();
    for kind in ["ok", "gap", "wrong-link", "fork"] {
        assert!(names.iter().any(|n| n.starts_with(kind)), "no {kind} case");
    }
}

#[test]
fn hpke_vectors_open_to_their_plaintext_and_reseal_identically() {
    for case in load("hpke.json") {
        let (sk, pk) = seal::derive_authority_keypair(&hex_field(&case, "ikmR"));
        assert_eq!(pk.0.to_vec(), hex_field(&case, "pkRm"));
        assert_eq!(sk.to_bytes().to_vec(), hex_field(&case, "skRm"));
        let (enc, ct) = seal::seal_with_info(
            &pk,
            &hex_field(&case, "info"),
            &hex_field(&case, "aad"),
            &hex_field(&case, "pt"),
            &mut FixedRng(hex_field(&case, "ikmE")),
        )
        .expect("seals");
        assert_eq!(
            enc.to_vec(),
            hex_field(&case, "enc"),
            "{}",
            str_field(&case, "name")
        );
        assert_eq!(ct, hex_field(&case, "ct"), "{}", str_field(&case, "name"));
        if str_field(&case, "source") == "fieldkit" {
            let sealed: seal::SealedPayload =
                serde_json::from_value(case["sealed"].clone()).expect("sealed");
            let opened = seal::open(&sk, &sealed, &hex_field(&case, "aad")).expect("opens");
            assert_eq!(opened.to_vec(), hex_field(&case, "pt"));
            CasePayload::from_json(&opened).expect("a case payload");
            assert!(seal::open(&sk, &sealed, b"another record").is_err());
        }
    }
}

#[test]
fn attachment_vectors_decrypt_to_the_pattern_with_their_hashes() {
    for case in load("attachments.json") {
        let secret = AttachmentSecret::from_parts(
            hex_field(&case, "key").try_into().expect("32"),
            hex_field(&case, "nonce_prefix").try_into().expect("7"),
        );
        let id = str_field(&case, "attachment_id").parse().expect("id");
        let ct = hex_field(&case, "ciphertext");
        let (pt, d) = decrypt_all(&secret, id, &ct).expect("decrypts");
        let len = case["plaintext_len"].as_u64().expect("len") as usize;
        assert_eq!(pt, support::attachment_plaintext(len));
        assert_eq!(d.sha256.to_hex(), str_field(&case, "plaintext_sha256"));
        assert_eq!(
            d.ciphertext_sha256.to_hex(),
            str_field(&case, "ciphertext_sha256")
        );
        assert_eq!(encrypt_all(&secret, id, &pt).expect("encrypts").0, ct);
    }
}

#[test]
fn http_signature_vectors_verify_exactly_when_marked_valid() {
    for case in load("http-signatures.json") {
        let name = str_field(&case, "name");
        let headers: Vec<(String, String)> = case["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .map(|h| {
                (
                    h[0].as_str().expect("name").to_owned(),
                    h[1].as_str().expect("value").to_owned(),
                )
            })
            .collect();
        let req = RequestParts {
            method: str_field(&case, "method"),
            target_uri: str_field(&case, "target_uri"),
            headers: &headers,
        };
        let key = public_key(&case);
        let verdict = match str_field(&case, "profile") {
            "rfc9421" => {
                httpsig::verify_with_key(&req, str_field(&case, "label"), &key).map(|_| ())
            }
            _ => httpsig::verify_request(
                &req,
                str_field(&case, "body").as_bytes(),
                case["now"].as_i64().expect("now"),
                |id| (*id == kit_id()).then_some(key),
            )
            .map(|_| ()),
        };
        assert_eq!(
            verdict.is_ok(),
            case["valid"].as_bool().expect("valid"),
            "{name}: {verdict:?}"
        );
        let base = received_base(
            req.method,
            req.target_uri,
            &headers,
            str_field(&case, "label"),
        );
        assert_eq!(base, str_field(&case, "signature_base"), "{name}");
    }
}

#[test]
fn ed25519_vectors_sign_and_verify_as_rfc_8032_says() {
    for case in load("ed25519.json") {
        let key = SigningKey::from_bytes(&hex_field(&case, "secret_key").try_into().expect("32"));
        assert_eq!(
            key.verifying_key().as_bytes().to_vec(),
            hex_field(&case, "public_key")
        );
        let sig = key.sign(&hex_field(&case, "message"));
        assert_eq!(
            sig.to_bytes().to_vec(),
            hex_field(&case, "signature"),
            "{}",
            str_field(&case, "name")
        );
        assert!(key
            .verifying_key()
            .verify_strict(&hex_field(&case, "message"), &sig)
            .is_ok());
    }
}
