//! The shared state against a real kit folder (SQLCipher store, Argon2 key slots): no
//! backend is needed for set-up, unlock, idle lock and the error mapping.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;

const PIN: &str = "Rathaus am Markt";

fn state(
    idle: Duration,
) -> (
    tempfile::TempDir,
    Arc<Shared>,
    Arc<Mutex<Vec<&'static str>>>,
) {
    let dir = tempfile::tempdir().expect("temp dir");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let emit: Emit = Arc::new(move |name, _| sink.lock().expect("events").push(name));
    let settings = Settings {
        idle_lock: idle,
        ..Settings::default()
    };
    let shared = Shared::new(Kit::at(dir.path().join("kit")), settings, emit);
    (dir, shared, seen)
}

fn set_up(shared: &Arc<Shared>) {
    let done = shared.kit().init(None).expect("init");
    let session = shared
        .kit()
        .unlock_recovery(&done.recovery_secret)
        .expect("recovery");
    shared.open(session).expect("open");
    shared
        .with_session(|s| s.add_clerk("Clara Müller", PIN.as_bytes()))
        .expect("clerk");
    shared.lock();
}

#[test]
fn first_run_then_clerk_unlock_shows_the_clerk_by_name() {
    let (_dir, shared, _) = state(Duration::from_secs(300));
    let fresh = shared.status().expect("status");
    assert!(!fresh.initialized && fresh.clerks.is_empty() && fresh.unlocked.is_none());

    set_up(&shared);
    let locked = shared.status().expect("status");
    assert_eq!(locked.clerks.len(), 1);
    assert_eq!(locked.clerks[0].id, "c-clara-mueller");
    assert_eq!(
        locked.clerks[0].name, "Clara Müller",
        "the name as entered, before any unlock"
    );
    assert!(locked.unlocked.is_none());

    let session = shared
        .kit()
        .unlock("c-clara-mueller", PIN.as_bytes())
        .expect("unlock");
    let open = shared.open(session).expect("open");
    let clerk = open.unlocked.and_then(|u| u.clerk).expect("clerk session");
    assert_eq!(clerk.name, "Clara Müller");
    assert!(!open.enrolled, "no backend yet");
    assert_eq!(
        shared
            .sync_now()
            .expect_err("no sync before enrolment")
            .kind,
        ErrorKind::NotEnrolled
    );
}

#[test]
fn wrong_pin_and_locked_session_are_reported_as_such() {
    let (_dir, shared, _) = state(Duration::from_secs(300));
    set_up(&shared);
    let Err(refused) = shared.kit().unlock("c-clara-mueller", b"000000") else {
        panic!("a wrong PIN unlocked the kit");
    };
    let err = AppError::from(refused);
    assert_eq!(err.kind, ErrorKind::WrongPin);
    assert_eq!(err.attempts, Some(1));
    let err = shared.with_session(|s| s.drafts()).expect_err("no session");
    assert_eq!(err.kind, ErrorKind::Locked);
}

#[test]
fn an_idle_session_is_locked_and_the_ui_is_told() {
    let (_dir, shared, seen) = state(Duration::from_millis(300));
    set_up(&shared);
    let session = shared
        .kit()
        .unlock("c-clara-mueller", PIN.as_bytes())
        .expect("unlock");
    shared.open(session).expect("open");
    assert!(!shared.lock_if_idle(), "just used");
    std::thread::sleep(Duration::from_millis(400));
    assert!(shared.lock_if_idle());
    assert!(shared.status().expect("status").unlocked.is_none());
    assert_eq!(*seen.lock().expect("events"), [crate::events::LOCKED_EVENT]);
    assert!(!shared.lock_if_idle(), "already locked: no second event");
}

#[test]
fn activity_postpones_the_idle_lock() {
    let (_dir, shared, _) = state(Duration::from_millis(300));
    set_up(&shared);
    let session = shared
        .kit()
        .unlock("c-clara-mueller", PIN.as_bytes())
        .expect("unlock");
    shared.open(session).expect("open");
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(120));
        shared.touch();
        assert!(!shared.lock_if_idle());
    }
}

#[test]
fn display_names_come_from_clerk_ids() {
    assert_eq!(display_name("c-clara-mueller"), "Clara Mueller");
    assert_eq!(display_name("c-joerg-gross-strasse"), "Joerg Gross Strasse");
    assert_eq!(display_name("c"), "C");
    assert_eq!(display_name(""), "");
}
