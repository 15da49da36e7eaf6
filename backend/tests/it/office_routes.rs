//! Tenant isolation of the back office, proven over its whole route table: every route
//! of [`OFFICE_ROUTES`] is tried as an anonymous visitor, as a reviewer of another
//! authority (with a valid CSRF token of their own, so only authorization can stop
//! them), as the case authority's IT operator, and as an administrator of another
//! authority holding the role the route asks for. None of them sees the case's data or
//! changes anything; the foreign administrator sees none of the authority's kits or
//! users and cannot revoke or disable them. A new route is walked automatically; a new
//! kind of access does not compile until this test says what it expects.

use axum::http::StatusCode;
use fieldkit_backend::office::{OfficeAccess, OFFICE_ROUTES};
use fieldkit_backend::storage::{KitStatus, Role};
use sync_protocol::api::CaseStatus;

use crate::office_cases::anmeldung_data;
use crate::records::push;
use crate::support::kit::Spec;
use crate::support::office::{add_user, Browser};
use crate::support::{Backend, Db, Resp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    Anonymous,
    OtherReviewer,
    ItOperator,
    OtherAdmin,
}

#[tokio::test]
async fn no_route_shows_or_changes_a_case_for_anyone_but_its_authoritys_reviewers() {
    let backend = Backend::new(&Db::Sqlite).await;
    let mut kit = backend.kit().await;
    let record = kit.next(
        &Spec::anmeldung()
            .with_form_data(anmeldung_data())
            .with_attachments(&[1_000]),
    );
    push(&backend, &kit, &[&record]).await;
    let id = record.record.record_id;
    let id_text = id.to_string();
    let attachment = record.record.attachments[0].id;
    crate::office_casework::upload(&backend, &kit, &id, &attachment).await;
    let attachment_text = attachment.to_string();
    let other_pw = add_user(&backend, "landkreis-musterkreis", "k.klein", Role::Reviewer).await;
    let it_pw = add_user(&backend, "gemeinde-musterstadt", "it.ops", Role::ItOperator).await;
    let kit_text = kit.kit_id.to_string();
    let mut foreign = Vec::new();
    for (login, role) in [
        ("k.it", Role::ItOperator),
        ("k.admin", Role::AuthorityAdmin),
        ("k.audit", Role::Auditor),
    ] {
        let pw = add_user(&backend, "landkreis-musterkreis", login, role).await;
        foreign.push((role, login, pw));
    }

    // A change waiting for a second admin of the case's authority (four-eyes rule).
    fieldkit_backend::admin::user::set_four_eyes(&backend.admin, "gemeinde-musterstadt", true)
        .await
        .expect("four eyes on");
    let musterstadt =
        sync_protocol::ids::AuthorityId::parse("gemeinde-musterstadt").expect("authority id");
    let pending_id = fieldkit_backend::admin::user::request_change(
        &backend.admin,
        &musterstadt,
        "it.ops",
        Role::Reviewer,
        None,
    )
    .await
    .expect("change requested")
    .to_string();

    let leaks = |resp: &Resp| {
        let text = resp.text();
        text.contains("Özdemir") || text.contains(&id_text)
    };
    let mut checked = 0;
    for route in OFFICE_ROUTES {
        let path = route
            .path
            .replace("{record_id}", &id_text)
            .replace("{kit_id}", &kit_text)
            .replace("{login}", "it.ops")
            .replace("{id}", &pending_id)
            .replace("{attachment_id}", &attachment_text);
        // The export of a filter needs a format; a selection names the case.
        let is_export = route.path == "/office/cases/export";
        let path = if is_export && route.method == "GET" {
            format!("{path}?format=csv")
        } else {
            path
        };
        let admin_role = match route.access {
            OfficeAccess::Admin(roles) => roles[0],
            _ => Role::ItOperator,
        };
        for actor in [
            Actor::Anonymous,
            Actor::OtherReviewer,
            Actor::ItOperator,
            Actor::OtherAdmin,
        ] {
            let mut browser = match actor {
                Actor::Anonymous => {
                    let mut b = Browser::new();
                    b.get(&backend, "/office/login").await;
                    b
                }
                Actor::OtherReviewer => Browser::signed_in(&backend, "k.klein", &other_pw).await,
                Actor::ItOperator => Browser::signed_in(&backend, "it.ops", &it_pw).await,
                Actor::OtherAdmin => {
                    let (_, login, pw) = foreign
                        .iter()
                        .find(|(role, _, _)| *role == admin_role)
                        .expect("a foreign user of that role");
                    Browser::signed_in(&backend, login, pw).await
                }
            };
            let resp = if route.method == "POST" {
                let fields: &[(&str, &str)] = if is_export {
                    &[("format", "csv"), ("case", &id_text)]
                } else if route.path.ends_with("/assignee") {
                    &[("assignee", "k.klein"), ("expected", "")]
                } else if route.path.ends_with("/role") {
                    &[("role", "reviewer")]
                } else {
                    &[("status", "in_review"), ("comment", "x")]
                };
                if actor == Actor::Anonymous {
                    // No session, no token: must not matter which check refuses it.
                    browser.post(&backend, &path, fields).await
                } else {
                    browser.submit(&backend, &path, fields).await
                }
            } else {
                browser.get(&backend, &path).await
            };
            let what = format!("{actor:?} {} {}", route.method, route.path);
            assert!(!leaks(&resp), "{what} leaked case data: {}", resp.text());
            assert!(!resp.status.is_server_error(), "{what}: {}", resp.status);
            if actor == Actor::OtherAdmin {
                let text = resp.text();
                assert!(
                    !text.contains(&kit_text) && !text.contains("it.ops"),
                    "{what} showed another authority's kit or user: {text}"
                );
            }
            match (route.access, actor) {
                (OfficeAccess::Public, _) => {}
                (
                    OfficeAccess::Session | OfficeAccess::Reviewer | OfficeAccess::Admin(_),
                    Actor::Anonymous,
                ) => {
                    if route.method == "GET" {
                        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{what}");
                        assert_eq!(resp.header("location"), Some("/office/login"), "{what}");
                    } else {
                        assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "{what}");
                    }
                }
                (
                    OfficeAccess::Session,
                    Actor::OtherReviewer | Actor::ItOperator | Actor::OtherAdmin,
                ) => {}
                (OfficeAccess::Reviewer, Actor::OtherReviewer) => {
                    // A selection naming a foreign case is refused like an unknown one.
                    if route.path.contains("{record_id}") || (is_export && route.method == "POST") {
                        assert_eq!(resp.status, StatusCode::NOT_FOUND, "{what}");
                    } else {
                        assert_eq!(resp.status, StatusCode::OK, "{what}: own inbox");
                    }
                }
                (OfficeAccess::Reviewer, Actor::ItOperator | Actor::OtherAdmin)
                | (OfficeAccess::Admin(_), Actor::OtherReviewer) => {
                    assert_eq!(resp.status, StatusCode::FORBIDDEN, "{what}");
                }
                (OfficeAccess::Admin(roles), Actor::ItOperator) => {
                    if roles.contains(&Role::ItOperator) {
                        assert_ne!(resp.status, StatusCode::FORBIDDEN, "{what}");
                    } else {
                        assert_eq!(resp.status, StatusCode::FORBIDDEN, "{what}");
                    }
                }
                (OfficeAccess::Admin(_), Actor::OtherAdmin) => {
                    if route.path.contains("{kit_id}")
                        || route.path.contains("{login}")
                        || route.path.contains("{id}")
                    {
                        assert_eq!(resp.status, StatusCode::NOT_FOUND, "{what}");
                    } else {
                        assert_ne!(resp.status, StatusCode::FORBIDDEN, "{what}: own pages");
                    }
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, OFFICE_ROUTES.len() * 4);
    let kit_row = backend
        .store()
        .kit(&kit.kit_id)
        .await
        .expect("store")
        .expect("kit");
    assert_eq!(kit_row.status, KitStatus::Active, "nobody revoked the kit");
    let it_ops = backend.store().user("it.ops").await.expect("store");
    let it_ops = it_ops.expect("user");
    assert!(!it_ops.disabled, "nobody disabled the user");
    assert_eq!(it_ops.role, Role::ItOperator, "nobody changed the role");
    assert_eq!(
        backend
            .store()
            .pending_user_changes(&musterstadt)
            .await
            .expect("store")
            .len(),
        1,
        "nobody confirmed or withdrew the waiting change"
    );
    let case = backend
        .store()
        .case_detail(&id)
        .await
        .expect("store")
        .expect("case");
    assert_eq!(case.case.status, CaseStatus::Received);
    assert_eq!(case.case.assigned_to, None, "nobody assigned the case");
    assert!(backend
        .store()
        .case_events(&id)
        .await
        .expect("events")
        .is_empty());
    assert!(
        backend
            .store()
            .decryptions(&id)
            .await
            .expect("log")
            .is_empty(),
        "nobody decrypted the case"
    );
}
