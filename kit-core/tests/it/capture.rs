//! Capture through finalize: what is stored, what is refused, and that the record a kit
//! signs is exactly what the authority can open.

use fieldkit_catalog::CatalogError;
use kit_core::KitError;
use sync_protocol::attachment::{decrypt_all, AttachmentSecret};
use sync_protocol::dsse::Envelope;
use sync_protocol::record::{RecordKind, SignedRecord};
use sync_protocol::seal::{self, CasePayload};

use crate::support::{self, anmeldung, enrolled_kit, finalize_anmeldung, printout};

fn stored_envelope(f: &support::Fixture, record_id: &str) -> Envelope {
    let s = f.unlock();
    let pending = s.pending_records(100).expect("pending");
    pending
        .into_iter()
        .find(|p| p.record_id == record_id)
        .expect("pending record")
        .envelope
}

#[test]
fn a_finalized_anmeldung_is_signed_chained_and_opens_for_its_authority_only() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let done = finalize_anmeldung(&mut s);
    assert_eq!(done.seq, 1);
    assert_eq!(done.authority_id, "gemeinde-musterstadt");
    assert!(s.drafts().expect("drafts").is_empty(), "the draft is gone");
    drop(s);

    let envelope = stored_envelope(&f, &done.record_id);
    let record =
        SignedRecord::verify(&envelope, f.kit_id, &f.unlock().kit_public_key()).expect("verifies");
    assert_eq!(record.record.clerk_id.as_str(), support::CLERK);
    assert_eq!(record.record.kind, RecordKind::Application);
    assert_eq!(
        kit_core::codes::verification_code(&record.hash),
        done.verification_code
    );

    let sk = &f.authority_keys["gemeinde-musterstadt"];
    let aad = seal::case_aad(
        &record.record.record_id,
        &f.kit_id,
        &record.record.authority_id,
    );
    let case = CasePayload::from_json(&seal::open(sk, &record.record.sealed, &aad).expect("opens"))
        .expect("case");
    assert_eq!(case.form_data, anmeldung());
    case.require_keys_match(&record.record.attachments)
        .expect("keys for every attachment");
    let other = &f.authority_keys["landkreis-musterkreis"];
    assert!(
        seal::open(other, &record.record.sealed, &aad).is_err(),
        "the county cannot read it"
    );

    // The file on disk is the ciphertext named in the signed manifest.
    let entry = &record.record.attachments[0];
    let ciphertext = std::fs::read(f.kit.home().attachment(&entry.id.to_string())).expect("file");
    let secret = AttachmentSecret::from_wire(&case.attachment_keys[0]).expect("key");
    let (plain, digests) = decrypt_all(&secret, entry.id, &ciphertext).expect("decrypts");
    assert_eq!(plain, printout());
    assert_eq!(digests.ciphertext_sha256, entry.ciphertext_sha256);
}

#[test]
fn the_kit_keeps_whom_a_record_is_for_and_a_withdrawal_is_for_the_same_person() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let done = finalize_anmeldung(&mut s);
    let expected = format!(
        "{} {} (+1)",
        anmeldung()["persons"][0]["first_names"]
            .as_str()
            .expect("first names"),
        anmeldung()["persons"][0]["family_name"]
            .as_str()
            .expect("family name")
    );
    assert_eq!(done.display_label.as_deref(), Some(expected.as_str()));
    assert_eq!(
        s.record(&done.record_id).expect("record").display_label,
        done.display_label
    );
    let withdrawal = s
        .withdraw(&done.record_id, "Umzug abgesagt")
        .expect("withdrawal");
    assert_eq!(withdrawal.display_label, done.display_label);
    // Only on the kit: the signed record (what the backend gets) does not carry it.
    let family_name = anmeldung()["persons"][0]["family_name"]
        .as_str()
        .expect("family name")
        .to_owned();
    for p in s.pending_records(10).expect("pending") {
        let record =
            SignedRecord::verify(&p.envelope, f.kit_id, &s.kit_public_key()).expect("verifies");
        let json = serde_json::to_string(&record.record).expect("json");
        assert!(
            !json.contains(&family_name),
            "no name outside the seal: {json}"
        );
    }
}

#[test]
fn invalid_form_data_lists_every_failing_field_and_stores_nothing() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let mut data = anmeldung();
    data["persons"][0]["date_of_birth"] = "12.08.1941".into();
    data["new_address"]["postal_code"] = "6439".into();
    data.as_object_mut().expect("object").remove("move_in_date");
    let draft = s
        .create_draft("anmeldung", &data)
        .expect("drafts may be invalid");
    s.attach(
        &draft,
        "signed-printout",
        "application/pdf",
        printout().as_slice(),
    )
    .expect("attach");
    match s.finalize(&draft) {
        Err(KitError::Validation(errors)) => {
            let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
            assert_eq!(
                pointers,
                [
                    "/move_in_date",
                    "/new_address/postal_code",
                    "/persons/0/date_of_birth"
                ]
            );
            assert!(errors
                .iter()
                .all(|e| !e.message.de.is_empty() && !e.message.en.is_empty()));
        }
        other => panic!("expected validation errors, got {other:?}"),
    }
    assert!(
        s.records(None, 10).expect("records").is_empty(),
        "nothing stored"
    );
    assert_eq!(
        s.drafts().expect("drafts").len(),
        1,
        "the draft is kept for fixing"
    );
}

#[test]
fn a_missing_required_attachment_blocks_finalize() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let draft = s.create_draft("anmeldung", &anmeldung()).expect("draft");
    match s.finalize(&draft) {
        Err(KitError::MissingAttachments(missing)) => assert_eq!(missing, ["signed-printout"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn attachments_of_the_wrong_kind_type_or_size_are_refused_without_leftovers() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let draft = s.create_draft("anmeldung", &anmeldung()).expect("draft");
    assert!(matches!(
        s.attach(&draft, "selfie", "image/jpeg", &b"x"[..]),
        Err(KitError::AttachmentRefused(_))
    ));
    assert!(matches!(
        s.attach(&draft, "signed-printout", "text/html", &b"<html>"[..]),
        Err(KitError::AttachmentRefused(_))
    ));
    // 21 MB through a 20 MB limit, streamed: refused without buffering or leftovers.
    let huge = std::io::Read::take(std::io::repeat(0), 21 * 1024 * 1024);
    assert!(matches!(
        s.attach(&draft, "signed-printout", "application/pdf", huge),
        Err(KitError::AttachmentRefused(msg)) if msg.contains("larger")
    ));
    let leftovers = std::fs::read_dir(f.kit.home().attachments())
        .expect("dir")
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn unknown_and_online_only_services_are_refused_with_the_reason() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    assert!(matches!(
        s.create_draft("hundesteuer", &serde_json::json!({})),
        Err(KitError::Catalog(CatalogError::UnknownService(_)))
    ));
    match s.create_draft("personalausweis", &serde_json::json!({})) {
        Err(KitError::Catalog(CatalogError::NotAvailableOffline { reason, .. })) => {
            assert!(reason.contains("PAuswV"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        s.create_draft("anmeldung", &serde_json::json!([1])),
        Err(KitError::Conflict(_))
    ));
}

#[test]
fn a_driving_licence_is_sealed_to_the_county_and_a_certification_to_the_kit_authority() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let golden = |service: &str, file: &str| -> serde_json::Value {
        let p = std::path::Path::new(fieldkit_catalog::CATALOG_DIR)
            .join(format!("tests/golden/{service}/{file}"));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&p).expect("golden")).expect("json");
        v["data"].clone()
    };
    let dir = std::path::Path::new(fieldkit_catalog::CATALOG_DIR)
        .join("tests/golden/fahrerlaubnis-ersterteilung");
    let valid = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("valid"))
        .expect("a valid driving-licence golden");
    let draft = s
        .create_draft(
            "fahrerlaubnis-ersterteilung",
            &golden("fahrerlaubnis-ersterteilung", &valid),
        )
        .expect("draft");
    let catalog = s.catalog().expect("catalog").clone();
    let validator = fieldkit_catalog::FormValidator::new(
        catalog
            .service("fahrerlaubnis-ersterteilung")
            .expect("service"),
        catalog
            .service("fahrerlaubnis-ersterteilung")
            .expect("service")
            .forms
            .last()
            .expect("form"),
        chrono::Local::now().date_naive(),
    )
    .expect("validator");
    let data = s.draft_data(&draft).expect("data");
    for spec in validator.required_attachments(&data) {
        let media = &catalog
            .service("fahrerlaubnis-ersterteilung")
            .expect("s")
            .attachments
            .iter()
            .find(|a| a.id == spec)
            .expect("spec")
            .media_types[0];
        s.attach(&draft, spec, media.as_str(), &b"scan"[..])
            .expect("attach");
    }
    let done = s.finalize(&draft).expect("finalize");
    assert_eq!(done.authority_id, "landkreis-musterkreis");

    let beglaubigung_dir =
        std::path::Path::new(fieldkit_catalog::CATALOG_DIR).join("tests/golden/beglaubigung");
    let valid = std::fs::read_dir(&beglaubigung_dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("valid"))
        .expect("a valid beglaubigung golden");
    let draft = s
        .create_draft("beglaubigung", &golden("beglaubigung", &valid))
        .expect("draft");
    let done = s.finalize(&draft).expect("finalize");
    assert_eq!(done.authority_id, support::KIT_AUTHORITY);
}

#[test]
fn corrections_and_withdrawals_are_new_records_that_reference_the_original() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let original = finalize_anmeldung(&mut s);
    let mut corrected = anmeldung();
    corrected["new_address"]["house_number"] = "5".into();
    let draft = s
        .start_correction(&original.record_id, &corrected)
        .expect("correction draft");
    s.attach(
        &draft,
        "signed-printout",
        "application/pdf",
        printout().as_slice(),
    )
    .expect("attach");
    let correction = s.finalize(&draft).expect("finalize correction");
    let withdrawal = s
        .withdraw(&original.record_id, "Die Bürgerin zieht doch nicht um.")
        .expect("withdraw");
    assert_eq!((correction.seq, withdrawal.seq), (2, 3));
    let listed = s.records(None, 10).expect("records");
    assert_eq!(listed[0].kind, "withdrawal");
    assert_eq!(
        listed[0].references_record.as_deref(),
        Some(original.record_id.as_str())
    );
    assert_eq!(
        listed[1].references_record.as_deref(),
        Some(original.record_id.as_str())
    );
    assert!(matches!(
        s.withdraw(&original.record_id, "  "),
        Err(KitError::Conflict(_))
    ));
    assert!(matches!(
        s.withdraw(&withdrawal.record_id, "again"),
        Err(KitError::Conflict(_))
    ));
    assert!(matches!(
        s.withdraw("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "x"),
        Err(KitError::NotFound(_))
    ));
    assert!(s.verify_chain().expect("verify").ok());
}

#[test]
fn finalize_needs_enrolment_and_a_clerk() {
    let (_dir, kit, recovery) = support::bare_kit();
    let mut s = kit
        .unlock(support::CLERK, support::PIN.as_bytes())
        .expect("unlock");
    assert!(matches!(
        s.create_draft("anmeldung", &anmeldung()),
        Err(KitError::NoCatalog)
    ));
    drop(s);
    let mut it = kit.unlock_recovery(&recovery).expect("recovery");
    assert!(matches!(
        it.create_draft("anmeldung", &anmeldung()),
        Err(KitError::Conflict(_))
    ));
}

#[test]
fn a_tampered_stored_record_is_found_by_verify() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    for _ in 0..3 {
        finalize_anmeldung(&mut s);
    }
    let report = s.verify_chain().expect("verify");
    assert!(report.ok(), "{report:?}");
    assert_eq!((report.records, report.signatures_checked), (3, 3));
    drop(s);
    // Rewrite record 2's stored hash behind the library's back, as corruption would.
    let s = f.unlock();
    s.debug_execute("UPDATE records SET hash = '00' || substr(hash, 3) WHERE seq = 2");
    let report = s.verify_chain().expect("verify");
    assert!(!report.ok());
    assert_eq!(report.bad_records, [2]);
    assert!(
        !report.findings.is_empty(),
        "record 3 no longer links to the stored hash of 2"
    );
}

#[test]
fn a_picked_files_name_is_sanitized_kept_with_the_draft_and_travels_only_sealed() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let draft = s.create_draft("anmeldung", &anmeldung()).expect("draft");
    // A name a hostile or careless source could hand the kit: a path, a right-to-left
    // override disguising the extension, and a personal name that must stay sealed.
    let picked = "C:\\Scans\\Wohnungsgeberbestätigung Kowalski\u{202E}fdp.exe";
    let info = s
        .attach_named(
            &draft,
            "signed-printout",
            "application/pdf",
            Some(picked),
            &printout()[..],
        )
        .expect("attach");
    let sanitized = "Wohnungsgeberbestätigung Kowalskifdp.exe";
    assert_eq!(info.file_name.as_deref(), Some(sanitized));
    assert_eq!(
        s.draft_attachments(&draft).expect("list")[0]
            .file_name
            .as_deref(),
        Some(sanitized),
        "the draft keeps the sanitized name"
    );
    let unnamed = s
        .attach(
            &draft,
            "signed-printout",
            "application/pdf",
            &printout()[..],
        )
        .expect("a file the kit made");
    assert_eq!(unnamed.file_name, None);
    let done = s.finalize(&draft).expect("finalize");
    drop(s);

    let envelope = stored_envelope(&f, &done.record_id);
    let outside = String::from_utf8_lossy(envelope.to_json().as_slice()).into_owned();
    let record =
        SignedRecord::verify(&envelope, f.kit_id, &f.unlock().kit_public_key()).expect("verifies");
    let payload = String::from_utf8_lossy(&record.payload).into_owned();
    for visible in [&outside, &payload] {
        assert!(
            !visible.contains("Kowalski") && !visible.contains("signed-printout"),
            "neither the name nor the kind travels outside the seal"
        );
    }
    let sk = &f.authority_keys["gemeinde-musterstadt"];
    let aad = seal::case_aad(
        &record.record.record_id,
        &f.kit_id,
        &record.record.authority_id,
    );
    let case = CasePayload::from_json(&seal::open(sk, &record.record.sealed, &aad).expect("opens"))
        .expect("case");
    case.require_keys_match(&record.record.attachments)
        .expect("labels only for manifest attachments");
    let named = case
        .label_of(info.id.parse().expect("id"))
        .expect("a label for the named file");
    assert_eq!(named.kind, "signed-printout");
    assert_eq!(named.file_name.as_deref(), Some(sanitized));
    let made = case
        .label_of(unnamed.id.parse().expect("id"))
        .expect("a label for the file the kit made");
    assert_eq!(made.file_name, None);
}
