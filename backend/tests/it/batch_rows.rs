//! A batch's rows are written when it commits (`storage::batch::pending`): what a batch
//! decides about a record must still see the records before it in the same batch, on
//! both databases.

use chrono::Utc;
use ed25519_dalek::SigningKey;
use fieldkit_backend::ingest::{prepare, push_batch};
use rand_core::OsRng;
use sync_protocol::api::Outcome;
use sync_protocol::receipt::Receipt;
use sync_protocol::record::SignedRecord;

use crate::support::kit::Spec;
use crate::support::{databases, Backend};

#[tokio::test]
async fn a_record_repeated_in_its_own_batch_is_a_duplicate_of_the_first_with_its_receipt() {
    for db in databases("in-batch duplicates") {
        let backend = Backend::new(&db).await;
        let store = backend.store();
        let server = SigningKey::generate(&mut OsRng);
        let catalogs = [std::sync::Arc::new(
            fieldkit_catalog::Catalog::from_dir(fieldkit_catalog::CATALOG_DIR).expect("catalog"),
        )];
        let mut kit = backend.kit().await;
        let r1 = kit.next(&Spec::anmeldung().with_attachments(&[10]));
        let r2 = kit.next(&Spec::anmeldung());
        // A second record at seq 2, for after the batch.
        let fork = kit.record_at(2, r1.hash, &Spec::driving_licence());
        let batch: Vec<&SignedRecord> = vec![&r1, &r2, &r1, &r2];
        let envelopes: Vec<_> = batch.iter().map(|r| r.envelope.clone()).collect();
        let kit_key = kit.key.verifying_key();
        let outcome = push_batch(
            store,
            &kit.kit_id,
            prepare(&envelopes, kit.kit_id, &kit_key, &catalogs),
            &server,
            Utc::now(),
        )
        .await
        .expect("batch");
        let outcomes: Vec<Outcome> = outcome.results.iter().map(|r| r.outcome).collect();
        assert_eq!(
            outcomes,
            [
                Outcome::Accepted,
                Outcome::Accepted,
                Outcome::Duplicate,
                Outcome::Duplicate
            ],
            "{}",
            db.name()
        );
        assert_eq!(outcome.results[2].receipt, outcome.results[0].receipt);
        assert_eq!(outcome.results[3].receipt, outcome.results[1].receipt);
        let trusted = [server.verifying_key()];
        let first = Receipt::verify(outcome.results[0].receipt.as_ref().expect("r"), &trusted)
            .expect("verifies");
        let second = Receipt::verify(outcome.results[1].receipt.as_ref().expect("r"), &trusted)
            .expect("verifies");
        assert!(second.log_position > first.log_position);

        // The fork arrives in the next batch, against the written rows: conflict.
        let forked = push_batch(
            store,
            &kit.kit_id,
            prepare(
                std::slice::from_ref(&fork.envelope),
                kit.kit_id,
                &kit_key,
                &catalogs,
            ),
            &server,
            Utc::now(),
        )
        .await
        .expect("batch");
        assert_eq!(
            forked.results[0].outcome,
            Outcome::Conflict,
            "{}",
            db.name()
        );

        // Exactly once: two cases, one upload pending, the head at seq 2.
        let authority = r1.record.authority_id.clone();
        assert_eq!(store.inbox(&authority).await.expect("inbox").len(), 2);
        let state = store.kit_state(&kit.kit_id, 1000).await.expect("state");
        let head = store
            .kit(&kit.kit_id)
            .await
            .expect("kit")
            .expect("known")
            .head;
        assert_eq!(head.map(|h| h.hash), Some(r2.hash), "{}", db.name());
        assert_eq!(state.pending_uploads.len(), 1, "{}", db.name());
    }
}
