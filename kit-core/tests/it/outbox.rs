//! The outbox state machine and receipts: a delivery counts only with a receipt that
//! verifies against the enrolled server key and names exactly the record sent.

use chrono::Utc;
use ed25519_dalek::SigningKey;
use kit_core::{KitError, RecordState};
use sync_protocol::receipt::Receipt;
use sync_protocol::record::SignedRecord;

use crate::support::{enrolled_kit, finalize_anmeldung};

#[test]
fn a_record_moves_from_pending_to_delivered_to_complete_with_a_valid_receipt() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let done = finalize_anmeldung(&mut s);
    let pending = s.pending_records(10).expect("pending");
    assert_eq!(pending.len(), 1);
    let record = SignedRecord::verify(&pending[0].envelope, f.kit_id, &s.kit_public_key())
        .expect("own record");

    // A receipt from another key (a captive portal, an impostor) changes nothing.
    let impostor = SigningKey::from_bytes(&[9; 32]);
    let fake = Receipt::for_record(&record, Utc::now(), 1).sign(&impostor);
    assert!(s.mark_delivered(&done.record_id, &fake).is_err());
    assert_eq!(
        s.record(&done.record_id).expect("record").state,
        RecordState::Pending
    );

    let receipt = Receipt::for_record(&record, Utc::now(), 17).sign(&f.server_key);
    s.mark_delivered(&done.record_id, &receipt)
        .expect("delivered");
    assert_eq!(
        s.record(&done.case_number).expect("by case number").state,
        RecordState::Delivered
    );
    assert!(s.pending_records(10).expect("pending").is_empty());

    let uploads = s.pending_uploads(10).expect("uploads");
    assert_eq!(uploads.len(), 1);
    assert!(uploads[0].path.exists());
    s.mark_uploaded(&uploads[0].attachment_id)
        .expect("uploaded");
    assert_eq!(
        s.record(&done.record_id).expect("record").state,
        RecordState::Complete
    );
    let status = s.status().expect("status");
    assert_eq!((status.pending, status.complete), (0, 1));
}

#[test]
fn a_receipt_for_another_record_is_not_a_delivery() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let first = finalize_anmeldung(&mut s);
    let second = finalize_anmeldung(&mut s);
    let pending = s.pending_records(10).expect("pending");
    let first_record =
        SignedRecord::verify(&pending[0].envelope, f.kit_id, &s.kit_public_key()).expect("record");
    let receipt = Receipt::for_record(&first_record, Utc::now(), 1).sign(&f.server_key);
    assert!(matches!(
        s.mark_delivered(&second.record_id, &receipt),
        Err(KitError::Protocol(_))
    ));
    s.mark_delivered(&first.record_id, &receipt)
        .expect("the right one");
}

#[test]
fn a_rejected_record_keeps_its_reason_and_does_not_block_the_next() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let first = finalize_anmeldung(&mut s);
    let second = finalize_anmeldung(&mut s);
    s.mark_rejected(&first.record_id, "unknown-routing: no such authority")
        .expect("rejected");
    let pending = s.pending_records(10).expect("pending");
    assert_eq!(
        pending
            .iter()
            .map(|p| p.record_id.as_str())
            .collect::<Vec<_>>(),
        [second.record_id.as_str()]
    );
    let r = s.record(&first.record_id).expect("record");
    assert_eq!(r.state, RecordState::Rejected);
    assert_eq!(
        r.rejection.as_deref(),
        Some("unknown-routing: no such authority")
    );
    s.apply_case_status(
        &second.record_id,
        "needs_information",
        Some("Bitte Ausweis nachreichen"),
    )
    .expect("status");
    assert_eq!(
        s.record(&second.record_id)
            .expect("r")
            .case_comment
            .as_deref(),
        Some("Bitte Ausweis nachreichen")
    );
}
