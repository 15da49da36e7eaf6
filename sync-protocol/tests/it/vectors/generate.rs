//! Building the vector files from fixed seeds and the RFCs' own values.

use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use sync_protocol::attachment::{encrypt_all, AttachmentSecret};
use sync_protocol::b64;
use sync_protocol::chain::{verify_run, ChainAnchor, ChainLink};
use sync_protocol::dsse::{self, Envelope};
use sync_protocol::httpsig::{self, RequestParts};
use sync_protocol::ids::Sha256Hash;
use sync_protocol::record::{RecordKind, SignedRecord, RECORD_PAYLOAD_TYPE};
use sync_protocol::seal::{self, CasePayload};

use crate::support::{self, attachment_id, kit_id, kit_key, make_chain, make_record};

use super::{received_base, FixedRng};

// ---------------------------------------------------------------- generation

fn envelope_value(env: &Envelope) -> Value {
    serde_json::to_value(env).expect("envelope serializes")
}

fn envelope_case(name: &str, env: Value, valid: bool, reason: &str) -> Value {
    json!({
        "name": name,
        "public_key_hex": hex::encode(kit_key().verifying_key().as_bytes()),
        "kit_id": kit_id().to_string(),
        "envelope": env,
        "valid": valid,
        "reason": reason,
    })
}

fn flip(b64_text: &str, byte: usize) -> String {
    let mut bytes = b64::decode("vector", b64_text).expect("canonical");
    bytes[byte] ^= 0x01;
    b64::encode(bytes)
}

/// ed25519 malleability: S + L is another encoding of the same scalar, which
/// `verify_strict` (and libsodium) must refuse.
fn malleate(sig: &[u8; 64]) -> [u8; 64] {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut out = *sig;
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(sig[32 + i]) + u16::from(L[i]) + carry;
        out[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    out
}

pub(super) fn envelopes() -> Value {
    let chain = make_chain(2);
    let correction = make_record(3, chain[1].hash, RecordKind::Correction, false, 0);
    let withdrawal = make_record(4, correction.hash, RecordKind::Withdrawal, false, 0);
    let base = chain[0].envelope.clone();
    let payload = b64::decode("payload", &base.payload).expect("canonical");
    let sig: [u8; 64] = b64::decode_array("sig", &base.signatures[0].sig).expect("64 bytes");
    let keyid = kit_id().to_string();
    let with_sig = |s: String| {
        let mut e = base.clone();
        e.signatures[0].sig = s;
        envelope_value(&e)
    };
    let with_payload = |p: String| {
        let mut e = base.clone();
        e.payload = p;
        envelope_value(&e)
    };
    let canonical_sig = b64::encode(sig);
    let url_safe_sig = canonical_sig.replace('+', "-").replace('/', "_");
    assert_ne!(
        url_safe_sig, canonical_sig,
        "the fixture signature must use + or /"
    );
    // 64 bytes leave four unused bits before "=="; setting one keeps the decoded bytes.
    let mut non_canonical = canonical_sig.clone().into_bytes();
    let last = non_canonical.len() - 3;
    non_canonical[last] = match non_canonical[last] {
        b'A' => b'B',
        b'Q' => b'R',
        b'g' => b'h',
        b'w' => b'x',
        other => panic!("64-byte base64 ends in A/Q/g/w before padding, found {other}"),
    };
    let mut foreign_record: Value = serde_json::from_slice(&payload).expect("record JSON");
    foreign_record["kit_id"] = json!("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c");
    let foreign_payload = serde_json::to_vec(&foreign_record).expect("serializes");
    let mut two_sigs = base.clone();
    two_sigs.signatures.push(base.signatures[0].clone());
    let mut extra_field = envelope_value(&base);
    extra_field["extra"] = json!("not part of DSSE");

    json!([
        envelope_case(
            "application-seq-1",
            envelope_value(&chain[0].envelope),
            true,
            ""
        ),
        envelope_case(
            "application-with-attachment",
            envelope_value(&chain[1].envelope),
            true,
            ""
        ),
        envelope_case("correction", envelope_value(&correction.envelope), true, ""),
        envelope_case("withdrawal", envelope_value(&withdrawal.envelope), true, ""),
        envelope_case(
            "flipped-payload-byte",
            with_payload(flip(&base.payload, 40)),
            false,
            "signature does not verify"
        ),
        envelope_case(
            "flipped-signature-byte",
            with_sig(flip(&canonical_sig, 5)),
            false,
            "signature does not verify"
        ),
        envelope_case(
            "signed-by-another-key",
            envelope_value(&dsse::sign(
                RECORD_PAYLOAD_TYPE,
                &payload,
                &keyid,
                &support::signing_key("another kit")
            )),
            false,
            "signature does not verify",
        ),
        envelope_case(
            "wrong-payload-type",
            envelope_value(&dsse::sign(
                "application/vnd.fieldkit.record.v2+json",
                &payload,
                &keyid,
                &kit_key()
            )),
            false,
            "payloadType is not the v1 record type",
        ),
        envelope_case(
            "non-canonical-base64-signature",
            with_sig(String::from_utf8(non_canonical).expect("ascii")),
            false,
            "base64 with non-zero trailing bits",
        ),
        envelope_case(
            "unpadded-base64-signature",
            with_sig(canonical_sig.trim_end_matches('=').to_owned()),
            false,
            "base64 without padding",
        ),
        envelope_case(
            "url-safe-base64-signature",
            with_sig(url_safe_sig),
            false,
            "URL-safe base64 alphabet"
        ),
        envelope_case(
            "truncated-payload",
            with_payload(b64::encode(&payload[..payload.len() - 5])),
            false,
            "signature does not verify",
        ),
        envelope_case(
            "truncated-signature",
            with_sig(b64::encode(&sig[..63])),
            false,
            "signature is not 64 bytes"
        ),
        envelope_case(
            "malleated-signature",
            with_sig(b64::encode(malleate(&sig))),
            false,
            "non-canonical S (S + L)"
        ),
        envelope_case(
            "two-signatures",
            envelope_value(&two_sigs),
            false,
            "exactly one signature required"
        ),
        envelope_case(
            "unknown-envelope-field",
            extra_field,
            false,
            "unknown field in the envelope"
        ),
        envelope_case(
            "keyid-is-not-the-kit",
            envelope_value(&dsse::sign(
                RECORD_PAYLOAD_TYPE,
                &payload,
                "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",
                &kit_key()
            )),
            false,
            "keyid names another kit",
        ),
        envelope_case(
            "record-names-another-kit",
            envelope_value(&dsse::sign(
                RECORD_PAYLOAD_TYPE,
                &foreign_payload,
                &keyid,
                &kit_key()
            )),
            false,
            "record kit_id differs from keyid",
        ),
        envelope_case(
            "payload-is-not-a-record",
            envelope_value(&dsse::sign(
                RECORD_PAYLOAD_TYPE,
                br#"{"hello":"world"}"#,
                &keyid,
                &kit_key()
            )),
            false,
            "payload is not a record",
        ),
    ])
}

fn chain_case(name: &str, anchor: Option<ChainAnchor>, records: &[&SignedRecord]) -> Value {
    let links: Vec<ChainLink> = records.iter().map(|r| ChainLink::from(*r)).collect();
    json!({
        "name": name,
        "public_key_hex": hex::encode(kit_key().verifying_key().as_bytes()),
        "kit_id": kit_id().to_string(),
        "anchor": anchor,
        "envelopes": records.iter().map(|r| envelope_value(&r.envelope)).collect::<Vec<_>>(),
        "findings": verify_run(anchor, &links),
    })
}

pub(super) fn chains() -> Value {
    let c = make_chain(5);
    let wrong4 = make_record(4, c[1].hash, RecordKind::Application, false, 1);
    let after_wrong4 = make_record(5, wrong4.hash, RecordKind::Application, false, 1);
    let fork3 = make_record(3, c[1].hash, RecordKind::Application, false, 2);
    let anchor2 = Some(ChainAnchor {
        seq: 2,
        hash: c[1].hash,
    });
    let bad_anchor = Some(ChainAnchor {
        seq: 3,
        hash: Sha256Hash::of(b"not record 3"),
    });
    json!([
        chain_case(
            "ok-five-records",
            None,
            &[&c[0], &c[1], &c[2], &c[3], &c[4]]
        ),
        chain_case(
            "ok-out-of-order-with-duplicate",
            None,
            &[&c[2], &c[0], &c[4], &c[1], &c[3], &c[2]]
        ),
        chain_case("gap-at-3", None, &[&c[0], &c[1], &c[3], &c[4]]),
        chain_case("gap-at-1", None, &[&c[1], &c[2]]),
        chain_case(
            "wrong-link-at-4",
            None,
            &[&c[0], &c[1], &c[2], &wrong4, &after_wrong4]
        ),
        chain_case("fork-at-3", None, &[&c[0], &c[1], &c[2], &fork3, &c[3]]),
        chain_case("ok-from-anchor-2", anchor2, &[&c[2], &c[3], &c[4]]),
        chain_case("fork-with-anchor-3", bad_anchor, &[&c[2], &c[3]]),
    ])
}

// RFC 9180 Appendix A.2.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305,
// base mode, sequence number 0.
const RFC9180_INFO: &str = "4f6465206f6e2061204772656369616e2055726e";
const RFC9180_IKM_R: &str = "1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df";
const RFC9180_IKM_E: &str = "909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b";
const RFC9180_SK_RM: &str = "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb";
const RFC9180_PK_RM: &str = "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a";
const RFC9180_ENC: &str = "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a";
const RFC9180_AAD: &str = "436f756e742d30";
const RFC9180_PT: &str = "4265617574792069732074727574682c20747275746820626561757479";
const RFC9180_CT: &str =
    "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28";

pub(super) fn hpke() -> Value {
    let unhex = |s: &str| hex::decode(s).expect("constant hex");
    let (sk, pk) = seal::derive_authority_keypair(&unhex(RFC9180_IKM_R));
    let (enc, ct) = seal::seal_with_info(
        &pk,
        &unhex(RFC9180_INFO),
        &unhex(RFC9180_AAD),
        &unhex(RFC9180_PT),
        &mut FixedRng(unhex(RFC9180_IKM_E)),
    )
    .expect("seals");
    assert_eq!(
        hex::encode(sk.to_bytes().as_slice()),
        RFC9180_SK_RM,
        "RFC 9180 skRm"
    );
    assert_eq!(hex::encode(pk.0), RFC9180_PK_RM, "RFC 9180 pkRm");
    assert_eq!(hex::encode(enc), RFC9180_ENC, "RFC 9180 enc");
    assert_eq!(hex::encode(&ct), RFC9180_CT, "RFC 9180 ct");
    let rfc = json!({
        "name": "rfc9180-a21-base-x25519-sha256-chacha20poly1305-seq0",
        "source": "RFC 9180 A.2.1",
        "ikmR": RFC9180_IKM_R, "skRm": RFC9180_SK_RM, "pkRm": RFC9180_PK_RM,
        "ikmE": RFC9180_IKM_E, "enc": RFC9180_ENC, "info": RFC9180_INFO,
        "aad": RFC9180_AAD, "pt": RFC9180_PT, "ct": RFC9180_CT,
    });

    let ikm_r = b"fieldkit test vectors: gemeinde-musterstadt".to_vec();
    let ikm_e = sha2_of(b"fieldkit test vectors: ephemeral 1");
    let (sk, pk) = seal::derive_authority_keypair(&ikm_r);
    let record_id = support::record_id(7);
    let aad = seal::case_aad(&record_id, &kit_id(), &support::authority_id());
    let pt = CasePayload {
        form_data: support::sample_form_data(7),
        attachment_keys: vec![
            AttachmentSecret::from_parts([0x42; 32], [0x24; 7]).to_wire(attachment_id(7))
        ],
        attachments: Vec::new(),
    }
    .to_json();
    let sealed = seal::seal(&pk, &aad, &pt, &mut FixedRng(ikm_e.to_vec())).expect("seals");
    let ours = json!({
        "name": "fieldkit-case-payload",
        "source": "fieldkit",
        "ikmR": hex::encode(&ikm_r), "skRm": hex::encode(sk.to_bytes().as_slice()), "pkRm": hex::encode(pk.0),
        "ikmE": hex::encode(ikm_e),
        "enc": hex::encode(b64::decode("enc", &sealed.enc).expect("b64")),
        "info": hex::encode(seal::HPKE_INFO),
        "aad": hex::encode(&aad),
        "pt": hex::encode(pt.as_slice()),
        "ct": hex::encode(b64::decode("ct", &sealed.ct).expect("b64")),
        "record_id": record_id.to_string(),
        "kit_id": kit_id().to_string(),
        "authority_id": support::authority_id().to_string(),
        "sealed": sealed,
    });
    json!([rfc, ours])
}

fn sha2_of(bytes: &[u8]) -> [u8; 32] {
    Sha256Hash::of(bytes).0
}

pub(super) fn attachments() -> Value {
    let cases = [
        ("empty", 0usize),
        ("one-byte", 1),
        ("exactly-one-chunk", 65_536),
        ("one-chunk-and-one-byte", 65_537),
    ];
    let values: Vec<Value> = cases
        .iter()
        .enumerate()
        .map(|(i, (name, len))| {
            let id = attachment_id(100 + i as u64);
            let secret = AttachmentSecret::generate(&mut support::rng(&format!("attachment {name}")));
            let wire = secret.to_wire(id);
            let (ct, d) = encrypt_all(&secret, id, &support::attachment_plaintext(*len)).expect("encrypts");
            json!({
                "name": name,
                "attachment_id": id.to_string(),
                "key": hex::encode(b64::decode("key", &wire.key).expect("b64")),
                "nonce_prefix": hex::encode(b64::decode("prefix", &wire.nonce_prefix).expect("b64")),
                "plaintext_len": len,
                "plaintext_sha256": d.sha256,
                "ciphertext": hex::encode(&ct),
                "ciphertext_sha256": d.ciphertext_sha256,
            })
        })
        .collect();
    Value::Array(values)
}

// RFC 9421 Appendix B.1.4 (test-key-ed25519) and B.2.6.
const RFC9421_ED25519_PUBLIC: &str =
    "26b40b8f93fff3d897112f7ebc582b232dbd72517d082fe83cfb30ddce43d1bb";
const RFC9421_B26_SIGNATURE: &str =
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==";
const RFC9421_B26_BASE: &str = "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\"@method\": POST\n\"@path\": /foo\n\"@authority\": example.com\n\"content-type\": application/json\n\"content-length\": 18\n\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"";

fn headers_value(headers: &[(String, String)]) -> Value {
    Value::Array(headers.iter().map(|(n, v)| json!([n, v])).collect())
}

fn rfc9421_case(name: &str, signature: &str, valid: bool, reason: &str) -> Value {
    let headers: Vec<(String, String)> = [
        ("Host", "example.com"),
        ("Date", "Tue, 20 Apr 2021 02:07:55 GMT"),
        ("Content-Type", "application/json"),
        ("Content-Digest", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"),
        ("Content-Length", "18"),
        ("Signature-Input", "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\""),
        ("Signature", &format!("sig-b26=:{signature}:")),
    ]
    .iter()
    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
    .collect();
    json!({
        "name": name, "profile": "rfc9421", "label": "sig-b26",
        "method": "POST", "target_uri": "https://example.com/foo?param=Value&Pet=dog",
        "headers": headers_value(&headers), "body": "{\"hello\": \"world\"}",
        "public_key_hex": RFC9421_ED25519_PUBLIC, "now": 1_618_884_473,
        "signature_base": RFC9421_B26_BASE, "valid": valid, "reason": reason,
    })
}

/// The signature base for `label` built from a request's own `Signature-Input`.
const FK_CREATED: i64 = 1_763_716_200;
const FK_NONCE: &str = "5f0c3a9e1d2b47c68a9e0f1d2c3b4a59";

/// A kit request signed in Fieldkit's profile, as a vector case.
fn fieldkit_case(
    name: &str,
    (method, target_uri, body): (&str, &str, &str),
    signer: &SigningKey,
    now: i64,
    mutate: impl FnOnce(&mut String, &mut String, &mut Vec<(String, String)>),
    (valid, reason): (bool, &str),
) -> Value {
    let mut headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        (
            "Content-Digest".to_owned(),
            httpsig::content_digest(body.as_bytes()),
        ),
        ("Fieldkit-Protocol".to_owned(), "1".to_owned()),
    ];
    let req = RequestParts {
        method,
        target_uri,
        headers: &headers,
    };
    let signed =
        httpsig::sign_request(&req, &kit_id(), signer, FK_CREATED, FK_NONCE).expect("signs");
    headers.push(("Signature-Input".to_owned(), signed.signature_input));
    headers.push(("Signature".to_owned(), signed.signature));
    let mut target = target_uri.to_owned();
    let mut body = body.to_owned();
    mutate(&mut target, &mut body, &mut headers);
    // The base a verifier builds from the request as received, after any tampering.
    let base = received_base(method, &target, &headers, httpsig::LABEL);
    json!({
        "name": name, "profile": "fieldkit", "label": httpsig::LABEL,
        "method": method, "target_uri": target,
        "headers": headers_value(&headers), "body": body,
        "public_key_hex": hex::encode(kit_key().verifying_key().as_bytes()),
        "kit_id": kit_id().to_string(), "now": now,
        "signature_base": base, "valid": valid, "reason": reason,
    })
}

pub(super) fn http_signatures() -> Value {
    let post = (
        "POST",
        "https://fieldkit.musterstadt.example/v1/records",
        r#"{"envelopes":[]}"#,
    );
    let get = ("GET", "https://fieldkit.musterstadt.example/v1/state", "");
    let kit = kit_key();
    let stranger = support::signing_key("another kit");
    let none = |_: &mut String, _: &mut String, _: &mut Vec<(String, String)>| {};
    let alter_body = |_: &mut String, b: &mut String, _: &mut Vec<(String, String)>| {
        *b = r#"{"envelopes":[{}]}"#.to_owned();
    };
    let alter_target = |t: &mut String, _: &mut String, _: &mut Vec<(String, String)>| {
        *t = t.replace("/v1/records", "/v1/uploads");
    };
    let drop_protocol_header = |_: &mut String, _: &mut String, h: &mut Vec<(String, String)>| {
        for (n, v) in h.iter_mut() {
            if n == "Signature-Input" {
                *v = v.replace(" \"fieldkit-protocol\"", "");
            }
        }
    };
    let mut tampered_sig = b64::decode("sig", RFC9421_B26_SIGNATURE).expect("b64");
    tampered_sig[0] ^= 1;
    let bad = |reason| (false, reason);
    json!([
        rfc9421_case("rfc9421-b26-ed25519", RFC9421_B26_SIGNATURE, true, ""),
        rfc9421_case(
            "rfc9421-b26-ed25519-flipped-signature",
            &b64::encode(tampered_sig),
            false,
            "signature does not verify",
        ),
        fieldkit_case(
            "fieldkit-post-records",
            post,
            &kit,
            FK_CREATED + 5,
            none,
            (true, "")
        ),
        fieldkit_case(
            "fieldkit-get-state",
            get,
            &kit,
            FK_CREATED,
            none,
            (true, "")
        ),
        fieldkit_case(
            "fieldkit-body-altered",
            post,
            &kit,
            FK_CREATED,
            alter_body,
            bad("content-digest does not match the body")
        ),
        fieldkit_case(
            "fieldkit-target-uri-altered",
            post,
            &kit,
            FK_CREATED,
            alter_target,
            bad("signature does not verify")
        ),
        fieldkit_case(
            "fieldkit-stale",
            post,
            &kit,
            FK_CREATED + 301,
            none,
            bad("created is older than 300 s")
        ),
        fieldkit_case(
            "fieldkit-from-the-future",
            post,
            &kit,
            FK_CREATED - 61,
            none,
            bad("created is more than 60 s ahead")
        ),
        fieldkit_case(
            "fieldkit-signed-by-another-key",
            post,
            &stranger,
            FK_CREATED,
            none,
            bad("signature does not verify")
        ),
        fieldkit_case(
            "fieldkit-protocol-header-not-covered",
            post,
            &kit,
            FK_CREATED,
            drop_protocol_header,
            bad("covered components are not Fieldkit's set")
        ),
    ])
}

// RFC 8032 §7.1, TEST 1–3.
pub(super) fn ed25519() -> Value {
    json!([
        {"name": "rfc8032-test-1",
         "secret_key": "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "public_key": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
         "message": "",
         "signature": "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
        {"name": "rfc8032-test-2",
         "secret_key": "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "public_key": "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
         "message": "72",
         "signature": "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
        {"name": "rfc8032-test-3",
         "secret_key": "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
         "public_key": "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
         "message": "af82",
         "signature": "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"}
    ])
}
