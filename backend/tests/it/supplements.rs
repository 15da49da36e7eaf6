//! Answers to a Rückfrage (`supplement` records, PROTOCOL §4.1) as a rogue or confused
//! kit would send them: one naming another kit's case, one naming no held record, one
//! naming another authority's case or an answer are rejected; a kit's own answer is
//! accepted, files with the case and moves it from `needs_information` back to
//! `in_review` once — an answer to a case no longer waiting leaves it where it is.

use chrono::Utc;
use ed25519_dalek::SigningKey;
use fieldkit_backend::ingest::{prepare, push_batch, BatchOutcome};
use rand_core::OsRng;
use sync_protocol::api::{CaseStatus, Outcome, ProblemCode};
use sync_protocol::ids::RecordId;
use sync_protocol::record::{RecordKind, SignedRecord};
use uuid::Uuid;

use crate::support::kit::{Spec, TestKit};
use crate::support::{databases, Backend};

fn answer_to(original: RecordId) -> Spec {
    Spec {
        kind: RecordKind::Supplement,
        references: Some(original),
        form_data: Some(serde_json::json!({"answer": "Kopie anbei."})),
        ..Spec::anmeldung()
    }
}

async fn push(backend: &Backend, kit: &TestKit, records: &[SignedRecord]) -> BatchOutcome {
    let catalog = [std::sync::Arc::new(
        fieldkit_catalog::Catalog::from_dir(fieldkit_catalog::CATALOG_DIR).expect("catalog"),
    )];
    let envelopes: Vec<_> = records.iter().map(|r| r.envelope.clone()).collect();
    let items = prepare(&envelopes, kit.kit_id, &kit.key.verifying_key(), &catalog);
    push_batch(
        backend.store(),
        &kit.kit_id,
        items,
        &SigningKey::generate(&mut OsRng),
        Utc::now(),
    )
    .await
    .expect("batch")
}

#[tokio::test]
async fn only_a_kits_own_answer_to_a_waiting_case_is_filed_and_moves_it_back_once() {
    for db in databases("supplements") {
        let backend = Backend::new(&db).await;
        let store = backend.store();
        let (mut a, mut b) = (backend.kit().await, backend.kit().await);
        let original = a.next(&Spec::anmeldung());
        let elsewhere = a.next(&Spec::driving_licence());
        let pushed = push(&backend, &a, &[original.clone(), elsewhere.clone()]).await;
        assert!(pushed
            .results
            .iter()
            .all(|r| r.outcome == Outcome::Accepted));
        let id = original.record.record_id;
        assert!(store
            .set_case_status(
                &id,
                CaseStatus::NeedsInformation,
                Some("Passkopie?"),
                "r",
                Utc::now()
            )
            .await
            .expect("asked"));

        // Kit B answers kit A's case; then a record nobody holds.
        let stranger = b.next(&answer_to(id));
        let nothing = b.next(&answer_to(RecordId::from_uuid(Uuid::now_v7())));
        let refused = push(&backend, &b, &[stranger, nothing]).await;
        for r in &refused.results {
            assert_eq!(r.outcome, Outcome::Rejected, "{}: {r:?}", db.name());
            assert_eq!(
                r.problem.as_ref().map(|p| p.code),
                Some(ProblemCode::InvalidRecord)
            );
        }
        assert!(refused.answered.is_empty());

        // Kit A answers its driving-licence case as if it were at the municipality.
        let wrong_authority = a.next(&answer_to(elsewhere.record.record_id));
        let own = a.next(&answer_to(id));
        let outcome = push(&backend, &a, &[wrong_authority, own.clone()]).await;
        let outcomes: Vec<Outcome> = outcome.results.iter().map(|r| r.outcome).collect();
        assert_eq!(
            outcomes,
            [Outcome::Rejected, Outcome::Accepted],
            "{}",
            db.name()
        );
        assert_eq!(outcome.answered, [id]);
        let case = store.case_detail(&id).await.expect("case").expect("held");
        assert_eq!(case.case.status, CaseStatus::InReview);

        // An answer to the answer is refused; a second answer leaves the case in review.
        let nested = a.next(&answer_to(own.record.record_id));
        let again = a.next(&answer_to(id));
        let outcome = push(&backend, &a, &[nested, again]).await;
        let outcomes: Vec<Outcome> = outcome.results.iter().map(|r| r.outcome).collect();
        assert_eq!(
            outcomes,
            [Outcome::Rejected, Outcome::Accepted],
            "{}",
            db.name()
        );
        let related = store
            .related_cases(&id, &original.record.authority_id)
            .await
            .expect("related");
        assert_eq!(related.len(), 2, "both answers are filed with the case");
        assert!(related.iter().all(|c| c.kind == RecordKind::Supplement));
        let case = store.case_detail(&id).await.expect("case").expect("held");
        assert_eq!(case.case.status, CaseStatus::InReview);
    }
}
