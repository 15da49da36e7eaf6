//! No all-powerful admin (issue 14): a password an admin hands out only lets its user set
//! their own; users change their password with the current one; role changes and new
//! reviewers are shown to the authority's other admins and recorded; under the
//! four-eyes rule they wait for a second admin, whom the requester cannot replace.

use axum::http::StatusCode;
use fieldkit_backend::admin::user::{self as admin_user, FirstLogin};
use fieldkit_backend::office::session::SESSION_COOKIE;
use fieldkit_backend::storage::{AdminAction, AuditQuery, AuditSource, Role};
use sync_protocol::ids::AuthorityId;

use crate::support::office::{add_user, Browser};
use crate::support::{databases, Backend, Db, Resp};

const TOWN: &str = "gemeinde-musterstadt";

fn town() -> AuthorityId {
    AuthorityId::parse(TOWN).expect("id")
}

/// The initial password on the page that answers an addition.
fn initial_password(resp: &Resp) -> String {
    let text = resp.text();
    let start = text
        .find("id=\"initial-password\">")
        .expect("initial password shown")
        + "id=\"initial-password\">".len();
    text[start..start + text[start..].find('<').expect("end")].to_owned()
}

/// Admin events of the town as `action target detail actor`.
async fn events(backend: &Backend) -> Vec<String> {
    let page = backend
        .store()
        .audit_page(&AuditQuery {
            authority_id: town(),
            sources: vec![AuditSource::Admin],
            actor: None,
            from: None,
            before: None,
            after: None,
            limit: 100,
        })
        .await
        .expect("audit");
    page.entries
        .into_iter()
        .rev()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e.action,
                e.subject,
                e.detail.unwrap_or_default(),
                e.actor
            )
        })
        .collect()
}

/// Submits `role` on the role page of `login` as `admin`.
async fn submit_role(backend: &Backend, admin: &mut Browser, login: &str, role: &str) -> Resp {
    admin
        .submit(
            backend,
            &format!("/office/admin/users/{login}/role"),
            &[("role", role)],
        )
        .await
}

async fn add_through_page(backend: &Backend, admin: &mut Browser, login: &str, role: &str) -> Resp {
    admin.get(backend, "/office/admin/users").await;
    admin
        .submit(
            backend,
            "/office/admin/users",
            &[("login", login), ("role", role)],
        )
        .await
}

#[tokio::test]
async fn a_password_an_admin_hands_out_only_lets_its_user_set_their_own() {
    for db in databases("a_password_an_admin_hands_out_only_lets_its_user_set_their_own") {
        let backend = Backend::new(&db).await;
        let admin_pw = add_user(&backend, TOWN, "m.admin", Role::AuthorityAdmin).await;
        let mut admin = Browser::signed_in(&backend, "m.admin", &admin_pw).await;
        let created = add_through_page(&backend, &mut admin, "n.neu", "reviewer").await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.text());
        assert!(created.text().contains("ein eigenes"), "{}", created.text());
        let initial = initial_password(&created);
        assert!(
            backend
                .store()
                .user("n.neu")
                .await
                .expect("store")
                .expect("user")
                .must_change_password
        );

        // The initial password signs in only to the password page.
        let mut user = Browser::new();
        let resp = user.try_login(&backend, "n.neu", &initial).await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", db.name());
        assert_eq!(resp.header("location"), Some("/office/password"));
        let mut second = Browser::new();
        second.try_login(&backend, "n.neu", &initial).await;
        for path in ["/office", "/office/cases", "/office/admin/users"] {
            let resp = user.get(&backend, path).await;
            assert_eq!(resp.status, StatusCode::SEE_OTHER, "{path}");
            assert_eq!(resp.header("location"), Some("/office/password"), "{path}");
        }
        let form = user.get(&backend, "/office/password").await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.text().contains("von jemand anderem vergeben"));
        assert!(
            form.text().contains("Mindestens 12 Zeichen"),
            "rules stated"
        );
        assert!(
            !form.text().contains("href=\"/office/cases\""),
            "no way around"
        );
        let resp = user
            .submit(
                &backend,
                "/office/cases/export",
                &[("format", "csv"), ("case", "x")],
            )
            .await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN);

        // Wrong input: a clear 422, nothing changed.
        let good = "ein ganz eigener Satz";
        for (current, new, repeat, says) in [
            (initial.as_str(), "kurz", "kurz", "mindestens 12 Zeichen"),
            (initial.as_str(), good, "ein anderer Satz!", "Wiederholung"),
            (initial.as_str(), "n.neu", "n.neu", "mindestens 12"),
            (
                initial.as_str(),
                initial.as_str(),
                initial.as_str(),
                "unterscheiden",
            ),
            ("falsches Passwort", good, good, "stimmt nicht"),
            ("", good, good, "bisheriges Passwort an"),
        ] {
            let resp = user
                .submit(
                    &backend,
                    "/office/password",
                    &[("current", current), ("new", new), ("repeat", repeat)],
                )
                .await;
            assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY, "{says}");
            assert!(resp.text().contains(says), "{says}: {}", resp.text());
        }
        // Without the CSRF token: refused.
        let resp = user
            .post(
                &backend,
                "/office/password",
                &[("current", &initial), ("new", good), ("repeat", good)],
            )
            .await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN);
        user.get(&backend, "/office/password").await;

        let resp = user
            .submit(
                &backend,
                "/office/password",
                &[("current", &initial), ("new", good), ("repeat", good)],
            )
            .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
        assert_eq!(resp.header("location"), Some("/office"));
        assert_eq!(
            user.get(&backend, "/office/cases").await.status,
            StatusCode::OK
        );
        // The other session (opened with the initial password) ended.
        assert_eq!(
            second
                .get(&backend, "/office/password")
                .await
                .header("location"),
            Some("/office/login")
        );
        // The admin's password is worthless now; the user's own works.
        let mut again = Browser::new();
        let resp = again.try_login(&backend, "n.neu", &initial).await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
        let resp = again.try_login(&backend, "n.neu", good).await;
        assert_eq!(resp.header("location"), Some("/office"));
        let trail = events(&backend).await;
        assert!(
            trail.contains(&"password-set n.neu  n.neu".to_owned()),
            "{trail:?}"
        );
    }
}

#[tokio::test]
async fn a_user_changes_their_password_later_with_the_current_one_in_english_too() {
    let backend = Backend::new(&Db::Sqlite).await;
    let pw = add_user(&backend, TOWN, "r.berger", Role::Reviewer).await;
    let mut user = Browser::signed_in(&backend, "r.berger", &pw).await;
    let home = user.get(&backend, "/office?lang=en").await;
    assert!(home.text().contains("href=\"/office/password\""));
    let form = user.get(&backend, "/office/password").await;
    assert!(form.text().contains("At least 12 characters"));
    assert!(!form.text().contains("set by someone else"));
    let new = "another long sentence";
    let resp = user
        .submit(
            &backend,
            "/office/password",
            &[("current", "not it at all"), ("new", new), ("repeat", new)],
        )
        .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp.text().contains("current password is not correct"));
    let resp = user
        .submit(
            &backend,
            "/office/password",
            &[("current", &pw), ("new", new), ("repeat", new)],
        )
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert!(user.cookies.contains_key(SESSION_COOKIE), "still signed in");
    assert_eq!(user.get(&backend, "/office").await.status, StatusCode::OK);
    let mut fresh = Browser::new();
    assert_eq!(
        fresh.try_login(&backend, "r.berger", new).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn role_changes_and_new_reviewers_are_shown_to_the_other_admins_and_recorded() {
    for db in databases("role_changes_and_new_reviewers_are_shown_to_the_other_admins") {
        let backend = Backend::new(&db).await;
        let a_pw = add_user(&backend, TOWN, "m.admin", Role::AuthorityAdmin).await;
        let b_pw = add_user(&backend, TOWN, "b.admin", Role::AuthorityAdmin).await;
        add_user(&backend, TOWN, "p.pruef", Role::Auditor).await;
        add_user(&backend, "landkreis-musterkreis", "k.klein", Role::Auditor).await;
        let mut a = Browser::signed_in(&backend, "m.admin", &a_pw).await;
        let mut b = Browser::signed_in(&backend, "b.admin", &b_pw).await;

        // No admin changes their own role.
        let own = a.get(&backend, "/office/admin/users/m.admin/role").await;
        assert_eq!(own.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!own
            .text()
            .contains("<form method=\"post\" action=\"/office/admin/users/m.admin/role\""));
        let resp = submit_role(&backend, &mut a, "m.admin", "reviewer").await;
        assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
        // Another authority's user is unknown here; a made-up role is refused.
        let foreign = a.get(&backend, "/office/admin/users/k.klein/role").await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);
        a.get(&backend, "/office/admin/users/p.pruef/role").await;
        let resp = submit_role(&backend, &mut a, "p.pruef", "root").await;
        assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);

        let resp = submit_role(&backend, &mut a, "p.pruef", "reviewer").await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
        let user = backend
            .store()
            .user("p.pruef")
            .await
            .expect("store")
            .expect("user");
        assert_eq!(user.role, Role::Reviewer);
        add_through_page(&backend, &mut a, "n.neu", "reviewer").await;

        // The other admin is told, on the start page and the users page.
        let home = b.get(&backend, "/office").await;
        assert!(
            home.text()
                .contains("Benutzerrechte Ihrer Behörde geändert"),
            "{}",
            home.text()
        );
        let users = b.get(&backend, "/office/admin/users").await.text();
        assert!(
            users.contains("m.admin – Rolle geändert – p.pruef (Revision → Sachbearbeitung)"),
            "{users}"
        );
        assert!(
            users.contains("m.admin – Benutzer angelegt – n.neu (Sachbearbeitung)"),
            "{users}"
        );
        // The actor is not told about their own changes (only about others', such as the
        // CLI's that created both admins).
        let own_view = a.get(&backend, "/office/admin/users").await.text();
        assert!(!own_view.contains("m.admin – Rolle geändert"), "{own_view}");
        assert!(
            !own_view.contains("m.admin – Benutzer angelegt"),
            "{own_view}"
        );
        assert!(
            own_view.contains("cli – Benutzer angelegt – b.admin"),
            "{own_view}"
        );

        let trail = events(&backend).await;
        assert!(
            trail.contains(&"user-role-changed p.pruef auditor → reviewer m.admin".to_owned()),
            "{trail:?}"
        );
        // The CLI's changes are recorded and shown the same way.
        admin_user::set_role(&backend.admin, "p.pruef", Role::Auditor)
            .await
            .expect("cli role change");
        let users = a.get(&backend, "/office/admin/users").await.text();
        assert!(
            users.contains("Rolle geändert – p.pruef (Sachbearbeitung → Revision)"),
            "{users}"
        );
        assert!(matches!(
            admin_user::set_role(&backend.admin, "nobody", Role::Auditor).await,
            Err(fieldkit_backend::admin::AdminError::Store(_))
        ));
    }
}

#[tokio::test]
async fn under_four_eyes_a_new_reviewer_and_a_role_change_wait_for_a_second_admin() {
    for db in databases("under_four_eyes_a_new_reviewer_and_a_role_change_wait") {
        let backend = Backend::new(&db).await;
        admin_user::set_four_eyes(&backend.admin, TOWN, true)
            .await
            .expect("four eyes on");
        let a_pw = add_user(&backend, TOWN, "m.admin", Role::AuthorityAdmin).await;
        let b_pw = add_user(&backend, TOWN, "b.admin", Role::AuthorityAdmin).await;
        let k_pw = add_user(
            &backend,
            "landkreis-musterkreis",
            "k.admin",
            Role::AuthorityAdmin,
        )
        .await;
        add_user(&backend, TOWN, "p.pruef", Role::Auditor).await;
        let mut a = Browser::signed_in(&backend, "m.admin", &a_pw).await;
        let mut b = Browser::signed_in(&backend, "b.admin", &b_pw).await;
        let mut k = Browser::signed_in(&backend, "k.admin", &k_pw).await;

        let created = add_through_page(&backend, &mut a, "n.neu", "reviewer").await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.text());
        assert!(
            created.text().contains("zweiter Administrator"),
            "{}",
            created.text()
        );
        let initial = initial_password(&created);
        assert_eq!(backend.store().user("n.neu").await.expect("store"), None);
        assert_eq!(
            Browser::new()
                .try_login(&backend, "n.neu", &initial)
                .await
                .status,
            StatusCode::UNAUTHORIZED,
            "not a user yet"
        );
        // An auditor needs no second admin.
        add_through_page(&backend, &mut a, "a.audit", "auditor").await;
        assert!(backend
            .store()
            .user("a.audit")
            .await
            .expect("store")
            .is_some());

        let pending = backend
            .store()
            .pending_user_changes(&town())
            .await
            .expect("store");
        assert_eq!(pending.len(), 1, "{}", db.name());
        let id = pending[0].id;
        let confirm = format!("/office/admin/user-changes/{id}/confirm");
        // The requester sees it waiting without a confirm button and cannot confirm.
        let page = a.get(&backend, "/office/admin/users").await.text();
        assert!(page.contains("Ihr Antrag"), "{page}");
        assert!(!page.contains(&confirm), "{page}");
        let resp = a.submit(&backend, &confirm, &[]).await;
        assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
        // An admin of another authority does not even see it.
        k.get(&backend, "/office/admin/users").await;
        let resp = k.submit(&backend, &confirm, &[]).await;
        assert_eq!(resp.status, StatusCode::NOT_FOUND);
        for bad in ["x", "-1", "99999999999999999999"] {
            let resp = b
                .submit(
                    &backend,
                    &format!("/office/admin/user-changes/{bad}/confirm"),
                    &[],
                )
                .await;
            assert_eq!(resp.status, StatusCode::NOT_FOUND, "{bad}");
        }
        assert_eq!(backend.store().user("n.neu").await.expect("store"), None);

        // The second admin confirms: the user exists and must set their own password.
        let page = b.get(&backend, "/office/admin/users").await.text();
        assert!(page.contains(&confirm), "{page}");
        let resp = b.submit(&backend, &confirm, &[]).await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
        let user = backend
            .store()
            .user("n.neu")
            .await
            .expect("store")
            .expect("user");
        assert!(user.must_change_password);
        assert_eq!(user.role, Role::Reviewer);
        let resp = Browser::new().try_login(&backend, "n.neu", &initial).await;
        assert_eq!(resp.header("location"), Some("/office/password"));
        assert!(backend
            .store()
            .pending_user_changes(&town())
            .await
            .expect("store")
            .is_empty());

        // A role change waits too, and can be withdrawn instead.
        a.get(&backend, "/office/admin/users/p.pruef/role").await;
        let resp = submit_role(&backend, &mut a, "p.pruef", "reviewer").await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER);
        let again = submit_role(&backend, &mut a, "p.pruef", "reviewer").await;
        assert_eq!(
            again.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "one change at a time"
        );
        let user = backend
            .store()
            .user("p.pruef")
            .await
            .expect("store")
            .expect("user");
        assert_eq!(
            user.role,
            Role::Auditor,
            "not before a second admin confirms"
        );
        let pending = backend
            .store()
            .pending_user_changes(&town())
            .await
            .expect("store");
        let withdraw = format!("/office/admin/user-changes/{}/withdraw", pending[0].id);
        b.get(&backend, "/office/admin/users").await;
        assert_eq!(
            b.submit(&backend, &withdraw, &[]).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            b.submit(&backend, &withdraw, &[]).await.status,
            StatusCode::NOT_FOUND
        );
        let user = backend
            .store()
            .user("p.pruef")
            .await
            .expect("store")
            .expect("user");
        assert_eq!(user.role, Role::Auditor);

        let trail = events(&backend).await;
        for expected in [
            "four-eyes-set gemeinde-musterstadt on",
            "user-change-requested n.neu add reviewer m.admin",
            "user-change-confirmed n.neu add reviewer, requested by m.admin b.admin",
            "user-change-requested p.pruef role reviewer m.admin",
            "user-change-withdrawn p.pruef role reviewer b.admin",
        ] {
            assert!(
                trail.iter().any(|t| t.starts_with(expected)),
                "{expected} in {trail:?}"
            );
        }
        assert!(AdminAction::parse("user-change-confirmed").is_some());
    }
}

#[tokio::test]
async fn the_cli_adds_users_who_must_set_their_own_password() {
    let backend = Backend::new(&Db::Sqlite).await;
    admin_user::add(
        &backend.admin,
        TOWN,
        "c.cli",
        Role::Reviewer,
        "a password from the CLI",
        FirstLogin::SetOwnPassword,
    )
    .await
    .expect("added");
    let resp = Browser::new()
        .try_login(&backend, "c.cli", "a password from the CLI")
        .await;
    assert_eq!(resp.header("location"), Some("/office/password"));
    assert!(admin_user::set_four_eyes(&backend.admin, "nowhere", true)
        .await
        .is_err());
}
