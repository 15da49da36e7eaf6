//! A ready kit for tests: initialized, one clerk, enrolled (with a server key made here),
//! and the repository catalog installed, signed, with an HPKE key per authority.

use std::collections::BTreeMap;

use chrono::Utc;
use ed25519_dalek::SigningKey;
use fieldkit_catalog::{Catalog, PublishedHpkeKey, CATALOG_DIR};
use kit_core::{Kit, Session};
use sync_protocol::api::{EnrolResponse, ServerKey};
use sync_protocol::b64;
use sync_protocol::ids::{AuthorityId, KitId};
use sync_protocol::seal::{self, AuthoritySecretKey};

pub const PIN: &str = "Rathaus am Markt";
pub const CLERK_NAME: &str = "Clara Müller";
pub const CLERK: &str = "c-clara-mueller";
pub const KIT_AUTHORITY: &str = "gemeinde-musterstadt";

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub kit: Kit,
    pub server_key: SigningKey,
    pub authority_keys: BTreeMap<String, AuthoritySecretKey>,
    pub kit_id: KitId,
    /// IT's recovery secret.
    pub recovery: String,
}

impl Fixture {
    pub fn unlock(&self) -> Session {
        self.kit.unlock(CLERK, PIN.as_bytes()).expect("unlocks")
    }

    /// The case sealed in `record`, opened as its authority would.
    pub fn open_case(&self, record: &sync_protocol::record::SignedRecord) -> seal::CasePayload {
        let r = &record.record;
        let aad = seal::case_aad(&r.record_id, &self.kit_id, &r.authority_id);
        let key = &self.authority_keys[r.authority_id.as_str()];
        seal::CasePayload::from_json(&seal::open(key, &r.sealed, &aad).expect("opens"))
            .expect("case")
    }
}

/// The repository catalog with an HPKE key for every authority, signed by `server`.
pub fn signed_catalog(
    server: &SigningKey,
) -> (
    sync_protocol::dsse::Envelope,
    BTreeMap<String, AuthoritySecretKey>,
) {
    let mut catalog = Catalog::from_dir(CATALOG_DIR).expect("repository catalog");
    let mut keys = BTreeMap::new();
    for a in &mut catalog.authorities {
        let (sk, pk) =
            seal::derive_authority_keypair(format!("test authority {}", a.id).as_bytes());
        a.hpke_public_key = Some(PublishedHpkeKey {
            key_id: pk.key_id(),
            public_key: b64::encode(pk.0),
        });
        keys.insert(a.id.to_string(), sk);
    }
    (catalog.sign(server), keys)
}

/// A kit that is initialized but not enrolled, with one clerk.
pub fn bare_kit() -> (tempfile::TempDir, Kit, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let kit = Kit::at(dir.path().join("kit"));
    let init = kit.init(None).expect("init");
    let mut it = kit
        .unlock_recovery(&init.recovery_secret)
        .expect("recovery unlock");
    let clerk = it.add_clerk(CLERK_NAME, PIN.as_bytes()).expect("clerk");
    assert_eq!(clerk.id.as_str(), CLERK);
    (dir, kit, init.recovery_secret.to_string())
}

pub fn enrolled_kit() -> Fixture {
    let (dir, kit, recovery) = bare_kit();
    let server_key = SigningKey::from_bytes(&[42; 32]);
    let kit_id: KitId = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".parse().expect("id");
    let mut session = kit.unlock(CLERK, PIN.as_bytes()).expect("unlock");
    session
        .apply_enrolment(
            "http://127.0.0.1:9",
            &EnrolResponse {
                kit_id,
                authority_id: AuthorityId::parse(KIT_AUTHORITY).expect("id"),
                kit_name: "Bürgerkoffer 1".into(),
                server_keys: vec![ServerKey::from_key(&server_key.verifying_key())],
                server_time: Utc::now(),
            },
            None,
        )
        .expect("enrolment stored");
    let (envelope, authority_keys) = signed_catalog(&server_key);
    session
        .install_catalog(&envelope)
        .expect("catalog installs");
    Fixture {
        dir,
        kit,
        server_key,
        authority_keys,
        kit_id,
        recovery,
    }
}

/// A valid two-person Anmeldung in Musterstadt (about 2 KB of form data).
pub fn anmeldung() -> serde_json::Value {
    let path = std::path::Path::new(CATALOG_DIR)
        .join("tests/golden/anmeldung/valid-family-of-three-moving-together.json");
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("golden file")).expect("json");
    let mut data = golden["data"].clone();
    data["persons"].as_array_mut().expect("persons").truncate(2);
    data["landlord_confirmation"] = serde_json::json!({"status": "missing"});
    data
}

/// A fake signed printout.
pub fn printout() -> Vec<u8> {
    b"%PDF-1.7\n% signed printout of the captured data\n".repeat(200)
}

/// An Anmeldung draft with its signed printout attached, ready to finalize.
pub fn anmeldung_draft(session: &mut Session) -> String {
    let draft = session
        .create_draft("anmeldung", &anmeldung())
        .expect("draft");
    session
        .attach(
            &draft,
            "signed-printout",
            "application/pdf",
            printout().as_slice(),
        )
        .expect("attach");
    draft
}

/// Captures and finalizes one Anmeldung with its printout.
pub fn finalize_anmeldung(session: &mut Session) -> kit_core::Finalized {
    let draft = anmeldung_draft(session);
    session.finalize(&draft).expect("finalize")
}
