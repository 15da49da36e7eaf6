//! The store, key slots and clerks: PINs, delays, recovery, corruption, migrations.

use kit_core::store::migrations;
use kit_core::{Kit, KitError};

use crate::support::{self, bare_kit, CLERK, PIN};

#[test]
fn a_kit_is_never_initialized_twice() {
    let (_dir, kit, _) = bare_kit();
    assert!(matches!(
        kit.init(None),
        Err(KitError::AlreadyInitialized(_))
    ));
}

#[test]
fn a_missing_kit_gives_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp");
    let kit = Kit::at(dir.path().join("nothing-here"));
    assert!(matches!(
        kit.unlock(CLERK, PIN.as_bytes()),
        Err(KitError::NotInitialized(_))
    ));
}

#[test]
fn wrong_pins_are_refused_with_a_growing_delay_that_survives_a_restart() {
    let (_dir, kit, _) = bare_kit();
    for attempt in 1..=3 {
        match kit.unlock(CLERK, b"000111") {
            Err(KitError::WrongSecret { attempts }) => assert_eq!(attempts, attempt),
            other => panic!("attempt {attempt}: {other:?}"),
        }
    }
    // The third failure started a delay; even the right PIN waits now.
    assert!(matches!(
        kit.unlock(CLERK, PIN.as_bytes()),
        Err(KitError::TooManyAttempts { retry_after_secs }) if (1..=10).contains(&retry_after_secs)
    ));
    // A new process (a new Kit value) sees the same counter on disk.
    let again = Kit::at(kit.home().root());
    assert!(matches!(
        again.unlock(CLERK, PIN.as_bytes()),
        Err(KitError::TooManyAttempts { .. })
    ));
}

#[test]
fn the_recovery_secret_adds_clerks_and_a_clerk_can_change_the_pin() {
    let (_dir, kit, recovery) = bare_kit();
    let mut it = kit
        .unlock_recovery(&recovery.to_lowercase())
        .expect("typed in lower case");
    assert!(it.clerk().is_none());
    let second = it
        .add_clerk("Jürgen Özdemir", b"Sonnenblume 7")
        .expect("second clerk");
    assert_eq!(second.id.as_str(), "c-juergen-oezdemir");
    assert!(matches!(
        it.add_clerk("Weak", b"123456"),
        Err(KitError::WeakPin(_))
    ));
    drop(it);
    let mut s = kit
        .unlock("c-juergen-oezdemir", b"Sonnenblume 7")
        .expect("new clerk unlocks");
    assert_eq!(s.clerks().expect("list").len(), 2);
    s.change_pin(b"Mondlicht 42").expect("change");
    s.lock();
    assert!(matches!(
        kit.unlock("c-juergen-oezdemir", b"Sonnenblume 7"),
        Err(KitError::WrongSecret { .. })
    ));
    assert!(kit.unlock("c-juergen-oezdemir", b"Mondlicht 42").is_ok());
    // The unlock screen reads the names as entered, umlauts included, before any unlock;
    // a changed PIN keeps the name.
    let names = kit.clerk_names().expect("names");
    assert!(
        names.contains(&(
            "c-juergen-oezdemir".to_owned(),
            Some("Jürgen Özdemir".to_owned())
        )),
        "{names:?}"
    );
    assert!(matches!(
        kit.unlock("c-nobody", PIN.as_bytes()),
        Err(KitError::UnknownClerk(_))
    ));
    assert!(matches!(
        kit.unlock_recovery("AAAA-BBBB"),
        Err(KitError::WrongSecret { .. })
    ));
}

#[test]
fn a_damaged_store_is_reported_and_left_untouched() {
    let (_dir, kit, _) = bare_kit();
    let db = kit.home().database();
    let mut bytes = std::fs::read(&db).expect("read");
    // Damage the first page (the one SQLCipher authenticates on open).
    for b in &mut bytes[100..200] {
        *b ^= 0x5a;
    }
    std::fs::write(&db, &bytes).expect("write");
    let before = std::fs::read(&db).expect("read");
    match kit.unlock(CLERK, PIN.as_bytes()) {
        Err(KitError::Corrupted(msg)) => assert!(!msg.is_empty()),
        other => panic!("expected Corrupted, got {other:?}"),
    }
    assert_eq!(
        std::fs::read(&db).expect("read"),
        before,
        "never silently reset"
    );
}

#[test]
fn a_store_from_the_previous_schema_upgrades_in_place_with_its_data() {
    let dir = tempfile::tempdir().expect("temp");
    let kit = Kit::at(dir.path().join("kit"));
    let init = kit
        .init_at_schema(None, migrations::CURRENT - 1)
        .expect("old store");
    let mut it = kit
        .unlock_recovery(&init.recovery_secret)
        .expect("unlock migrates");
    it.add_clerk(support::CLERK_NAME, PIN.as_bytes())
        .expect("clerk");
    drop(it);
    // Unlocking ran the migration; the clerk added before and the kit key survived.
    let s = kit.unlock(CLERK, PIN.as_bytes()).expect("unlock");
    assert_eq!(s.clerks().expect("clerks").len(), 1);
    assert_eq!(hex(s.kit_public_key().as_bytes()), init.kit_public_key);
}

#[test]
fn data_written_at_the_previous_schema_is_kept_by_the_upgrade() {
    use rusqlite::Connection;
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("old.db");
    let key = [7u8; 32];
    let mut conn: Connection = kit_core::store::open(&path, &key, true).expect("create");
    migrations::migrate_to(&mut conn, 1).expect("schema 1");
    conn.execute(
        "INSERT INTO clerks (id, name, created_at) VALUES ('c-a', 'A', 'x')",
        [],
    )
    .expect("row at schema 1");
    drop(conn);
    let mut conn = kit_core::store::open(&path, &key, false).expect("reopen");
    migrations::migrate(&mut conn).expect("upgrade");
    assert_eq!(
        migrations::version(&conn).expect("version"),
        migrations::CURRENT
    );
    let name: String = conn
        .query_row("SELECT name FROM clerks WHERE id = 'c-a'", [], |r| r.get(0))
        .expect("kept");
    assert_eq!(name, "A");
    conn.execute("INSERT INTO purge_log (record_id, case_number, service_id, finalized_at, purged_at, attachments) VALUES ('r','c','s','f','p',0)", [])
        .expect("schema 2 table exists");
    conn.execute_batch("PRAGMA user_version = 99")
        .expect("pretend newer");
    drop(conn);
    let mut conn = kit_core::store::open(&path, &key, false).expect("reopen");
    assert!(matches!(
        migrations::migrate(&mut conn),
        Err(KitError::SchemaTooNew { found: 99, .. })
    ));
}

#[test]
fn the_store_file_is_encrypted() {
    let f = support::enrolled_kit();
    let mut s = f.unlock();
    support::finalize_anmeldung(&mut s);
    drop(s);
    for file in [f.kit.home().database(), f.kit.home().keyslots()] {
        let bytes = std::fs::read(&file).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        for plaintext in ["Özdemir", "Lindenweg", "SQLite format", "anmeldung"] {
            assert!(
                !text.contains(plaintext),
                "{plaintext} readable in {}",
                file.display()
            );
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
