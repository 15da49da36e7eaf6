//! Back office, IT administration — users, the authority's keys and the catalog: an
//! authority-admin adds a user whose one-time initial password really logs in, wrong
//! input (empty, taken, spaced or malformed login, unknown role) answers with the form
//! and a German message and writes nothing, a user is disabled after a confirmation
//! (never oneself) and their session ends; the it-operator rotates the authority's key
//! after a confirmation; the catalog page lists versions and services.

use axum::http::StatusCode;
use fieldkit_backend::storage::{AdminAction, Role};
use sync_protocol::ids::AuthorityId;

use crate::office_admin::{admin_events, as_role, between, COUNTY, TOWN};
use crate::support::office::{add_user, Browser};
use crate::support::{databases, Backend, Db};

#[tokio::test]
async fn an_added_user_logs_in_with_the_initial_password_shown_once() {
    for db in databases("an_added_user_logs_in_with_the_initial_password_shown_once") {
        let backend = Backend::new(&db).await;
        let mut admin = as_role(&backend, TOWN, "a.admin", Role::AuthorityAdmin).await;
        add_user(&backend, COUNTY, "k.klein", Role::Reviewer).await;
        let page = admin.get(&backend, "/office/admin/users").await;
        assert_eq!(page.status, StatusCode::OK, "{}", db.name());
        assert!(page.text().contains("a.admin (Sie)"));
        assert!(!page.text().contains("k.klein"), "no foreign user listed");

        let resp = admin
            .submit(
                &backend,
                "/office/admin/users",
                &[("login", "n.neumann"), ("role", "reviewer")],
            )
            .await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
        let text = resp.text();
        let password = between(&text, "id=\"initial-password\">", "<").expect("password");
        let user = backend
            .store()
            .user("n.neumann")
            .await
            .expect("store")
            .expect("user");
        assert_eq!(user.role, Role::Reviewer);
        assert_eq!(user.authority_id.as_str(), TOWN);
        assert!(user.password_hash.starts_with("$argon2id$"));
        assert!(!user.password_hash.contains(password));
        // The initial password only lets the new user set their own (office_accounts.rs).
        let mut new = Browser::new();
        let resp = new.try_login(&backend, "n.neumann", password).await;
        assert_eq!(resp.header("location"), Some("/office/password"));
        new.get(&backend, "/office/password").await;
        let own = "mein eigenes langes Passwort";
        let resp = new
            .submit(
                &backend,
                "/office/password",
                &[("current", password), ("new", own), ("repeat", own)],
            )
            .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
        assert_eq!(
            new.get(&backend, "/office/cases").await.status,
            StatusCode::OK
        );
        let list = admin.get(&backend, "/office/admin/users").await.text();
        assert!(list.contains("n.neumann") && !list.contains(password));
        let event = admin_events(&backend, TOWN)
            .await
            .into_iter()
            .find(|e| e.action == AdminAction::UserAdded.as_str() && e.subject == "n.neumann")
            .expect("audited");
        assert_eq!(event.actor, "a.admin");
        assert_eq!(event.detail.as_deref(), Some("reviewer"));
    }
}

#[tokio::test]
async fn wrong_user_input_answers_with_the_form_and_writes_nothing() {
    for db in databases("wrong_user_input_answers_with_the_form_and_writes_nothing") {
        let backend = Backend::new(&db).await;
        let mut admin = as_role(&backend, TOWN, "a.admin", Role::AuthorityAdmin).await;
        add_user(&backend, COUNTY, "k.klein", Role::Reviewer).await;
        admin.get(&backend, "/office/admin/users").await;
        let users_before = backend.store().users().await.expect("users").len();
        let events_before = admin_events(&backend, TOWN).await.len();
        for (login, role, message) in [
            ("", "reviewer", "Bitte geben Sie eine Kennung an."),
            ("   ", "reviewer", "Bitte geben Sie eine Kennung an."),
            ("a.admin", "reviewer", "Diese Kennung ist bereits vergeben"),
            ("k.klein", "auditor", "Diese Kennung ist bereits vergeben"),
            (
                "anna berger",
                "reviewer",
                "Die Kennung darf keine Leerzeichen enthalten.",
            ),
            (
                "Anna",
                "reviewer",
                "Die Kennung darf nur Kleinbuchstaben a–z",
            ),
            (
                "n.neu",
                "chef",
                "Bitte wählen Sie eine der angebotenen Rollen.",
            ),
            ("n.neu", "", "Bitte wählen Sie eine der angebotenen Rollen."),
        ] {
            let resp = admin
                .submit(
                    &backend,
                    "/office/admin/users",
                    &[("login", login), ("role", role)],
                )
                .await;
            let what = format!("{} {login:?} {role:?}", db.name());
            assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}");
            let text = resp.text();
            assert!(text.contains(message), "{what}: {text}");
            assert!(text.contains("id=\"user-login\""), "{what}: the form again");
            assert!(!text.contains("initial-password"), "{what}");
        }
        assert_eq!(
            backend.store().users().await.expect("users").len(),
            users_before
        );
        assert_eq!(admin_events(&backend, TOWN).await.len(), events_before);
    }
}

#[tokio::test]
async fn a_user_is_disabled_after_a_confirmation_but_never_oneself() {
    for db in databases("a_user_is_disabled_after_a_confirmation_but_never_oneself") {
        let backend = Backend::new(&db).await;
        let mut admin = as_role(&backend, TOWN, "a.admin", Role::AuthorityAdmin).await;
        let mut reviewer = as_role(&backend, TOWN, "r.berger", Role::Reviewer).await;
        add_user(&backend, COUNTY, "k.klein", Role::Reviewer).await;

        let own = "/office/admin/users/a.admin/disable";
        let form = admin.get(&backend, own).await;
        assert_eq!(form.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(form
            .text()
            .contains("Sie können sich nicht selbst deaktivieren."));
        let resp = admin.submit(&backend, own, &[]).await;
        assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
        let me = backend
            .store()
            .user("a.admin")
            .await
            .expect("store")
            .expect("user");
        assert!(!me.disabled);
        let foreign = "/office/admin/users/k.klein/disable";
        assert_eq!(
            admin.get(&backend, foreign).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            admin.submit(&backend, foreign, &[]).await.status,
            StatusCode::NOT_FOUND
        );
        let k = backend
            .store()
            .user("k.klein")
            .await
            .expect("store")
            .expect("user");
        assert!(!k.disabled);

        let path = "/office/admin/users/r.berger/disable";
        let form = admin.get(&backend, path).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.text().contains("laufende Sitzungen enden sofort"));
        let done = admin.submit(&backend, path, &[]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
        let gone = reviewer.get(&backend, "/office/cases").await;
        assert_eq!(
            gone.header("location"),
            Some("/office/login"),
            "session ended"
        );
        let list = admin.get(&backend, "/office/admin/users").await.text();
        assert!(list.contains("deaktiviert"));
        let event = admin_events(&backend, TOWN)
            .await
            .into_iter()
            .find(|e| e.action == AdminAction::UserDisabled.as_str())
            .expect("audited");
        assert_eq!(
            (event.actor.as_str(), event.subject.as_str()),
            ("a.admin", "r.berger")
        );
    }
}

#[tokio::test]
async fn the_it_operator_rotates_the_own_authoritys_key_after_a_confirmation() {
    for db in databases("the_it_operator_rotates_the_own_authoritys_key_after_a_confirmation") {
        let backend = Backend::new(&db).await;
        let town = AuthorityId::parse(TOWN).expect("id");
        let county = AuthorityId::parse(COUNTY).expect("id");
        let old = backend.store().authority_keys(&town).await.expect("keys");
        let county_before = backend.store().authority_keys(&county).await.expect("keys");
        let mut it = as_role(&backend, TOWN, "it.ops", Role::ItOperator).await;
        let page = it.get(&backend, "/office/admin/authority").await.text();
        assert!(
            page.contains(&old[0].key.key_id) && page.contains("Gemeinde"),
            "{page}"
        );
        let confirm = it.get(&backend, "/office/admin/authority/rotate-key").await;
        assert!(confirm.text().contains("catalog publish"));
        let done = it
            .submit(&backend, "/office/admin/authority/rotate-key", &[])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
        let keys = backend.store().authority_keys(&town).await.expect("keys");
        assert_eq!(keys.len(), 2);
        assert!(keys[0].retired_at.is_none() && keys[0].key.key_id != old[0].key.key_id);
        assert!(keys[1].retired_at.is_some(), "the old key is kept, retired");
        let page = it.get(&backend, "/office/admin/authority").await.text();
        assert!(page.contains(&keys[0].key.key_id) && page.contains(&keys[1].key.key_id));
        assert_eq!(
            backend.store().authority_keys(&county).await.expect("keys"),
            county_before,
            "only the own authority's key"
        );
        let event = admin_events(&backend, TOWN)
            .await
            .into_iter()
            .find(|e| e.action == AdminAction::AuthorityKeyRotated.as_str())
            .expect("audited");
        assert_eq!(event.actor, "it.ops");
        assert_eq!(event.detail.as_deref(), Some(keys[0].key.key_id.as_str()));
    }
}

#[tokio::test]
async fn the_catalog_page_lists_versions_and_the_current_services_in_both_languages() {
    let backend = Backend::new(&Db::Sqlite).await;
    let mut it = as_role(&backend, TOWN, "it.ops", Role::ItOperator).await;
    let catalog = backend
        .app
        .catalog
        .current(backend.store(), &backend.app.server_verifying_keys())
        .await
        .expect("catalog")
        .expect("published");
    let de = it.get(&backend, "/office/admin/catalog").await.text();
    assert!(de.contains(&catalog.meta.version), "{de}");
    assert!(
        de.contains("Offline erfassbar") && de.contains("fieldkit-backend admin catalog publish")
    );
    for s in &catalog.services {
        assert!(
            de.contains(&s.name.de) && de.contains(&s.leika.key.to_string()),
            "{}",
            s.id
        );
    }
    let en = it
        .get(&backend, "/office/admin/catalog?lang=en")
        .await
        .text();
    assert!(en.contains("Offline capture") && en.contains(&catalog.services[0].name.en));
}
