//! Property tests: any single bit flipped in an envelope, payload, signature, sealed
//! ciphertext or attachment ciphertext makes verification fail, and arbitrary bytes never
//! panic a parser.

use proptest::prelude::*;
use sync_protocol::attachment::{decrypt_all, encrypt_all, AttachmentSecret};
use sync_protocol::dsse::Envelope;
use sync_protocol::httpsig::{self, RequestParts};
use sync_protocol::record::SignedRecord;
use sync_protocol::{b64, seal};

use crate::support::{attachment_id, authority_keys, kit_id, kit_key, make_chain};

fn flip_bit(bytes: &mut [u8], bit: usize) {
    let bit = bit % (bytes.len() * 8);
    bytes[bit / 8] ^= 1 << (bit % 8);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn flipping_any_bit_of_the_payload_breaks_the_record(bit in any::<usize>()) {
        let rec = &make_chain(1)[0];
        let mut payload = rec.payload.clone();
        flip_bit(&mut payload, bit);
        let mut env = rec.envelope.clone();
        env.payload = b64::encode(&payload);
        prop_assert!(SignedRecord::verify(&env, kit_id(), &kit_key().verifying_key()).is_err());
    }

    #[test]
    fn flipping_any_bit_of_the_signature_breaks_the_record(bit in 0usize..512) {
        let rec = &make_chain(1)[0];
        let mut sig = b64::decode("sig", &rec.envelope.signatures[0].sig).expect("b64");
        flip_bit(&mut sig, bit);
        let mut env = rec.envelope.clone();
        env.signatures[0].sig = b64::encode(&sig);
        prop_assert!(SignedRecord::verify(&env, kit_id(), &kit_key().verifying_key()).is_err());
    }

    #[test]
    fn flipping_any_bit_of_the_envelope_json_never_verifies_other_content(bit in any::<usize>()) {
        let rec = &make_chain(1)[0];
        let mut json = rec.envelope.to_json();
        flip_bit(&mut json, bit);
        if let Ok(env) = Envelope::from_json(&json) {
            if let Ok(verified) = SignedRecord::verify(&env, kit_id(), &kit_key().verifying_key()) {
                // Only a flip that JSON parsing undoes (none exist for this shape) could
                // get here, and then it must be the very same record.
                prop_assert_eq!(verified.payload, rec.payload.clone());
            }
        }
    }

    #[test]
    fn flipping_any_bit_of_a_sealed_case_fails_to_open(bit in any::<usize>()) {
        let rec = &make_chain(1)[0];
        let (sk, _) = authority_keys();
        let aad = seal::case_aad(&rec.record.record_id, &kit_id(), &rec.record.authority_id);
        prop_assert!(seal::open(&sk, &rec.record.sealed, &aad).is_ok());
        let mut ct = b64::decode("ct", &rec.record.sealed.ct).expect("b64");
        flip_bit(&mut ct, bit);
        let mut sealed = rec.record.sealed.clone();
        sealed.ct = b64::encode(&ct);
        prop_assert!(seal::open(&sk, &sealed, &aad).is_err());
    }

    #[test]
    fn flipping_any_bit_of_an_attachment_ciphertext_fails_to_decrypt(bit in any::<usize>(), len in 0usize..140_000) {
        let secret = AttachmentSecret::from_parts([9; 32], [3; 7]);
        let id = attachment_id(1);
        let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let (mut ct, _) = encrypt_all(&secret, id, &plain).expect("encrypts");
        flip_bit(&mut ct, bit);
        prop_assert!(decrypt_all(&secret, id, &ct).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parsers(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let key = kit_key().verifying_key();
        if let Ok(env) = Envelope::from_json(&bytes) {
            let _ = SignedRecord::verify(&env, kit_id(), &key);
            let _ = sync_protocol::receipt::Receipt::verify(&env, &[key]);
            let _ = sync_protocol::api::EnrolRequest::verify(&env);
        }
        let _ = serde_json::from_slice::<sync_protocol::record::Record>(&bytes);
        let _ = serde_json::from_slice::<sync_protocol::api::PushBatchResponse>(&bytes);
        let _ = sync_protocol::seal::CasePayload::from_json(&bytes);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let _ = httpsig::verify_content_digest(&text, &bytes);
        let headers = vec![
            ("signature-input".to_owned(), text.clone()),
            ("signature".to_owned(), text.clone()),
            ("content-digest".to_owned(), text.clone()),
        ];
        let req = RequestParts { method: "POST", target_uri: &text, headers: &headers };
        let _ = httpsig::verify_request(&req, &bytes, 0, |_| Some(key));
        let _ = httpsig::verify_with_key(&req, "fk", &key);
        let _ = decrypt_all(&AttachmentSecret::from_parts([0; 32], [0; 7]), attachment_id(1), &bytes);
    }
}
