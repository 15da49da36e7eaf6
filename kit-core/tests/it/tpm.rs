//! A clerk slot bound to a TPM 2.0 (a real `swtpm` process per test, on loopback): the
//! PIN is the authorization of a sealed object, so the TPM's dictionary-attack lockout
//! counts wrong PINs — editing the slot file's counter does not help — and a copied kit
//! folder opens neither on another TPM nor without one, even with the right PIN. The
//! recovery slot is not bound (IT opens the kit on a new device).

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kit_core::tpm::TpmChoice;
use kit_core::{Kit, KitError};

use crate::support::{CLERK, CLERK_NAME, PIN};

/// One `swtpm` with its own state folder, killed on drop.
pub struct Swtpm {
    child: Child,
    port: u16,
    _state: tempfile::TempDir,
}

/// A port P with P+1 free too (the swtpm TCTI finds the control channel at P+1).
fn free_port_pair() -> u16 {
    loop {
        let first = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = first.local_addr().expect("addr").port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

impl Swtpm {
    pub fn start() -> Self {
        let state = tempfile::tempdir().expect("state dir");
        for _ in 0..5 {
            let port = free_port_pair();
            let mut child = Command::new("swtpm")
                .args(["socket", "--tpm2", "--tpmstate"])
                .arg(format!("dir={}", state.path().display()))
                .arg("--server")
                .arg(format!("type=tcp,port={port},bindaddr=127.0.0.1"))
                .arg("--ctrl")
                .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1))
                .args(["--flags", "not-need-init,startup-clear"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("swtpm runs (Debian package swtpm; scripts/test.sh installs it)");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Self {
                        child,
                        port,
                        _state: state,
                    };
                }
                if child.try_wait().ok().flatten().is_some() {
                    break; // lost the port race; try another
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("swtpm did not start in 5 attempts");
    }

    pub fn tcti(&self) -> String {
        format!("swtpm:host=127.0.0.1,port={}", self.port)
    }

    pub fn choice(&self) -> TpmChoice {
        TpmChoice::Tcti(self.tcti())
    }

    /// Sets the TPM's lockout policy: `max_tries` failures, one forgiven every
    /// `recovery_secs` — with `tpm2_dictionarylockout` (Debian tpm2-tools), as IT would
    /// on a real device (tss-esapi 7 has no wrapper for TPM2_DictionaryAttackParameters).
    pub fn lockout_policy(&self, max_tries: u32, recovery_secs: u32) {
        let out = Command::new("tpm2_dictionarylockout")
            .arg("--setup-parameters")
            .arg(format!("--max-tries={max_tries}"))
            .arg(format!("--recovery-time={recovery_secs}"))
            .arg("--lockout-recovery-time=0")
            .arg(format!("--tcti={}", self.tcti()))
            .output()
            .expect("tpm2_dictionarylockout runs (Debian tpm2-tools; scripts/test.sh installs it)");
        assert!(
            out.status.success(),
            "tpm2_dictionarylockout: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fieldkit(home: &Path, tcti: &str, pin: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fieldkit"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("FIELDKIT_RECOVERY_SECRET")
        .env("FIELDKIT_CLERK", CLERK)
        .env("FIELDKIT_PIN", pin)
        .env(kit_core::tpm::TCTI_ENV, tcti)
        .output()
        .expect("fieldkit runs")
}

fn slot_json(home: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(home.join("keyslots.json")).expect("read")).expect("json")
}

/// A kit whose clerk slot is bound to `tpm`; returns the recovery secret.
fn tpm_kit(home: &Path, tpm: &Swtpm) -> String {
    let kit = Kit::at(home).with_tpm(tpm.choice());
    let init = kit.init(None).expect("init");
    kit.unlock_recovery(&init.recovery_secret)
        .expect("recovery")
        .add_clerk(CLERK_NAME, PIN.as_bytes())
        .expect("clerk");
    init.recovery_secret.to_string()
}

#[test]
fn the_tpm_counts_wrong_pins_and_a_reset_counter_in_the_file_does_not_help() {
    let tpm = Swtpm::start();
    tpm.lockout_policy(4, 600);
    let dir = tempfile::tempdir().expect("temp");
    let home = dir.path().join("kit");
    tpm_kit(&home, &tpm);
    let slots = slot_json(&home);
    let clerk = slots["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .find(|s| s["id"] == CLERK)
        .expect("clerk slot");
    assert!(clerk["tpm"].is_string(), "the clerk slot is TPM-bound");
    assert_eq!(slots["format"], 2);
    let recovery = &slots["slots"][0];
    assert!(recovery.get("tpm").is_none(), "the recovery slot is not");

    // The right PIN opens through the CLI with the TPM.
    let ok = fieldkit(&home, &tpm.tcti(), PIN, &["status"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    // Wrong PINs: after each, the attacker resets the file's counter by hand.
    let pristine = std::fs::read(home.join("keyslots.json")).expect("read");
    let mut refused_by_tpm = false;
    for i in 0..6 {
        let out = fieldkit(&home, &tpm.tcti(), &format!("81{i:04}"), &["status"]);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(home.join("keyslots.json"), &pristine).expect("reset the counter");
        if String::from_utf8_lossy(&out.stderr).contains("too many wrong attempts") {
            refused_by_tpm = true;
        }
    }
    assert!(refused_by_tpm, "the TPM locked out after 4 failures");
    // The right PIN is refused now, although the file says 0 failures.
    let out = fieldkit(&home, &tpm.tcti(), PIN, &["status"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("too many wrong attempts"));
    assert!(matches!(
        Kit::at(&home)
            .with_tpm(tpm.choice())
            .unlock(CLERK, PIN.as_bytes()),
        Err(KitError::TooManyAttempts { .. })
    ));
}

#[test]
fn a_copied_kit_folder_opens_neither_on_another_tpm_nor_without_one() {
    let tpm = Swtpm::start();
    let other = Swtpm::start();
    let dir = tempfile::tempdir().expect("temp");
    let home = dir.path().join("kit");
    let recovery = tpm_kit(&home, &tpm);

    match Kit::at(&home)
        .with_tpm(other.choice())
        .unlock(CLERK, PIN.as_bytes())
    {
        Err(KitError::Tpm(msg)) => assert!(msg.contains("another TPM"), "{msg}"),
        other => panic!("another TPM must not open the slot: {other:?}"),
    }
    let out = fieldkit(&home, "none", PIN, &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no TPM is available"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // IT's recovery secret still opens it anywhere, and the right TPM still works.
    Kit::at(&home)
        .with_tpm(TpmChoice::None)
        .unlock_recovery(&recovery)
        .expect("recovery opens without the TPM");
    Kit::at(&home)
        .with_tpm(tpm.choice())
        .unlock(CLERK, PIN.as_bytes())
        .expect("the device's own TPM opens it");
}

#[test]
fn a_slot_made_without_a_tpm_keeps_working_and_binds_at_the_next_pin_change() {
    let tpm = Swtpm::start();
    let dir = tempfile::tempdir().expect("temp");
    let home = dir.path().join("kit");
    let kit = Kit::at(&home).with_tpm(TpmChoice::None);
    let init = kit.init(None).expect("init");
    kit.unlock_recovery(&init.recovery_secret)
        .expect("recovery")
        .add_clerk(CLERK_NAME, PIN.as_bytes())
        .expect("clerk");
    assert_eq!(
        slot_json(&home)["format"],
        1,
        "an older Fieldkit can still read it"
    );
    // The same slot opens on a device that has a TPM (an existing kit after the update).
    let with_tpm = Kit::at(&home).with_tpm(tpm.choice());
    let mut session = with_tpm.unlock(CLERK, PIN.as_bytes()).expect("unlocks");
    session.change_pin(b"Sonnenblume 7").expect("new PIN");
    drop(session);
    assert_eq!(slot_json(&home)["format"], 2, "now TPM-bound");
    with_tpm
        .unlock(CLERK, b"Sonnenblume 7")
        .expect("the new PIN with the TPM");
    assert!(matches!(
        Kit::at(&home)
            .with_tpm(TpmChoice::None)
            .unlock(CLERK, b"Sonnenblume 7"),
        Err(KitError::Tpm(_))
    ));
}
