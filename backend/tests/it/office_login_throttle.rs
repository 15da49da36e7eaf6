//! Back office under a login attack (issue 14): parallel wrong passwords are counted
//! before they are checked, so no more than the free attempts are ever checked; a
//! lockout binds the attacking address, not the account's owner at another address; a
//! storm of made-up names is bounded by the password-check slots (503, not a pile-up);
//! unknown names cost as long as known ones; old counters are purged. Over real HTTP on
//! loopback (127.0.0.1 and 127.0.0.2 are different clients), on both databases.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use fieldkit_backend::login_throttle::{Admission, ACCOUNT_WIDE, PER_ACCOUNT, PER_CLIENT};
use fieldkit_backend::office::session::SESSION_COOKIE;
use fieldkit_backend::storage::Role;
use tokio::task::JoinSet;

use crate::support::office::{add_user, Browser};
use crate::support::{databases, Backend, Db, Resp};

/// Posts the login form of `browser` (which has loaded it) `n` times at once.
async fn parallel_logins(
    backend: &Arc<Backend>,
    browser: &Browser,
    n: usize,
    credentials: impl Fn(usize) -> (String, String),
) -> Vec<Resp> {
    let mut set = JoinSet::new();
    for i in 0..n {
        let (backend, mut browser) = (Arc::clone(backend), browser.clone());
        let (login, password) = credentials(i);
        set.spawn(async move {
            browser
                .submit(
                    &backend,
                    "/office/login",
                    &[("login", &login), ("password", &password)],
                )
                .await
        });
    }
    let mut out = Vec::new();
    while let Some(resp) = set.join_next().await {
        out.push(resp.expect("task"));
    }
    out
}

#[tokio::test]
async fn parallel_wrong_passwords_are_checked_at_most_the_free_attempts_and_lock_only_that_address()
{
    for db in databases("parallel_wrong_passwords_are_checked_at_most_the_free_attempts") {
        let backend = Arc::new(Backend::serve(&db).await);
        let password = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
        let mut attacker = Browser::from("127.0.0.1");
        attacker.get(&backend, "/office/login").await;
        let checks_before = backend.app.password_checks.checks();
        let answers = parallel_logins(&backend, &attacker, 20, |i| {
            ("r.berger".into(), format!("wrong password {i}"))
        })
        .await;
        let checked = backend.app.password_checks.checks() - checks_before;
        let status = |s: StatusCode| answers.iter().filter(|r| r.status == s).count();
        let (failed, locked, busy) = (
            status(StatusCode::UNAUTHORIZED),
            status(StatusCode::TOO_MANY_REQUESTS),
            status(StatusCode::SERVICE_UNAVAILABLE),
        );
        assert_eq!(failed + locked + busy, 20, "{}: {answers:?}", db.name());
        // Only the attempts the throttle admitted were checked, never more than five.
        assert_eq!(failed as u64, checked, "{}", db.name());
        assert!(checked <= u64::from(PER_CLIENT.free), "{checked} checked");
        let counted = backend
            .store()
            .login_failures("r.berger", "127.0.0.1")
            .await
            .expect("store")
            .expect("counted");
        assert_eq!(u64::from(counted.failures), checked, "{}", db.name());

        // Fill up to the limit if the slots turned some away, so the address is locked.
        for _ in checked..u64::from(PER_CLIENT.free) {
            let resp = attacker
                .try_login(&backend, "r.berger", "still wrong!!")
                .await;
            assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
        }
        // The right password from the attacking address waits out the lockout ...
        let refused = attacker.try_login(&backend, "r.berger", &password).await;
        assert_eq!(
            refused.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            db.name()
        );
        assert!(refused.header("retry-after").is_some());
        assert!(!attacker.cookies.contains_key(SESSION_COOKIE));
        // ... while the owner at another address signs in.
        let mut owner = Browser::from("127.0.0.2");
        let resp = owner.try_login(&backend, "r.berger", &password).await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", db.name());
        assert!(owner.cookies.contains_key(SESSION_COOKIE));
        // The attacker's count is untouched by the owner's success.
        let still = backend
            .store()
            .login_failures("r.berger", "127.0.0.1")
            .await
            .expect("store")
            .expect("counted");
        assert_eq!(still.failures, PER_CLIENT.free);
    }
}

#[tokio::test]
async fn a_storm_of_made_up_names_never_runs_more_checks_than_slots_and_gets_503_pages() {
    for db in databases("a_storm_of_made_up_names_never_runs_more_checks_than_slots") {
        let backend = Arc::new(Backend::serve(&db).await);
        let mut browser = Browser::from("127.0.0.1");
        browser.get(&backend, "/office/login").await;
        let started = Instant::now();
        let answers = parallel_logins(&backend, &browser, 150, |i| {
            (format!("made-up-{i}"), "some password".into())
        })
        .await;
        let gate = &backend.app.password_checks;
        assert!(
            gate.peak() <= gate.size(),
            "{} checks ran at once with {} slots",
            gate.peak(),
            gate.size()
        );
        let mut failed = 0u64;
        for resp in &answers {
            match resp.status {
                StatusCode::UNAUTHORIZED => failed += 1,
                StatusCode::SERVICE_UNAVAILABLE => {
                    assert_eq!(resp.header("retry-after"), Some("5"));
                    assert!(resp.text().contains("role=\"alert\""), "a page");
                }
                other => panic!("{}: {other} {}", db.name(), resp.text()),
            }
        }
        assert_eq!(failed, gate.checks(), "{}", db.name());
        // Nobody waited without bound: a turned-away request waited at most the queue wait.
        let elapsed = started.elapsed();
        eprintln!(
            "{}: 150 made-up logins: {failed} checked, {} turned away, {} slots, {elapsed:?}",
            db.name(),
            150 - failed,
            gate.size()
        );
        assert!(elapsed < StdDuration::from_secs(60), "{elapsed:?}");
    }
}

/// An unknown name costs the same password check as a known one: each wrong login runs
/// exactly one Argon2id verification, for an unknown name against a dummy hash with the
/// very parameters of a stored one — so the answer's timing cannot tell which logins
/// exist. (Asserted on the work done, not on wall time: a timed assertion inside a
/// parallel suite on two cores measured the neighbours, ratios 0.31–1.41 for the same
/// code; the wall-time comparison is printed for the record.)
#[tokio::test]
async fn unknown_names_cost_the_same_password_check_as_known_ones() {
    let backend = Backend::new(&Db::Sqlite).await;
    add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
    let gate = &backend.app.password_checks;
    for (i, login) in ["r.berger", "nobody-here", "r.berger", "nobody-here"]
        .into_iter()
        .enumerate()
    {
        let mut browser = Browser::from(&format!("192.0.2.{}", i + 1));
        browser.get(&backend, "/office/login").await;
        let checks = gate.checks();
        let started = Instant::now();
        let resp = browser
            .submit(
                &backend,
                "/office/login",
                &[("login", login), ("password", "wrong password!")],
            )
            .await;
        eprintln!("{login}: {:?}", started.elapsed());
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
        assert_eq!(gate.checks(), checks + 1, "{login}: one password check");
    }
    let stored = backend
        .app
        .store
        .user("r.berger")
        .await
        .expect("store")
        .expect("user")
        .password_hash;
    let stored = argon2::PasswordHash::new(&stored).expect("stored PHC");
    let dummy = argon2::PasswordHash::new(fieldkit_backend::password::dummy_hash())
        .expect("the dummy is a real Argon2 hash");
    assert_eq!(dummy.algorithm, stored.algorithm);
    assert_eq!(dummy.version, stored.version);
    assert_eq!(dummy.params, stored.params, "same memory, time and lanes");
    assert_eq!(
        dummy.hash.map(|h| h.len()),
        stored.hash.map(|h| h.len()),
        "same output length"
    );
    assert_ne!(dummy.hash, stored.hash);
}

#[tokio::test]
async fn the_throttle_counts_per_address_and_per_account_and_old_counters_are_purged() {
    for db in databases("the_throttle_counts_per_address_and_per_account") {
        let backend = Backend::new(&db).await;
        let store = backend.store();
        let now = Utc::now();
        // A distributed attack: each address stays under its own limit, yet the account
        // as a whole waits after PER_ACCOUNT.free failures.
        for i in 0..PER_ACCOUNT.free {
            let client = format!("198.51.100.{}", i % 50);
            assert_eq!(
                store
                    .admit_login("r.berger", &client, now)
                    .await
                    .expect("store"),
                Admission::Check,
                "{i}"
            );
        }
        assert!(matches!(
            store
                .admit_login("r.berger", "203.0.113.1", now)
                .await
                .expect("store"),
            Admission::Wait(_)
        ));
        let account = store
            .login_failures("r.berger", ACCOUNT_WIDE)
            .await
            .expect("store")
            .expect("row");
        assert_eq!(account.failures, PER_ACCOUNT.free, "{}", db.name());
        // A success takes that address's failures off the account-wide count.
        store
            .login_succeeded("r.berger", "198.51.100.0")
            .await
            .expect("store");
        let account = store
            .login_failures("r.berger", ACCOUNT_WIDE)
            .await
            .expect("store")
            .expect("row");
        assert_eq!(account.failures, PER_ACCOUNT.free - 2, "{}", db.name());

        // Made-up names from a day ago are purged; today's counters stay.
        store
            .admit_login("made-up", "192.0.2.1", now - Duration::hours(25))
            .await
            .expect("store");
        let purged = store
            .purge_login_failures(now - Duration::hours(24))
            .await
            .expect("store");
        assert_eq!(purged, 2, "its address row and its account row");
        assert_eq!(
            store
                .login_failures("made-up", "192.0.2.1")
                .await
                .expect("store"),
            None
        );
        assert!(store
            .login_failures("r.berger", ACCOUNT_WIDE)
            .await
            .expect("store")
            .is_some());
    }
}
