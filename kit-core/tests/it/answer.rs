//! Answering a Rückfrage on the kit (`Session::start_answer`): only while the case waits
//! for information, with a note of DIN 91379 text, documents of the service's kinds but
//! no new signed printout, sealed to the original's authority as a supplement that
//! references it — and one answer at a time.

use kit_core::{KitError, MAX_ANSWER_CHARS};
use sync_protocol::record::{RecordKind, SignedRecord};

use crate::support::{enrolled_kit, finalize_anmeldung, printout};

#[test]
fn an_answer_is_sealed_as_a_supplement_of_the_same_case_once_at_a_time() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let original = finalize_anmeldung(&mut s);
    assert!(
        matches!(
            s.start_answer(&original.record_id, "Kopie anbei."),
            Err(KitError::Conflict(_))
        ),
        "nothing was asked yet"
    );
    s.debug_execute(&format!(
        "UPDATE records SET case_status = 'needs_information' WHERE record_id = '{}'",
        original.record_id
    ));
    for bad in ["", "   ", &"x".repeat(MAX_ANSWER_CHARS + 1), "Passkopie 王"] {
        assert!(
            matches!(
                s.start_answer(&original.record_id, bad),
                Err(KitError::Conflict(_))
            ),
            "{bad:?} is no note"
        );
    }
    assert!(
        s.drafts().expect("drafts").is_empty(),
        "nothing half-written"
    );

    // By case number too; spacing typed by hand is tidied.
    let draft = s
        .start_answer(&original.case_number, "  Kopie  des Reisepasses\nanbei. ")
        .expect("answer");
    assert!(matches!(
        s.attach(
            &draft,
            "signed-printout",
            "application/pdf",
            printout().as_slice()
        ),
        Err(KitError::AttachmentRefused(_))
    ));
    s.attach(
        &draft,
        "landlord-confirmation",
        "application/pdf",
        printout().as_slice(),
    )
    .expect("a document");
    assert!(s.check_draft(&draft).expect("check").is_ready());
    let answer = s.finalize(&draft).expect("sealed");
    assert_eq!(answer.authority_id, original.authority_id);
    assert_eq!(answer.display_label, original.display_label);
    assert!(
        matches!(
            s.start_answer(&original.record_id, "Noch etwas."),
            Err(KitError::Conflict(_))
        ),
        "one answer waits to be sent already"
    );

    let pending = s.pending_records(10).expect("pending");
    let envelope = &pending
        .iter()
        .find(|p| p.record_id == answer.record_id)
        .expect("queued")
        .envelope;
    let record = SignedRecord::verify(envelope, f.kit_id, &s.kit_public_key()).expect("verifies");
    assert_eq!(record.record.kind, RecordKind::Supplement);
    assert_eq!(
        record.record.references.map(|r| r.to_string()),
        Some(original.record_id.clone())
    );
    assert_eq!(record.record.authority_id.as_str(), answer.authority_id);
    let case = f.open_case(&record);
    assert_eq!(
        case.form_data,
        serde_json::json!({"answer": "Kopie des Reisepasses\nanbei."})
    );
    assert_eq!(record.record.attachments.len(), 1);
    // An answer has no case of its own to answer for.
    s.debug_execute(&format!(
        "UPDATE records SET case_status = 'needs_information' WHERE record_id = '{}'",
        answer.record_id
    ));
    assert!(matches!(
        s.start_answer(&answer.record_id, "x"),
        Err(KitError::Conflict(_))
    ));
}
