//! The committed test vectors: generated (`generate.rs`) from fixed seeds and external
//! references (RFC 8032, RFC 9180, RFC 9421), then checked against the implementation
//! (`check.rs`). With `FIELDKIT_REGENERATE_VECTORS=1` the files are rewritten; without
//! it, a generator change that would alter a committed file fails the suite.

mod changes;
mod check;
mod generate;
mod held;

use std::path::PathBuf;

use serde_json::Value;
use sync_protocol::httpsig::{self, RequestParts};

pub(crate) fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("test-vectors")
        .join(name)
}

pub(crate) fn load(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(vector_path(name)).expect("vector file is committed");
    serde_json::from_str(&text).expect("vector file is JSON")
}

pub(crate) fn hex_field(case: &Value, field: &str) -> Vec<u8> {
    hex::decode(case[field].as_str().expect("hex field")).expect("valid hex")
}

pub(crate) fn str_field<'a>(case: &'a Value, field: &str) -> &'a str {
    case[field].as_str().expect("string field")
}

/// An RNG that yields fixed bytes: how RFC 9180 vectors pin the ephemeral key.
pub(crate) struct FixedRng(pub(crate) Vec<u8>);

impl rand_core::RngCore for FixedRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        assert!(self.0.len() >= dest.len(), "fixed RNG exhausted");
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0 = rest;
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
impl rand_core::CryptoRng for FixedRng {}

pub(crate) fn received_base(
    method: &str,
    target_uri: &str,
    headers: &[(String, String)],
    label: &str,
) -> String {
    let input = &headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("signature-input"))
        .expect("signature-input header")
        .1;
    let dict = sfv::Parser::parse_dictionary(input.as_bytes()).expect("structured field");
    let Some(sfv::ListEntry::InnerList(inner)) = dict.get(label) else {
        panic!("no signature labelled {label}");
    };
    let req = RequestParts {
        method,
        target_uri,
        headers,
    };
    httpsig::signature_base(&req, inner).expect("base").0
}

#[test]
fn committed_vectors_are_what_the_generator_produces() {
    let regenerate = std::env::var_os("FIELDKIT_REGENERATE_VECTORS").is_some();
    let files = [
        ("envelopes.json", generate::envelopes()),
        ("chains.json", generate::chains()),
        ("hpke.json", generate::hpke()),
        ("attachments.json", generate::attachments()),
        ("http-signatures.json", generate::http_signatures()),
        ("ed25519.json", generate::ed25519()),
        ("changes.json", changes::changes()),
        ("held-records.json", held::held_records()),
    ];
    for (name, value) in files {
        let text = serde_json::to_string_pretty(&value).expect("serializes") + "\n";
        let path = vector_path(name);
        if regenerate {
            std::fs::write(&path, &text).expect("writes vector file");
        } else {
            let committed = std::fs::read_to_string(&path).expect("vector file is committed");
            assert!(
                committed == text,
                "{name} differs from what the generator produces; if the change is intended, \
                 rerun with FIELDKIT_REGENERATE_VECTORS=1 and review the diff"
            );
        }
    }
}
