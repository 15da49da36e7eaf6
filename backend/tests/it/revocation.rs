//! Revocation that drains, then wipes (issue 13 item 3), at the backend: a draining
//! kit is told nothing, delivers flagged `revoked-kit` and is wiped only once its outbox
//! report is 0 and every upload is held (wrong reports refused); a stolen kit's records
//! are held until a person other than the revoker releases them; wipe-now needs the
//! count the kit last reported and is audited with the operator and the mode.

use axum::http::StatusCode;
use fieldkit_backend::admin;
use fieldkit_backend::storage::{CaseFlag, RevocationMode, Role};
use sync_protocol::ids::AuthorityId;

use crate::lifecycle::{accepted, inbox_flags};
use crate::office_cases::anmeldung_data;
use crate::records::push;
use crate::support::kit::Spec;
use crate::support::office::{add_user, Browser};
use crate::support::{databases, Backend};

/// Revokes `kit` in `mode` as the back-office user `actor`.
async fn revoke_as(
    backend: &Backend,
    kit: &crate::support::TestKit,
    mode: RevocationMode,
    actor: &str,
    confirmed: Option<u64>,
) -> Result<admin::kit::Revoked, admin::AdminError> {
    let acting = admin::Admin::acting_as(
        std::sync::Arc::clone(&backend.admin.store),
        &backend.admin.master,
        actor,
    );
    admin::kit::revoke_with(
        &acting,
        admin::kit::RevokeArgs {
            kit_id: &kit.kit_id.to_string(),
            reason: "Koffer verloren",
            mode,
            confirmed_undelivered: confirmed,
        },
    )
    .await
}

async fn changes(
    backend: &Backend,
    kit: &crate::support::TestKit,
    query: &str,
) -> crate::support::Resp {
    backend
        .send(kit.signed_as("2", "GET", &format!("/v1/changes?{query}"), Vec::new()))
        .await
}

/// The wipes on a page of the signed feed (protocol 2, the only version that carries
/// them), each verified as the kit would: signed by its server key, for this kit.
fn wipes(kit: &crate::support::TestKit, resp: &crate::support::Resp) -> usize {
    use sync_protocol::change::{PageVerifier, SignedChangesPage, TrustedKey};
    let page: SignedChangesPage = resp.json();
    let keys = kit
        .server_keys
        .iter()
        .copied()
        .map(TrustedKey::new)
        .collect();
    let mut verifier = PageVerifier::new(kit.kit_id, 0, keys);
    page.changes
        .iter()
        .map(|env| verifier.next(env).expect("verifies").into_change())
        .filter(|c| matches!(c.change, sync_protocol::api::ChangeKind::Wipe { .. }))
        .count()
}

#[tokio::test]
async fn a_draining_kit_delivers_flagged_and_is_wiped_only_when_its_outbox_is_empty() {
    for db in databases("a_draining_kit_delivers_flagged_and_is_wiped_only_when_empty") {
        let backend = Backend::new(&db).await;
        let mut kit = backend.kit().await;
        let before = kit.next(&Spec::anmeldung());
        push(&backend, &kit, &[&before]).await;
        let revoked = revoke_as(&backend, &kit, RevocationMode::Drain, "it.ops", None)
            .await
            .expect("revoked");
        assert_eq!(revoked.state, "draining");
        // The kit is told nothing yet and still delivers, flagged.
        let state = backend
            .send(kit.signed("GET", "/v1/state", Vec::new()))
            .await;
        assert_eq!(state.status, StatusCode::OK);
        assert_eq!(state.json::<serde_json::Value>()["standing"], "active");
        let after = kit.next(&Spec::anmeldung().with_attachments(&[1_000]));
        let response = push(&backend, &kit, &[&after]).await;
        assert_eq!(accepted(&response), 1, "{}: {response:?}", db.name());
        let mut inbox = inbox_flags(&backend, "gemeinde-musterstadt").await;
        inbox.sort();
        let mut expected = vec![
            (before.record.record_id, vec![]),
            (after.record.record_id, vec![CaseFlag::RevokedKit]),
        ];
        expected.sort();
        assert_eq!(inbox, expected, "{}", db.name());

        // Wrong outbox reports are refused; no report, or records still waiting, or an
        // attachment not yet held: no wipe.
        for bad in [
            "outbox=-1",
            "outbox=01",
            "outbox=x",
            "outbox=1&outbox=0",
            "outbox=",
        ] {
            assert_eq!(
                changes(&backend, &kit, bad).await.status,
                StatusCode::BAD_REQUEST,
                "{bad}"
            );
        }
        assert_eq!(wipes(&kit, &changes(&backend, &kit, "after=0").await), 0);
        assert_eq!(wipes(&kit, &changes(&backend, &kit, "outbox=2").await), 0);
        assert_eq!(
            wipes(&kit, &changes(&backend, &kit, "outbox=0").await),
            0,
            "upload pending"
        );
        let (undelivered, at) = admin::kit::undelivered(&backend.admin, &kit.kit_id)
            .await
            .expect("report");
        assert_eq!((undelivered, at.is_some()), (0, true));
        let attachment = after.record.attachments[0].id;
        crate::office_casework::upload(&backend, &kit, &after.record.record_id, &attachment).await;
        assert_eq!(
            wipes(&kit, &changes(&backend, &kit, "outbox=0").await),
            1,
            "{}",
            db.name()
        );
        // Revoked for good now.
        let late = kit.next(&Spec::anmeldung());
        let resp = backend.send(kit.push(&[&late])).await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN);
        assert_eq!(resp.code(), "kit-revoked");
    }
}

#[tokio::test]
async fn a_held_case_waits_for_a_second_person() {
    for db in databases("a_held_case_waits_for_a_second_person") {
        let backend = Backend::new(&db).await;
        let first = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
        let second = add_user(&backend, "gemeinde-musterstadt", "r.zweit", Role::Reviewer).await;
        let mut kit = backend.kit().await;
        // r.berger reported the kit stolen (acting as IT in this test).
        revoke_as(&backend, &kit, RevocationMode::Stolen, "r.berger", None)
            .await
            .expect("revoked");
        let record = kit.next(&Spec::anmeldung().with_form_data(anmeldung_data()));
        push(&backend, &kit, &[&record]).await;
        let id = record.record.record_id;
        assert_eq!(
            inbox_flags(&backend, "gemeinde-musterstadt").await,
            vec![(id, vec![CaseFlag::Held])]
        );
        let mut browser = Browser::signed_in(&backend, "r.berger", &first).await;
        browser.get(&backend, &format!("/office/cases/{id}")).await;
        let resp = browser
            .submit(
                &backend,
                &format!("/office/cases/{id}/status"),
                &[("status", "in_review")],
            )
            .await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "held: no work yet"
        );
        browser.get(&backend, &format!("/office/cases/{id}")).await;
        let resp = browser
            .submit(
                &backend,
                &format!("/office/cases/{id}/flags"),
                &[("action", "release")],
            )
            .await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "not by the revoker"
        );
        assert!(resp.text().contains("andere Person"), "{}", resp.text());

        let mut other = Browser::signed_in(&backend, "r.zweit", &second).await;
        other.get(&backend, &format!("/office/cases/{id}")).await;
        let resp = other
            .submit(
                &backend,
                &format!("/office/cases/{id}/flags"),
                &[("action", "release")],
            )
            .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
        other.get(&backend, &format!("/office/cases/{id}")).await;
        let resp = other
            .submit(
                &backend,
                &format!("/office/cases/{id}/status"),
                &[("status", "in_review")],
            )
            .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
        let flags = backend.store().case_flags(&id).await.expect("flags");
        let resolved = flags[0].resolved.as_ref().expect("released");
        assert_eq!(
            (resolved.by.as_str(), resolved.resolution.as_str()),
            ("r.zweit", "released")
        );
    }
}

#[tokio::test]
async fn wiping_now_needs_the_last_reported_count_and_is_audited_with_the_operator() {
    for db in databases("wiping_now_needs_the_last_reported_count") {
        let backend = Backend::new(&db).await;
        let kit = backend.kit().await;
        assert_eq!(
            changes(&backend, &kit, "outbox=2").await.status,
            StatusCode::OK
        );
        for confirmed in [None, Some(0), Some(3)] {
            let err = revoke_as(&backend, &kit, RevocationMode::WipeNow, "it.ops", confirmed)
                .await
                .expect_err("refused");
            assert_eq!(err.exit_code(), 5, "{confirmed:?}");
            assert!(err.to_string().contains("reported 2"), "{err}");
        }
        revoke_as(&backend, &kit, RevocationMode::WipeNow, "it.ops", Some(2))
            .await
            .expect("wiped now");
        assert_eq!(wipes(&kit, &changes(&backend, &kit, "after=0").await), 1);
        let events = backend
            .store()
            .audit_page(&fieldkit_backend::storage::AuditQuery {
                authority_id: AuthorityId::parse("gemeinde-musterstadt").expect("id"),
                sources: Vec::new(),
                actor: Some("it.ops".to_owned()),
                from: None,
                before: None,
                after: None,
                limit: 50,
            })
            .await
            .expect("audit");
        assert!(
            events.entries.iter().any(|e| e.actor == "it.ops"
                && e.detail
                    .as_deref()
                    .is_some_and(|d| d.starts_with("wipe-now (2)"))),
            "{:?}",
            events.entries
        );
    }
}
