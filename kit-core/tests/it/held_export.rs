//! The kit side of the held-records file (PROTOCOL.md §11.1): only the recovery secret
//! writes it, it starts where the last sync stopped or where IT says, it verifies with
//! the kit's key, and the export is noted in the kit's IT log.

use kit_core::KitError;
use sync_protocol::held::{HeldFile, HeldState};

use crate::support::{enrolled_kit, finalize_anmeldung};

#[test]
fn only_the_recovery_secret_exports_and_the_file_verifies_with_the_kit_key() {
    let fx = enrolled_kit();
    let mut clerk = fx.unlock();
    let first = finalize_anmeldung(&mut clerk);
    finalize_anmeldung(&mut clerk);
    assert!(matches!(
        clerk.export_held(Some(1)),
        Err(KitError::Conflict(m)) if m.contains("recovery secret")
    ));
    drop(clerk);

    let mut it = fx.kit.unlock_recovery(&fx.recovery).expect("recovery");
    // No sync stopped yet: IT must say where to start.
    assert!(matches!(
        it.export_held(None),
        Err(KitError::Conflict(m)) if m.contains("--from")
    ));
    assert!(matches!(
        it.export_held(Some(3)),
        Err(KitError::Conflict(_))
    ));
    assert!(
        it.it_log().expect("log").is_empty(),
        "refusals leave no entry"
    );

    let export = it.export_held(Some(1)).expect("exports");
    assert_eq!((export.from_seq, export.to_seq), (1, 2));
    assert_eq!((export.envelopes, export.receipts), (2, 0));
    let file = HeldFile::from_json(&export.file).expect("parses");
    let signing = it.kit_public_key();
    let checked = file.verify(fx.kit_id, &signing, &[]).expect("verifies");
    assert_eq!(checked.statement.blocked, "it-export");
    assert_eq!(checked.entries[0].entry.state, HeldState::Pending);
    assert_eq!(
        checked.entries[0].entry.record_id.to_string(),
        first.record_id
    );
    let log = it.it_log().expect("log");
    assert_eq!(log.len(), 1);
    assert!(
        log[0].detail.contains(&export.file_sha256),
        "{}",
        log[0].detail
    );
}
