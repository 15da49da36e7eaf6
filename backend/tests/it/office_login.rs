//! Back office: signing in and out — cookie flags, generic failures that do not reveal
//! which logins exist, the growing wait after failed logins (counted in the database),
//! CSRF on the login and logout forms, session expiry, and the language switch.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use fieldkit_backend::login_throttle::{ACCOUNT_WIDE, PER_CLIENT};
use fieldkit_backend::office::session::{token_hash, SESSION_COOKIE};
use fieldkit_backend::storage::{NewSession, Role};

use crate::support::office::{add_user, Browser};
use crate::support::{databases, Backend, Db};

#[tokio::test]
async fn a_reviewer_signs_in_with_a_secure_host_cookie_and_out_again() {
    for db in databases("a_reviewer_signs_in_with_a_secure_host_cookie_and_out_again") {
        let backend = Backend::new(&db).await;
        let password = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
        let mut browser = Browser::new();
        let resp = browser.try_login(&backend, "r.berger", &password).await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", db.name());
        assert_eq!(resp.header("location"), Some("/office"));
        let set_cookie: Vec<&str> = resp
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|v| v.starts_with(SESSION_COOKIE))
            .collect();
        assert_eq!(set_cookie.len(), 1);
        for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(set_cookie[0].contains(flag), "{flag} in {}", set_cookie[0]);
        }
        let token = browser.cookies[SESSION_COOKIE].clone();
        let home = browser.get(&backend, "/office").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.text().contains("r.berger"));
        assert_eq!(home.header("cache-control"), Some("no-store"));
        assert!(home
            .header("content-security-policy")
            .is_some_and(|c| c.contains("default-src 'none'")));

        let out = browser.submit(&backend, "/office/logout", &[]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert!(!browser.cookies.contains_key(SESSION_COOKIE));
        // The old token is dead in the database, not only in this browser.
        let mut replay = Browser::new();
        replay.cookies.insert(SESSION_COOKIE.into(), token);
        let resp = replay.get(&backend, "/office").await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER);
        assert_eq!(resp.header("location"), Some("/office/login"));
    }
}

#[tokio::test]
async fn failed_logins_look_the_same_for_unknown_and_known_names_and_then_lock() {
    for db in databases("failed_logins_look_the_same_for_unknown_and_known_names_and_then_lock") {
        let backend = Backend::new(&db).await;
        let password = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
        let mut browser = Browser::new();
        let unknown = browser
            .try_login(&backend, "nobody", "wrong password!")
            .await;
        let wrong = browser
            .try_login(&backend, "r.berger", "wrong password!")
            .await;
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        let message = |body: &str| {
            let at = body.find("role=\"alert\"").expect("an alert");
            body[at..]
                .split("</p>")
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(message(&unknown.text()), message(&wrong.text()));
        assert!(!browser.cookies.contains_key(SESSION_COOKIE));

        for _ in 1..PER_CLIENT.free {
            let resp = browser
                .try_login(&backend, "r.berger", "wrong password!")
                .await;
            assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
        }
        // Driven through the router there is no TCP peer: the client is "unknown".
        let counted = backend
            .store()
            .login_failures("r.berger", "unknown")
            .await
            .expect("store")
            .expect("failures counted");
        assert_eq!(counted.failures, 5);
        // Locked: even the right password is refused now, with a time to wait.
        let locked = browser.try_login(&backend, "r.berger", &password).await;
        assert_eq!(
            locked.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            db.name()
        );
        let wait: i64 = locked
            .header("retry-after")
            .expect("retry-after")
            .parse()
            .expect("seconds");
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(!browser.cookies.contains_key(SESSION_COOKIE));

        // Once the wait is over (here: five failures counted two minutes ago from another
        // address), the right password works and that address's count starts again.
        let mut later = Browser::from("192.0.2.9");
        for _ in 0..5 {
            backend
                .store()
                .admit_login("r.berger", "192.0.2.9", Utc::now() - Duration::minutes(2))
                .await
                .expect("store");
        }
        let resp = later.try_login(&backend, "r.berger", &password).await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
        assert_eq!(
            backend
                .store()
                .login_failures("r.berger", "192.0.2.9")
                .await
                .expect("store"),
            None
        );
        // Its failures were taken off the account-wide count: 6 counted, 6 taken back,
        // and the 5 of the locked address plus its refused attempt (not counted) stay.
        let account = backend
            .store()
            .login_failures("r.berger", ACCOUNT_WIDE)
            .await
            .expect("store")
            .expect("row");
        assert_eq!(account.failures, 5);
    }
}

#[tokio::test]
async fn login_and_logout_without_the_right_csrf_token_are_refused() {
    let backend = Backend::new(&Db::Sqlite).await;
    let password = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
    let mut browser = Browser::new();
    browser.get(&backend, "/office/login").await;
    for csrf in [None, Some("wrong"), Some("")] {
        let mut fields = vec![("login", "r.berger"), ("password", password.as_str())];
        if let Some(c) = csrf {
            fields.push(("csrf", c));
        }
        let resp = browser.post(&backend, "/office/login", &fields).await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN, "{csrf:?}");
        assert!(!browser.cookies.contains_key(SESSION_COOKIE));
    }
    // The pre-login token is bound to the cookie: another browser's token is useless.
    let mut other = Browser::new();
    other.get(&backend, "/office/login").await;
    let stolen = other.last_csrf.clone().expect("token");
    let resp = browser
        .post(
            &backend,
            "/office/login",
            &[
                ("csrf", &stolen),
                ("login", "r.berger"),
                ("password", &password),
            ],
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);

    let mut signed_in = Browser::signed_in(&backend, "r.berger", &password).await;
    let resp = signed_in
        .post(&backend, "/office/logout", &[("csrf", "forged")])
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert_eq!(
        signed_in.get(&backend, "/office").await.status,
        StatusCode::OK,
        "still signed in"
    );
}

#[tokio::test]
async fn ended_and_idle_sessions_send_the_browser_to_the_login_page() {
    let backend = Backend::new(&Db::Sqlite).await;
    add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
    let now = Utc::now();
    for (token, created, expires) in [
        (
            "ended-token",
            now - Duration::hours(9),
            now - Duration::hours(1),
        ),
        (
            "idle-token",
            now - Duration::minutes(31),
            now + Duration::hours(7),
        ),
        ("live-token", now, now + Duration::hours(8)),
    ] {
        backend
            .store()
            .create_session(&NewSession {
                token_hash: token_hash(token),
                login: "r.berger".into(),
                csrf_token: "x".repeat(43),
                created_at: created,
                expires_at: expires,
            })
            .await
            .expect("session stored");
        let mut browser = Browser::new();
        browser.cookies.insert(SESSION_COOKIE.into(), token.into());
        let resp = browser.get(&backend, "/office").await;
        if token == "live-token" {
            assert_eq!(resp.status, StatusCode::OK);
        } else {
            assert_eq!(resp.status, StatusCode::SEE_OTHER, "{token}");
            assert_eq!(resp.header("location"), Some("/office/login"));
        }
    }
    // A disabled user's live session ends at once.
    backend
        .store()
        .disable_user("r.berger")
        .await
        .expect("disabled");
    let mut browser = Browser::new();
    browser
        .cookies
        .insert(SESSION_COOKIE.into(), "live-token".into());
    assert_eq!(
        browser.get(&backend, "/office").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn pages_are_german_by_default_and_english_on_request() {
    let backend = Backend::new(&Db::Sqlite).await;
    let mut browser = Browser::new();
    let de = browser.get(&backend, "/office/login").await;
    assert!(de.text().contains("<html lang=\"de\">"));
    assert!(de
        .text()
        .contains("<label for=\"password\">Passwort</label>"));
    let en = browser.get(&backend, "/office/login?lang=en").await;
    assert!(en.text().contains("<html lang=\"en\">"));
    assert!(en
        .text()
        .contains("<label for=\"password\">Password</label>"));
    // The choice sticks through the cookie.
    let again = browser.get(&backend, "/office/login").await;
    assert!(again.text().contains("<html lang=\"en\">"));
    assert!(again.text().contains("href=\"#main\""), "skip link");
}

#[tokio::test]
async fn bad_login_input_is_a_clear_422_and_counts_nothing() {
    let backend = Backend::new(&Db::Sqlite).await;
    let mut browser = Browser::new();
    let long = "x".repeat(101);
    for (login, password) in [("", "something"), ("r.berger", ""), (long.as_str(), "pw")] {
        let resp = browser.try_login(&backend, login, password).await;
        assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY, "{login:?}");
    }
    assert_eq!(
        backend
            .store()
            .login_failures(&long, "unknown")
            .await
            .expect("store"),
        None
    );
}
