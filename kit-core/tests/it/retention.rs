//! Retention: complete records lose their sealed data and files after the retention
//! period, keep their chain metadata, and leave a metadata-only log entry.

use chrono::{Duration, Utc};
use kit_core::RecordState;
use sync_protocol::receipt::Receipt;
use sync_protocol::record::SignedRecord;

use crate::support::{anmeldung, enrolled_kit, finalize_anmeldung};

#[test]
fn complete_records_are_purged_after_the_retention_period_and_the_chain_still_verifies() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let done = finalize_anmeldung(&mut s);
    let kept = finalize_anmeldung(&mut s);
    let pending = s.pending_records(10).expect("pending");
    let record =
        SignedRecord::verify(&pending[0].envelope, f.kit_id, &s.kit_public_key()).expect("record");
    s.mark_delivered(
        &done.record_id,
        &Receipt::for_record(&record, Utc::now(), 1).sign(&f.server_key),
    )
    .expect("delivered");
    let upload = s.pending_uploads(10).expect("uploads").remove(0);
    s.mark_uploaded(&upload.attachment_id).expect("complete");
    let draft = s
        .create_draft("anmeldung", &anmeldung())
        .expect("a draft left open");

    let early = s
        .purge_at(Utc::now() + Duration::days(6), 7)
        .expect("purge");
    assert!(early.purged.is_empty(), "not yet");
    assert!(upload.path.exists());

    let report = s
        .purge_at(Utc::now() + Duration::days(8), 7)
        .expect("purge");
    assert_eq!(report.purged, std::slice::from_ref(&done.case_number));
    assert_eq!(report.files_removed, 1);
    assert!(!upload.path.exists());
    assert_eq!(
        report
            .stale_drafts
            .iter()
            .map(|d| d.id.as_str())
            .collect::<Vec<_>>(),
        [draft.as_str()]
    );
    let purged = s.record(&done.record_id).expect("metadata kept");
    assert_eq!(purged.state, RecordState::Purged);
    assert_eq!(
        purged.display_label, None,
        "whom it was for goes with the data"
    );
    assert_eq!(
        s.record(&kept.record_id)
            .expect("kept")
            .display_label
            .as_deref(),
        Some("Ayşe Özdemir (+1)"),
        "a record not purged still says whom it is for"
    );
    assert_eq!(
        s.record(&kept.record_id).expect("pending kept").state,
        RecordState::Pending
    );
    let chain = s.verify_chain().expect("verify");
    assert!(chain.ok(), "{chain:?}");
    assert_eq!((chain.records, chain.signatures_checked), (2, 1));
    assert_eq!(s.purge_log_len(), 1);
}
