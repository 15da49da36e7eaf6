//! Importing a held-records file (PROTOCOL.md §11.3) on SQLite and PostgreSQL, through
//! the store as `admin kit import-held` drives it: a record the backend chained as
//! rejected at a resend is restored on its own receipt (flagged `needs-routing` when
//! today's checks would refuse it), a purged position is bridged on its receipt, a
//! pending record is delivered as if pushed; afterwards the kit's pushes get the
//! original receipt, the bridge's answer and the chain goes on. A file that does not
//! continue the chain stores nothing.

use chrono::Utc;
use ed25519_dalek::SigningKey;
use fieldkit_backend::held_import::{import_held, ImportAction, PreparedFile};
use fieldkit_backend::ingest::{prepare, prepare_one, push_batch, BatchItem};
use fieldkit_backend::storage::{CaseFlag, StoreError};
use rand_core::OsRng;
use sync_protocol::api::Outcome;
use sync_protocol::held::{HeldEntry, HeldRecord, HeldState, HeldStatement, BRIDGED_DETAIL_PREFIX};
use sync_protocol::receipt::Receipt;
use sync_protocol::record::SignedRecord;

use crate::support::kit::{SealTo, Spec, TestKit};
use crate::support::{databases, Backend};

type Catalogs = [std::sync::Arc<fieldkit_catalog::Catalog>; 1];

fn catalogs() -> Catalogs {
    [std::sync::Arc::new(
        fieldkit_catalog::Catalog::from_dir(fieldkit_catalog::CATALOG_DIR).expect("catalog"),
    )]
}

/// One position as the kit would write it.
struct Held<'a> {
    record: &'a SignedRecord,
    state: HeldState,
    envelope: bool,
    receipt: Option<sync_protocol::dsse::Envelope>,
}

/// The kit's file for `held`, verified and prepared as the admin command does.
fn file(
    kit: &TestKit,
    held: &[Held<'_>],
    server: &SigningKey,
    catalogs: &Catalogs,
) -> PreparedFile {
    let statement = HeldStatement {
        v: 1,
        kit_id: kit.kit_id,
        created_at: Utc::now(),
        blocked: "cannot_resend".into(),
        entries: held
            .iter()
            .map(|h| HeldEntry {
                seq: h.record.record.seq,
                record_id: h.record.record.record_id,
                hash: h.record.hash,
                state: h.state,
                problem: None,
            })
            .collect(),
    };
    let records = held
        .iter()
        .map(|h| HeldRecord {
            seq: h.record.record.seq,
            envelope: h.envelope.then(|| h.record.envelope.clone()),
            receipt: h.receipt.clone(),
        })
        .collect();
    let signed = statement.sign_file(&kit.key, records).expect("signs");
    let checked = signed
        .verify(
            kit.kit_id,
            &kit.key.verifying_key(),
            &[server.verifying_key()],
        )
        .expect("verifies");
    let items = checked
        .entries
        .iter()
        .map(|e| {
            e.envelope
                .as_ref()
                .map(|env| prepare_one(env, kit.kit_id, &kit.key.verifying_key(), catalogs))
        })
        .collect();
    PreparedFile {
        file: checked,
        items,
    }
}

fn receipt(record: &SignedRecord, server: &SigningKey) -> sync_protocol::dsse::Envelope {
    Receipt::for_record(record, Utc::now(), 9_000 + record.record.seq).sign(server)
}

#[tokio::test]
async fn a_held_file_restores_bridges_and_delivers_on_every_store() {
    for db in databases("held-records import") {
        let backend = Backend::new(&db).await;
        let store = backend.store();
        let server = SigningKey::generate(&mut OsRng);
        let catalogs = catalogs();
        let mut kit = backend.kit().await;
        let r1 = kit.next(&Spec::anmeldung());
        // Sealed to a key no authority has: today's checks refuse it (chained).
        let r2 = kit.next(&Spec {
            seal_to: SealTo::Stranger,
            ..Spec::anmeldung()
        });
        let r3 = kit.next(&Spec::anmeldung());
        let r4 = kit.next(&Spec::anmeldung().with_attachments(&[30]));
        let r5 = kit.next(&Spec::anmeldung());
        let (kit_id, kit_key) = (kit.kit_id, kit.key.verifying_key());
        let push = |records: Vec<&SignedRecord>| {
            let envelopes: Vec<_> = records.iter().map(|r| r.envelope.clone()).collect();
            push_batch(
                store,
                &kit_id,
                prepare(&envelopes, kit_id, &kit_key, &catalogs),
                &server,
                Utc::now(),
            )
        };
        let first = push(vec![&r1, &r2]).await.expect("batch");
        assert_eq!(first.results[1].outcome, Outcome::Rejected, "{}", db.name());

        // A file that skips seq 3: refused, nothing stored.
        let late = file(
            &kit,
            &[Held {
                record: &r4,
                state: HeldState::Pending,
                envelope: true,
                receipt: None,
            }],
            &server,
            &catalogs,
        );
        assert!(matches!(
            import_held(store, &kit_id, late, &server, "cli:it", Utc::now()).await,
            Err(StoreError::Conflict(_))
        ));

        // seq 2: the kit holds this backend's receipt (it accepted it before a restore
        // lost it); seq 3: purged on the kit, receipt only; seq 4: still pending.
        let r2_receipt = receipt(&r2, &server);
        let r3_receipt = receipt(&r3, &server);
        let outcome = import_held(
            store,
            &kit_id,
            file(
                &kit,
                &[
                    Held {
                        record: &r2,
                        state: HeldState::Complete,
                        envelope: true,
                        receipt: Some(r2_receipt.clone()),
                    },
                    Held {
                        record: &r3,
                        state: HeldState::Purged,
                        envelope: false,
                        receipt: Some(r3_receipt),
                    },
                    Held {
                        record: &r4,
                        state: HeldState::Pending,
                        envelope: true,
                        receipt: None,
                    },
                ],
                &server,
                &catalogs,
            ),
            &server,
            "cli:it",
            Utc::now(),
        )
        .await
        .expect("imports");
        let actions: Vec<_> = outcome
            .positions
            .iter()
            .map(|p| (p.seq, p.action))
            .collect();
        assert_eq!(
            actions,
            [
                (2, ImportAction::Restored),
                (3, ImportAction::Bridged),
                (4, ImportAction::Delivered)
            ],
            "{}",
            db.name()
        );
        assert_eq!(outcome.head.map(|h| h.seq), Some(4));

        // The restored case: in an inbox, flagged with why, answered with the original
        // receipt byte for byte.
        let flags = store.case_flags(&r2.record.record_id).await.expect("flags");
        assert_eq!(flags.len(), 1, "{}", db.name());
        assert_eq!(flags[0].flag, CaseFlag::NeedsRouting);
        assert!(
            flags[0].reason.contains("own receipt"),
            "{}",
            flags[0].reason
        );
        let again = push(vec![&r2, &r3, &r4, &r5]).await.expect("batch");
        let outcomes: Vec<_> = again.results.iter().map(|r| r.outcome).collect();
        assert_eq!(
            outcomes,
            [
                Outcome::Duplicate,
                Outcome::Rejected,
                Outcome::Duplicate,
                Outcome::Accepted
            ],
            "{}",
            db.name()
        );
        assert_eq!(again.results[0].receipt.as_ref(), Some(&r2_receipt));
        let bridged = again.results[1].problem.as_ref().expect("problem");
        assert!(
            bridged.detail.starts_with(BRIDGED_DETAIL_PREFIX),
            "{}",
            bridged.detail
        );
        assert_eq!(again.head.map(|h| h.seq), Some(5), "the chain goes on");
        // The pending upload of the delivered seq 4 is there to be sent.
        let state = store.kit_state(&kit_id, 100).await.expect("state");
        assert_eq!(state.pending_uploads.len(), 1);

        // The same file again: everything is already held.
        let twice = import_held(
            store,
            &kit_id,
            file(
                &kit,
                &[Held {
                    record: &r3,
                    state: HeldState::Purged,
                    envelope: false,
                    receipt: None,
                }],
                &server,
                &catalogs,
            ),
            &server,
            "cli:it",
            Utc::now(),
        )
        .await
        .expect("imports");
        assert_eq!(twice.positions[0].action, ImportAction::AlreadyHeld);
    }
}

#[tokio::test]
async fn a_receipt_this_backend_never_signed_is_not_taken_and_the_envelope_is_judged_as_pushed() {
    for db in databases("held-records receipts") {
        let backend = Backend::new(&db).await;
        let store = backend.store();
        let server = SigningKey::generate(&mut OsRng);
        let stranger = SigningKey::generate(&mut OsRng);
        let catalogs = catalogs();
        let mut kit = backend.kit().await;
        let r1 = kit.next(&Spec::anmeldung());
        let forged = receipt(&r1, &stranger);
        let prepared = file(
            &kit,
            &[Held {
                record: &r1,
                state: HeldState::Complete,
                envelope: true,
                receipt: Some(forged),
            }],
            &server,
            &catalogs,
        );
        assert!(prepared.file.entries[0].receipt.is_none());
        assert!(prepared.file.entries[0].receipt_problem.is_some());
        assert!(matches!(
            prepared.items[0],
            Some(BatchItem::Verified { .. })
        ));
        let outcome = import_held(store, &kit.kit_id, prepared, &server, "cli:it", Utc::now())
            .await
            .expect("imports");
        // Without a receipt of its own, the backend takes the envelope as pushed.
        assert_eq!(
            outcome.positions[0].action,
            ImportAction::Delivered,
            "{}",
            db.name()
        );
    }
}

/// A file of more positions than one statement writes (the batch's rows go out in
/// statements of 100): every position delivered once, every row written, and the same
/// envelopes pushed afterwards are answered as duplicates with the receipts the import
/// signed.
#[tokio::test]
async fn a_file_of_150_positions_is_written_whole_in_one_transaction() {
    for db in databases("held-records 150 positions") {
        let backend = Backend::new(&db).await;
        let store = backend.store();
        let server = SigningKey::generate(&mut OsRng);
        let catalogs = catalogs();
        let mut kit = backend.kit().await;
        let records: Vec<SignedRecord> = (0..150)
            .map(|i| {
                if i % 50 == 0 {
                    kit.next(&Spec::anmeldung().with_attachments(&[10]))
                } else {
                    kit.next(&Spec::anmeldung())
                }
            })
            .collect();
        let held: Vec<Held<'_>> = records
            .iter()
            .map(|record| Held {
                record,
                state: HeldState::Pending,
                envelope: true,
                receipt: None,
            })
            .collect();
        let prepared = file(&kit, &held, &server, &catalogs);
        let outcome = import_held(store, &kit.kit_id, prepared, &server, "cli:it", Utc::now())
            .await
            .expect("imports");
        assert_eq!(outcome.positions.len(), 150, "{}", db.name());
        assert!(outcome
            .positions
            .iter()
            .all(|p| p.action == ImportAction::Delivered));
        let authority = records[0].record.authority_id.clone();
        assert_eq!(store.inbox(&authority).await.expect("inbox").len(), 150);
        let state = store.kit_state(&kit.kit_id, 1000).await.expect("state");
        let head = store
            .kit(&kit.kit_id)
            .await
            .expect("kit")
            .expect("known")
            .head;
        assert_eq!(head.map(|h| h.seq), Some(150), "{}", db.name());
        assert_eq!(state.pending_uploads.len(), 3, "{}", db.name());

        // Pushed again: duplicates, each answered with a receipt for its own record.
        let kit_key = kit.key.verifying_key();
        let trusted = [server.verifying_key()];
        let mut positions = Vec::new();
        for chunk in records.chunks(100) {
            let envelopes: Vec<_> = chunk.iter().map(|r| r.envelope.clone()).collect();
            let again = push_batch(
                store,
                &kit.kit_id,
                prepare(&envelopes, kit.kit_id, &kit_key, &catalogs),
                &server,
                Utc::now(),
            )
            .await
            .expect("batch");
            for (result, record) in again.results.iter().zip(chunk) {
                assert_eq!(result.outcome, Outcome::Duplicate, "{}", db.name());
                let receipt = Receipt::verify(result.receipt.as_ref().expect("receipt"), &trusted)
                    .expect("verifies");
                receipt.require_matches(record).expect("its own record");
                positions.push(receipt.log_position);
            }
        }
        let mut unique = positions.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 150, "log positions are unique");
    }
}
