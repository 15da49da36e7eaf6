//! `sign_printout` below the IPC layer: the signature's decoding, and the printout made
//! and attached against a real kit folder (SQLCipher store, the repository catalog
//! signed by a test server key), including what is refused and that a refusal attaches
//! nothing.

use std::sync::Arc;

use chrono::Utc;
use ed25519_dalek::SigningKey;
use kit_core::fieldkit_catalog::{Catalog, CATALOG_DIR};
use kit_core::protocol::api::{EnrolResponse, ServerKey};
use kit_core::protocol::b64;
use kit_core::protocol::ids::AuthorityId;
use kit_core::Kit;
use serde_json::Value;

use super::*;
use crate::state::{Settings, Shared};

const PIN: &str = "Rathaus am Markt";
const CLERK: &str = "c-clara-mueller";
const SPEC: &str = "signed-printout";

/// A 16×6 grey PNG with a diagonal stroke, made for these tests.
const SIGNATURE_B64: &str = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAGCAAAAADvF0E7AAAAH0lEQVR42mNgYPiPAoBcVCEwB1kIykQIIRgMaAIwIQCUslOtGQqYUAAAAABJRU5ErkJggg==";

fn signature() -> Vec<u8> {
    b64::decode("test", SIGNATURE_B64).expect("test PNG")
}

/// An initialized kit with one clerk, enrolled with a made-up server whose key signs the
/// repository catalog, which is installed.
fn ready_kit() -> (tempfile::TempDir, Kit) {
    let dir = tempfile::tempdir().expect("temp dir");
    let kit = Kit::at(dir.path().join("kit"));
    let init = kit.init(None).expect("init");
    kit.unlock_recovery(&init.recovery_secret)
        .expect("recovery")
        .add_clerk("Clara Müller", PIN.as_bytes())
        .expect("clerk");
    let server = SigningKey::from_bytes(&[42; 32]);
    let mut session = kit.unlock(CLERK, PIN.as_bytes()).expect("unlock");
    session
        .apply_enrolment(
            "http://127.0.0.1:9",
            &EnrolResponse {
                kit_id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".parse().expect("id"),
                authority_id: AuthorityId::parse("gemeinde-musterstadt").expect("id"),
                kit_name: "Bürgerkoffer 1".into(),
                server_keys: vec![ServerKey::from_key(&server.verifying_key())],
                server_time: Utc::now(),
            },
            None,
        )
        .expect("enrolment");
    let catalog = Catalog::from_dir(CATALOG_DIR).expect("repository catalog");
    session
        .install_catalog(&catalog.sign(&server))
        .expect("catalog");
    (dir, kit)
}

fn anmeldung() -> Value {
    let path = std::path::Path::new(CATALOG_DIR)
        .join("tests/golden/anmeldung/valid-family-of-three-moving-together.json");
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("golden file")).expect("json");
    golden["data"].clone()
}

fn printouts(session: &Session, draft: &str) -> Vec<kit_core::AttachmentInfo> {
    session
        .draft_attachments(draft)
        .expect("attachments")
        .into_iter()
        .filter(|a| a.spec_id == SPEC)
        .collect()
}

#[test]
fn the_signature_arrives_as_a_png_data_url_or_bare_base64() {
    let png = signature();
    assert_eq!(
        signature_png_bytes(&format!("data:image/png;base64,{SIGNATURE_B64}")).expect("data URL"),
        png
    );
    assert_eq!(
        signature_png_bytes(&format!("DATA:IMAGE/PNG;BASE64,{SIGNATURE_B64}"))
            .expect("case-insensitive scheme"),
        png
    );
    assert_eq!(signature_png_bytes(SIGNATURE_B64).expect("bare"), png);
}

#[test]
fn anything_but_a_png_is_refused_before_the_kit_is_asked() {
    let refused = |text: &str| {
        let e = signature_png_bytes(text).expect_err(text);
        assert_eq!(e.kind, ErrorKind::BadInput, "{text}: {}", e.detail);
        e.detail
    };
    let jpeg = b64::encode(b"\xff\xd8\xff\xe0\0\x10JFIF\0");
    assert!(refused(&format!("data:image/jpeg;base64,{jpeg}")).contains("PNG"));
    assert!(refused(&jpeg).contains("not a PNG"));
    assert!(refused("data:image/png;base64,").contains("empty"));
    assert!(refused("").contains("empty"));
    assert!(refused("data:image/png;base64,iVBOR w0K").contains("base64"));
    assert!(refused("data:image/png,iVBORw0KGgo=").contains("PNG"));
    let huge = "A".repeat(MAX_SIGNATURE_BYTES / 3 * 4 + 8);
    assert!(refused(&huge).contains("larger than 4 MB"));
}

#[test]
fn the_printout_is_made_in_kit_core_and_replaces_a_scanned_paper() {
    let (_dir, kit) = ready_kit();
    let mut session = kit.unlock(CLERK, PIN.as_bytes()).expect("unlock");
    let draft = session
        .create_draft("anmeldung", &anmeldung())
        .expect("draft");
    // The paper path: a scan of the signed printout, uploaded first.
    let scan = session
        .attach(&draft, SPEC, "image/png", signature().as_slice())
        .expect("scan");

    let signed = attach_signed_printout(&mut session, &draft, "  Musterstadt ", signature())
        .expect("signed");
    assert_eq!(signed.replaced, [scan.id]);
    assert_eq!(signed.attachment.spec_id, SPEC);
    assert_eq!(signed.attachment.media_type, "application/pdf");
    assert!(
        signed.attachment.size > 10_000,
        "fonts embedded: {}",
        signed.attachment.size
    );
    let now: Vec<String> = printouts(&session, &draft)
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(
        now,
        [signed.attachment.id.as_str()],
        "only the new printout"
    );

    // Signed again: the first signature goes, the draft keeps one printout.
    let again = attach_signed_printout(&mut session, &draft, "", signature()).expect("again");
    assert_eq!(again.replaced, [signed.attachment.id]);
    assert_eq!(printouts(&session, &draft).len(), 1);
    let check = session.check_draft(&draft).expect("check");
    assert!(
        !check.missing_attachments.iter().any(|m| m == SPEC),
        "the required signed printout is there: {:?}",
        check.missing_attachments
    );
}

#[test]
fn a_refused_printout_attaches_nothing() {
    let (_dir, kit) = ready_kit();
    let mut session = kit.unlock(CLERK, PIN.as_bytes()).expect("unlock");
    let draft = session
        .create_draft("anmeldung", &anmeldung())
        .expect("draft");
    let scan = session
        .attach(&draft, SPEC, "image/png", signature().as_slice())
        .expect("scan");

    let e = AppError::from(
        attach_signed_printout(&mut session, "no-such-draft", "Musterstadt", signature())
            .expect_err("unknown draft"),
    );
    assert_eq!(e.kind, ErrorKind::NotFound, "{}", e.detail);

    // PNG magic, then garbage: passes the quick check, the PDF writer refuses it.
    let mut broken = b"\x89PNG\r\n\x1a\n".to_vec();
    broken.extend_from_slice(b"not really an image");
    let e = AppError::from(
        attach_signed_printout(&mut session, &draft, "Musterstadt", broken).expect_err("broken"),
    );
    assert_eq!(e.kind, ErrorKind::BadInput, "{}", e.detail);

    let kept: Vec<String> = printouts(&session, &draft)
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(kept, [scan.id], "the scan stays, nothing was added");
}

#[test]
fn a_locked_kit_makes_no_printout() {
    let (_dir, kit) = ready_kit();
    let emit: crate::events::Emit = Arc::new(|_, _| {});
    let shared = Shared::new(kit, Settings::default(), emit);
    let e = shared
        .with_session(|s| attach_signed_printout(s, "any-draft", "Musterstadt", signature()))
        .expect_err("locked");
    assert_eq!(e.kind, ErrorKind::Locked);
}

#[test]
fn a_picked_files_name_arrives_uri_encoded_and_is_refused_when_it_is_not() {
    assert_eq!(
        decode_file_name("Wohnungsgeberbest%C3%A4tigung%20Kowalski.pdf").expect("decodes"),
        "Wohnungsgeberbestätigung Kowalski.pdf"
    );
    let e = decode_file_name("%FF%FE.pdf").expect_err("not UTF-8");
    assert_eq!(e.kind, ErrorKind::BadInput);
}

#[test]
fn an_attached_files_name_is_kept_sanitized_with_the_draft() {
    let (_dir, kit) = ready_kit();
    let mut session = kit.unlock(CLERK, PIN.as_bytes()).expect("unlock");
    let draft = session
        .create_draft("anmeldung", &anmeldung())
        .expect("draft");
    let name = decode_file_name("..%2F..%2FScan%E2%80%AEfdp.exe").expect("decodes");
    let attached: AttachmentDto = session
        .attach_named(
            &draft,
            "signed-printout",
            "image/png",
            Some(&name),
            signature().as_slice(),
        )
        .expect("attach")
        .into();
    assert_eq!(attached.file_name.as_deref(), Some("Scanfdp.exe"));
}
