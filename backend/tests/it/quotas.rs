//! Per-kit quotas (PROTOCOL.md §6.7) on both stores: past its records per day, or with
//! too many announced attachment bytes not yet uploaded, a kit's batch is answered 429
//! `quota-exceeded` with `Retry-After` and a German-first detail — and nothing it sent
//! is rejected or stored: once under the quota again, the same records are accepted.

use axum::http::StatusCode;
use fieldkit_backend::config::Limits;
use sync_protocol::api::Outcome;

use crate::records::push;
use crate::support::kit::Spec;
use crate::support::{databases, Backend};
use crate::uploads::{create, patch};

#[tokio::test]
async fn a_kit_over_its_daily_records_is_told_to_wait_and_loses_nothing() {
    for db in databases("a_kit_over_its_daily_records") {
        let backend = Backend::new(&db).await;
        backend.app.set_limits(Limits {
            quota_records_per_day: 2,
            ..Limits::default()
        });
        let mut kit = backend.kit().await;
        let other = backend.kit().await;
        let first: Vec<_> = (0..2).map(|_| kit.next(&Spec::anmeldung())).collect();
        let refs: Vec<_> = first.iter().collect();
        let pushed = push(&backend, &kit, &refs).await;
        assert!(pushed
            .results
            .iter()
            .all(|r| r.outcome == Outcome::Accepted));
        let third = kit.next(&Spec::anmeldung());
        let refused = backend.send(kit.push(&[&third])).await;
        assert_eq!(
            refused.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            db.name()
        );
        assert_eq!(refused.code(), "quota-exceeded");
        let problem = refused.problem();
        assert!(problem.retryable);
        assert!(
            problem.detail.starts_with("Tageskontingent"),
            "{}",
            problem.detail
        );
        assert_eq!(refused.header("retry-after"), Some("3600"));
        let row = backend
            .store()
            .kit(&kit.kit_id)
            .await
            .expect("read")
            .expect("kit");
        assert_eq!(
            row.head.map(|h| h.seq),
            Some(2),
            "the refused record was neither stored nor rejected"
        );
        // Another kit has its own quota.
        let mut other = other;
        let theirs = other.next(&Spec::anmeldung());
        push(&backend, &other, &[&theirs]).await;
    }
}

#[tokio::test]
async fn announced_attachments_not_yet_uploaded_hold_back_new_records_until_uploaded() {
    for db in databases("announced_attachments_hold_back_new_records") {
        let backend = Backend::new(&db).await;
        backend.app.set_limits(Limits {
            quota_pending_upload_bytes: 1000,
            ..Limits::default()
        });
        let mut kit = backend.kit().await;
        let with_scan = kit.next(&Spec::anmeldung().with_attachments(&[3000]));
        push(&backend, &kit, &[&with_scan]).await;
        let next = kit.next(&Spec::anmeldung());
        let refused = backend.send(kit.push(&[&next])).await;
        assert_eq!(
            refused.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            db.name()
        );
        assert_eq!(refused.code(), "quota-exceeded");
        assert!(refused.problem().detail.contains("MiB"));
        let a = with_scan.record.attachments[0].id;
        let ciphertext = kit.ciphertexts[&a].clone();
        create(
            &backend,
            &kit,
            &with_scan.record.record_id,
            &a,
            ciphertext.len(),
        )
        .await;
        let done = patch(&backend, &kit, &a, 0, &ciphertext, &ciphertext).await;
        assert_eq!(done.status, StatusCode::NO_CONTENT);
        let accepted = push(&backend, &kit, &[&next]).await;
        assert_eq!(accepted.results[0].outcome, Outcome::Accepted);
    }
}
