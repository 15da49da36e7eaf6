//! PINs that hold, through the `fieldkit` binary as an attacker with the laptop would try
//! them: parallel wrong PINs are each counted and the right PIN waits out the delay;
//! kit files are the owner's alone; a slot file others may read, or one cut short, stops
//! the kit with a clear message and is never reset.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output};

use kit_core::keyslots::KeySlots;
use kit_core::{Kit, KitError};

use crate::support::{anmeldung, enrolled_kit, printout, CLERK, PIN};

fn fieldkit(home: &Path, pin: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fieldkit"));
    cmd.arg("--home")
        .arg(home)
        .args(args)
        .env_remove("FIELDKIT_RECOVERY_SECRET")
        .env("FIELDKIT_CLERK", CLERK)
        .env("FIELDKIT_PIN", pin);
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn sixteen_parallel_wrong_pins_are_all_counted_and_the_right_pin_waits_out_the_delay() {
    let f = enrolled_kit();
    let home = f.kit.home().root().to_owned();
    let children: Vec<_> = (0..16)
        .map(|i| {
            fieldkit(&home, &format!("50{i:04}"), &["status"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(3), "locked: {}", stderr(&out));
        assert!(!stderr(&out).contains("No such file"), "{}", stderr(&out));
    }
    let slots = KeySlots::lock(&f.kit.home().keyslots()).expect("slots");
    let (attempts, until) = slots.attempts(CLERK).expect("slot");
    assert_eq!(attempts, 16, "every parallel attempt is counted");
    let until = until.expect("delayed");
    drop(slots);

    // The right PIN is refused while the delay runs, through the CLI and the library.
    let out = fieldkit(&home, PIN, &["status"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("too many wrong attempts"),
        "{}",
        stderr(&out)
    );
    assert!(matches!(
        f.kit.unlock(CLERK, PIN.as_bytes()),
        Err(KitError::TooManyAttempts { retry_after_secs }) if retry_after_secs > 60
    ));
    // Once the delay has ended, it opens (and the counter starts again).
    let mut slots = KeySlots::lock(&f.kit.home().keyslots()).expect("slots");
    let (_, until_now) = slots.attempts(CLERK).expect("slot");
    let after = until_now.expect("delayed").max(until) + 1;
    slots
        .unlock(CLERK, PIN.as_bytes(), after)
        .expect("opens after the delay");
    assert_eq!(slots.attempts(CLERK), Some((0, None)));
    drop(slots);
    f.unlock();
    let leftovers: Vec<_> = std::fs::read_dir(&home)
        .expect("read")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temp files left: {leftovers:?}");
}

#[test]
fn no_kit_file_is_readable_by_others_after_init_clerk_add_and_capture() {
    let dir = tempfile::tempdir().expect("temp");
    // A folder others may enter, as a home directory often is: the kit folder inside
    // is still private.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let home = dir.path().join("data").join("kit");
    let init = fieldkit(&home, PIN, &["--json", "init"])
        .output()
        .expect("runs");
    assert!(init.status.success(), "{}", stderr(&init));
    let secret: serde_json::Value = serde_json::from_slice(&init.stdout).expect("json");
    let add = fieldkit(&home, PIN, &["clerk", "add", "--name", "Clara Müller"])
        .env_remove("FIELDKIT_CLERK")
        .env(
            "FIELDKIT_RECOVERY_SECRET",
            secret["recovery_secret"].as_str().expect("s"),
        )
        .env("FIELDKIT_NEW_PIN", PIN)
        .output()
        .expect("runs");
    assert!(add.status.success(), "{}", stderr(&add));
    assert_eq!(
        kit_core::home::exposed_paths(&home).expect("walk"),
        Vec::<std::path::PathBuf>::new()
    );

    // Capture through the CLI needs a catalog: install the test one, then capture.
    let f = enrolled_kit();
    drop(f.unlock());
    let data = dir.path().join("anmeldung.json");
    std::fs::write(&data, anmeldung().to_string()).expect("write");
    let pdf = dir.path().join("printout.pdf");
    std::fs::write(&pdf, printout()).expect("write");
    let kit_home = f.kit.home().root().to_owned();
    let out = fieldkit(
        &kit_home,
        PIN,
        &[
            "record",
            "new",
            "--service",
            "anmeldung",
            "--data",
            data.to_str().expect("utf-8"),
            "--attach",
            &format!("signed-printout={}", pdf.display()),
            "--finalize",
        ],
    )
    .output()
    .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        std::fs::read_dir(f.kit.home().attachments())
            .expect("attachments")
            .count()
            >= 1
    );
    assert_eq!(
        kit_core::home::exposed_paths(&kit_home).expect("walk"),
        Vec::<std::path::PathBuf>::new(),
        "database, -wal/-shm, slots, locks and attachment files are 0600, folders 0700"
    );
}

#[test]
fn a_slot_file_others_can_read_stops_the_kit_until_it_after_fix_permissions() {
    let f = enrolled_kit();
    let home = f.kit.home().root().to_owned();
    let slots = f.kit.home().keyslots();
    let bytes = std::fs::read(&slots).expect("read");
    for (path, mode) in [(slots.clone(), 0o644), (home.clone(), 0o755)] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        let out = fieldkit(&home, PIN, &["status"]).output().expect("runs");
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("für andere Benutzer zugänglich")
                && stderr(&out).contains("accessible to other users")
                && stderr(&out).contains(&path.display().to_string()),
            "{}",
            stderr(&out)
        );
        assert!(matches!(
            f.kit.unlock(CLERK, PIN.as_bytes()),
            Err(KitError::Exposed { .. })
        ));
        assert!(matches!(f.kit.clerk_ids(), Err(KitError::Exposed { .. })));
        assert_eq!(std::fs::read(&slots).expect("read"), bytes, "nothing reset");
        let fixed = fieldkit(&home, PIN, &["--json", "fix-permissions"])
            .output()
            .expect("runs");
        assert!(fixed.status.success(), "{}", stderr(&fixed));
        let v: serde_json::Value = serde_json::from_slice(&fixed.stdout).expect("json");
        assert_eq!(v["changed"][0], path.display().to_string());
        let out = fieldkit(&home, PIN, &["status"]).output().expect("runs");
        assert!(out.status.success(), "{}", stderr(&out));
    }
}

#[test]
fn a_truncated_slot_file_stops_the_kit_and_is_never_reset() {
    let f = enrolled_kit();
    let home = f.kit.home().root().to_owned();
    let slots = f.kit.home().keyslots();
    let bytes = std::fs::read(&slots).expect("read");
    std::fs::write(&slots, &bytes[..bytes.len() / 2]).expect("truncate");
    std::fs::set_permissions(&slots, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    for args in [&["status"][..], &["init"][..], &["clerk", "list"][..]] {
        let out = fieldkit(&home, PIN, args).output().expect("runs");
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
    }
    let out = fieldkit(&home, PIN, &["status"]).output().expect("runs");
    assert!(
        stderr(&out).contains("damaged") && stderr(&out).contains("keyslots.json"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(&slots).expect("read"),
        &bytes[..bytes.len() / 2],
        "left as it was"
    );
    assert!(matches!(
        Kit::at(&home).unlock(CLERK, PIN.as_bytes()),
        Err(KitError::Corrupted(_))
    ));
    // Put back, the kit opens again: nothing else was touched.
    std::fs::write(&slots, &bytes).expect("restore");
    f.unlock();
}
