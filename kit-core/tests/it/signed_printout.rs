//! The citizen signs what they see: a signed printout (or the scan of a paper one) is
//! bound to the data it shows; a change afterwards makes it outdated, `check_draft` says
//! so and `finalize` refuses until the citizen signs again — and then exactly one record
//! carries exactly the new printout.

use kit_core::{KitError, SIGNED_PRINTOUT_FILE_NAME};

use crate::printout::signature_png;
use crate::support::{anmeldung, enrolled_kit, printout};

const KIND: &str = "signed-printout";

#[test]
fn a_change_after_signing_outdates_the_printout_until_the_citizen_signs_again() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let draft = s.create_draft("anmeldung", &anmeldung()).expect("draft");

    let first = s
        .sign_printout(&draft, " Musterstadt ", signature_png())
        .expect("signed");
    assert_eq!(
        first.attachment.file_name.as_deref(),
        Some(SIGNED_PRINTOUT_FILE_NAME)
    );
    let check = s.check_draft(&draft).expect("check");
    assert!(check.is_ready(), "signed and valid: {check:?}");

    // Saving the same data again (autosave after a focus change) changes nothing.
    s.update_draft(&draft, &anmeldung()).expect("same data");
    assert!(s.check_draft(&draft).expect("check").is_ready());

    // The clerk corrects a name after the signature.
    let mut changed = anmeldung();
    changed["persons"][0]["family_name"] = "Schmidt-Łukasiewicz".into();
    s.update_draft(&draft, &changed).expect("edit");
    let check = s.check_draft(&draft).expect("check");
    assert!(!check.is_ready());
    assert_eq!(check.outdated_printouts, [first.attachment.id.as_str()]);
    assert_eq!(check.missing_attachments, [KIND]);
    match s.finalize(&draft) {
        Err(KitError::OutdatedPrintout(kinds)) => assert_eq!(kinds, [KIND]),
        other => panic!("an outdated signature must be refused, got {other:?}"),
    }
    assert!(s.records(None, 10).expect("records").is_empty());

    // Changing it back makes the signed paper true again: it shows exactly this data.
    s.update_draft(&draft, &anmeldung()).expect("undo");
    assert!(s.check_draft(&draft).expect("check").is_ready());
    s.update_draft(&draft, &changed).expect("edit again");

    // The citizen signs again: the new printout replaces the old one.
    let second = s
        .sign_printout(&draft, "Musterstadt", signature_png())
        .expect("signed again");
    assert_eq!(second.replaced, [first.attachment.id.as_str()]);
    let check = s.check_draft(&draft).expect("check");
    assert!(check.is_ready(), "{check:?}");
    let done = s.finalize(&draft).expect("finalize");

    // Exactly one record, sealing the changed data and only the second printout.
    let records = s.records(None, 10).expect("records");
    assert_eq!(records.len(), 1);
    let pending = s.pending_records(10).expect("pending");
    assert_eq!(pending.len(), 1);
    let record = sync_protocol::record::SignedRecord::verify(
        &pending[0].envelope,
        f.kit_id,
        &s.kit_public_key(),
    )
    .expect("verifies");
    let ids: Vec<String> = record
        .record
        .attachments
        .iter()
        .map(|a| a.id.to_string())
        .collect();
    assert_eq!(ids, [second.attachment.id.as_str()]);
    assert_eq!(record.record.authority_id.as_str(), done.authority_id);
    let case = f.open_case(&record);
    assert_eq!(
        case.form_data["persons"][0]["family_name"],
        "Schmidt-Łukasiewicz"
    );
}

#[test]
fn the_scan_of_a_paper_printout_is_bound_like_a_signed_one_and_other_files_never_are() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let mut data = anmeldung();
    data["landlord_confirmation"] = serde_json::json!({"status": "missing"});
    let draft = s.create_draft("anmeldung", &data).expect("draft");
    // The paper path: printed, signed by hand, scanned and attached as the form file.
    let scan = s
        .attach_named(
            &draft,
            KIND,
            "application/pdf",
            Some("scan.pdf"),
            printout().as_slice(),
        )
        .expect("scan");
    let landlord = s
        .attach(
            &draft,
            "landlord-confirmation",
            "application/pdf",
            printout().as_slice(),
        )
        .expect("landlord confirmation");
    assert!(s.check_draft(&draft).expect("check").is_ready());

    data["move_in_date"] = "2026-11-02".into();
    s.update_draft(&draft, &data).expect("edit");
    let check = s.check_draft(&draft).expect("check");
    assert_eq!(
        check.outdated_printouts,
        [scan.id.as_str()],
        "only the printout is bound to the data, not the landlord's confirmation {}",
        landlord.id
    );
    assert!(matches!(
        s.finalize(&draft),
        Err(KitError::OutdatedPrintout(_))
    ));

    // Removing the outdated scan and attaching the new one is the other way on.
    s.detach(&draft, &scan.id).expect("detach");
    let check = s.check_draft(&draft).expect("check");
    assert!(check.outdated_printouts.is_empty());
    assert_eq!(check.missing_attachments, [KIND]);
    s.attach(&draft, KIND, "application/pdf", printout().as_slice())
        .expect("new scan");
    s.finalize(&draft).expect("finalize");
    assert_eq!(s.records(None, 10).expect("records").len(), 1);
    assert_eq!(s.pending_records(10).expect("pending").len(), 1);
}

#[test]
fn signing_an_unknown_draft_or_with_a_broken_image_changes_nothing() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    assert!(matches!(
        s.sign_printout("no-such-draft", "Musterstadt", signature_png()),
        Err(KitError::NotFound(_))
    ));
    let draft = s.create_draft("anmeldung", &anmeldung()).expect("draft");
    let err = s
        .sign_printout(
            &draft,
            "Musterstadt",
            b"\x89PNG\r\n\x1a\nnot really".to_vec(),
        )
        .expect_err("a broken image");
    assert!(matches!(err, KitError::Printout(_)), "{err:?}");
    assert!(s.draft_attachments(&draft).expect("list").is_empty());
}
