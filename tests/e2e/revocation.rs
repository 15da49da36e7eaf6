//! Revocation that drains, then wipes (issue 13), through the CLIs and HTTP only: a kit
//! revoked with `fieldkit-backend admin kit revoke` (drain by default) still delivers
//! its undelivered applications, which land flagged "received from a revoked kit", and
//! is wiped once it reported an empty outbox; a kit reported stolen delivers into the
//! held state; wiping at once needs the operator to confirm the undelivered count.

use std::process::{Command, Output};

use fieldkit_backend::storage::{CaseFlag, KitStatus};
use fieldkit_e2e::harness::bins::bin;
use fieldkit_e2e::harness::check::{assert_exactly_once_after_wipe, held_by};
use fieldkit_e2e::harness::scenario::Scenario;

fn events(out: &Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "sync failed ({}): {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn kit_id(s: &Scenario) -> String {
    s.kit
        .session()
        .enrolment()
        .expect("enrolment")
        .expect("enrolled")
        .kit_id
        .to_string()
}

/// `fieldkit-backend admin ARGS` on the scenario's data, whatever its outcome.
fn admin(s: &Scenario, args: &[&str]) -> Output {
    Command::new(bin("fieldkit-backend"))
        .arg("admin")
        .arg("--data-dir")
        .arg(s.backend.data_dir())
        .args(args)
        .output()
        .expect("admin runs")
}

/// The kit's cases at the backend with their open flags, and the kit's standing.
fn at_backend(s: &Scenario, kit: &str) -> (Vec<Vec<CaseFlag>>, KitStatus) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = fieldkit_backend::storage::open(&s.database(), 1)
            .await
            .expect("store");
        let kit_id = kit.parse().expect("kit id");
        let mut cases = Vec::new();
        for authority in store.authorities().await.expect("authorities") {
            for case in store.inbox(&authority.authority.id).await.expect("inbox") {
                if case.kit_id != kit_id {
                    continue;
                }
                let flags = store
                    .case_flags(&case.record_id)
                    .await
                    .expect("flags")
                    .into_iter()
                    .filter(|f| f.resolved.is_none())
                    .map(|f| f.flag)
                    .collect();
                cases.push(flags);
            }
        }
        let status = store
            .kit(&kit_id)
            .await
            .expect("kit")
            .expect("known")
            .status;
        (cases, status)
    })
}

#[test]
fn a_revoked_kit_with_3_undelivered_applications_delivers_them_flagged_then_is_wiped() {
    let s = Scenario::new();
    s.kit.capture(3, 2_000);
    let kit = kit_id(&s);
    let out = s.backend.admin(&[
        "--json",
        "kit",
        "revoke",
        &kit,
        "--reason",
        "Gerät als verloren gemeldet",
    ]);
    let revoked: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(revoked["mode"], "drain", "drain is the default");
    assert_eq!(revoked["state"], "draining");
    let held = held_by(&s.kit);

    let got = events(&s.kit.sync(None, &[]));
    assert!(
        got.iter()
            .any(|e| e["event"] == "wiped" && e["reason"] == "Gerät als verloren gemeldet"),
        "{got:?}"
    );
    assert!(!s.kit.home.join("kit.db").exists(), "the kit is wiped");
    let (cases, status) = at_backend(&s, &kit);
    assert_eq!(
        cases,
        vec![vec![CaseFlag::RevokedKit]; 3],
        "3 in the inbox, flagged"
    );
    assert_eq!(status, KitStatus::Revoked);
    let settled = assert_exactly_once_after_wipe(&held, &s.database(), s.backend.data_dir());
    assert_eq!((settled.records, settled.attachments), (3, 6));

    // Once wiped, the kit is refused: nothing more comes in under its name.
    assert_eq!(at_backend(&s, &kit).0.len(), 3);
}

#[test]
fn a_stolen_kit_delivers_into_the_held_state_never_dropped_never_trusted() {
    let s = Scenario::new();
    s.kit.capture(2, 1_000);
    events(&s.kit.sync(None, &[]));
    let kit = kit_id(&s);
    s.backend.admin(&[
        "kit",
        "revoke",
        &kit,
        "--reason",
        "Koffer gestohlen",
        "--mode",
        "stolen",
    ]);
    // Whoever holds the kit now captures and syncs: accepted, but held.
    s.kit.capture(1, 1_000);
    let held = held_by(&s.kit);
    let got = events(&s.kit.sync(None, &[]));
    assert!(got.iter().any(|e| e["event"] == "wiped"), "{got:?}");
    let (mut cases, status) = at_backend(&s, &kit);
    cases.sort();
    assert_eq!(cases, vec![vec![], vec![], vec![CaseFlag::Held]]);
    assert_eq!(status, KitStatus::Revoked);
    assert_exactly_once_after_wipe(&held, &s.database(), s.backend.data_dir());
}

#[test]
fn wiping_now_needs_the_undelivered_count_confirmed() {
    let s = Scenario::new();
    s.kit.capture(1, 1_000);
    let kit = kit_id(&s);
    // Wrong inputs: no confirmation, a wrong count, an unknown mode, a missing reason.
    for args in [
        vec!["--mode", "wipe-now", "--reason", "verloren"],
        vec![
            "--mode",
            "wipe-now",
            "--reason",
            "verloren",
            "--confirm-undelivered",
            "3",
        ],
        vec!["--mode", "shred", "--reason", "verloren"],
        vec!["--reason", " "],
    ] {
        let mut all = vec!["kit", "revoke", kit.as_str()];
        all.extend(args.iter().copied());
        let out = admin(&s, &all);
        assert!(!out.status.success(), "{args:?} must be refused");
        assert_eq!(at_backend(&s, &kit).1, KitStatus::Active, "{args:?}");
    }
    let out = admin(
        &s,
        &[
            "kit", "revoke", &kit, "--mode", "wipe-now", "--reason", "verloren",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--confirm-undelivered 0") && stderr.contains("never reported"),
        "the refusal tells what would be lost: {stderr}"
    );
    s.backend.admin(&[
        "kit",
        "revoke",
        &kit,
        "--mode",
        "wipe-now",
        "--reason",
        "verloren",
        "--confirm-undelivered",
        "0",
    ]);
    assert_eq!(at_backend(&s, &kit).1, KitStatus::Revoked);
    let got = events(&s.kit.sync(None, &[]));
    assert!(got.iter().any(|e| e["event"] == "wiped"), "{got:?}");
    assert!(at_backend(&s, &kit).0.is_empty(), "wiped before delivering");
}
