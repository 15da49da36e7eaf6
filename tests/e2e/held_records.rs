//! No record blocks the queue (issue 13, PROTOCOL.md §11), through the CLIs only, as IT
//! staff would meet it: the backend's database is restored from an older backup (a
//! file copy with the backend stopped; the attachment files stay), and the kit's
//! planner stops in each of its three record states, which the kit reports and
//! `fieldkit-backend admin kit list --blocked` shows IT staff. IT writes the held-records file on
//! the kit with the recovery secret (`fieldkit export-held`), imports it at the backend
//! (`fieldkit-backend admin kit import-held`), and the kit's next sync goes on. Every
//! scenario ends in the exactly-once check, with the positions the backend could only
//! bridge named and shown to be evidence, not cases.
//!
//! Wrong input: a file changed after the kit signed it, another kit's file, a file
//! that does not continue the chain, a clerk's PIN instead of the recovery secret, an
//! export over an existing file — each refused with its exit code, nothing stored.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Output;

use fieldkit_e2e::harness::bins::bin;
use fieldkit_e2e::harness::copy_dir;
use fieldkit_e2e::harness::scenario::Scenario;
use kit_core::RecordState;

/// The database files of the embedded store.
fn db_files(data: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(data)
        .expect("data dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("fieldkit.sqlite3"))
        })
        .collect()
}

/// IT's nightly backup: the database, copied with the backend stopped.
fn backup(s: &mut Scenario, name: &str) -> PathBuf {
    s.backend.stop();
    let to = s.dir.path().join(name);
    std::fs::create_dir_all(&to).expect("backup dir");
    for f in db_files(s.backend.data_dir()) {
        std::fs::copy(&f, to.join(f.file_name().expect("name"))).expect("copy");
    }
    s.backend.restart();
    to
}

/// IT restores the database from `backup` (the attachment files are not rewound).
fn restore(s: &mut Scenario, backup: &Path) {
    s.backend.stop();
    for f in db_files(s.backend.data_dir()) {
        std::fs::remove_file(f).expect("remove");
    }
    copy_dir(backup, s.backend.data_dir());
    s.backend.restart();
}

/// Catalog N+1: the Anmeldung gets form version 2 (same schema); captures on it name a
/// form a backend without N+1 does not know.
fn publish_form_v2(s: &Scenario) {
    let next = s.dir.path().join("catalog-next");
    if !next.exists() {
        copy_dir(Path::new(fieldkit_catalog::CATALOG_DIR), &next);
        let service = next.join("services/anmeldung.json");
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&service).expect("service")).expect("json");
        let mut form = v["forms"][0].clone();
        form["version"] = 2.into();
        form["schema"]["$id"] = "urn:fieldkit:catalog:anmeldung:2".into();
        v["forms"].as_array_mut().expect("forms").push(form);
        std::fs::write(&service, serde_json::to_vec_pretty(&v).expect("json")).expect("write");
        let meta_path = next.join("catalog.json");
        let mut meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&meta_path).expect("meta")).expect("json");
        meta["version"] = "2099.1.1".into();
        std::fs::write(&meta_path, serde_json::to_vec(&meta).expect("json")).expect("write");
    }
    s.backend
        .admin(&["catalog", "publish", next.to_str().expect("utf-8 path")]);
}

fn report(out: &Output) -> serde_json::Value {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v.get("report").is_some())
        .unwrap_or_else(|| {
            panic!(
                "no sync report: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })["report"]
        .clone()
}

fn synced(s: &Scenario) -> serde_json::Value {
    let out = s.kit.sync(None, &[]);
    let r = report(&out);
    assert!(
        out.status.success() && r["blocked"].is_null(),
        "sync: {r}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        blocked_at_backend(s),
        vec![],
        "the kit reported its queue moving"
    );
    r
}

/// What `fieldkit-backend admin kit list --blocked` tells IT staff: `(reason, seq)` of
/// each kit that reported its queue stopped (PROTOCOL.md §6.5 `blocked`).
fn blocked_at_backend(s: &Scenario) -> Vec<(String, u64)> {
    let out = std::process::Command::new(bin("fieldkit-backend"))
        .arg("admin")
        .arg("--data-dir")
        .arg(s.backend.data_dir())
        .args(["--json", "kit", "list", "--blocked"])
        .output()
        .expect("admin runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kits: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    kits.iter()
        .map(|k| {
            (
                k["blocked"]["reason"].as_str().expect("reason").to_owned(),
                k["blocked"]["seq"].as_u64().expect("seq"),
            )
        })
        .collect()
}

fn blocked(s: &Scenario, reason: &str, seq: u64) {
    let out = s.kit.sync(None, &[]);
    let r = report(&out);
    assert!(!out.status.success(), "a blocked sync fails: {r}");
    assert_eq!(r["blocked"]["reason"], reason, "{r}");
    assert_eq!(r["blocked"]["seq"], seq, "{r}");
    // IT staff see it at the backend without waiting for the clerk's call.
    assert_eq!(blocked_at_backend(s), vec![(reason.to_owned(), seq)]);
}

/// `fieldkit export-held` with the recovery secret into `<scenario>/held.json`.
fn export(s: &Scenario, extra: &[&str]) -> (PathBuf, serde_json::Value) {
    let file = s.dir.path().join(format!("held-{}.json", rand_suffix()));
    let out = s
        .kit
        .cli()
        .env_remove("FIELDKIT_PIN")
        .env(
            "FIELDKIT_RECOVERY_SECRET",
            s.kit.recovery_secret.as_deref().expect("secret"),
        )
        .args(["--json", "export-held", "--out"])
        .arg(&file)
        .args(extra)
        .output()
        .expect("fieldkit runs");
    assert!(
        out.status.success(),
        "export-held: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    (file, written)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn import_raw(s: &Scenario, file: &Path) -> Output {
    std::process::Command::new(bin("fieldkit-backend"))
        .arg("admin")
        .arg("--data-dir")
        .arg(s.backend.data_dir())
        .args(["--json", "kit", "import-held"])
        .arg(file)
        .output()
        .expect("admin runs")
}

/// Imports and returns the action per seq.
fn import(s: &Scenario, file: &Path) -> Vec<(u64, String)> {
    let out = import_raw(s, file);
    assert!(
        out.status.success(),
        "import-held: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v["positions"]
        .as_array()
        .expect("positions")
        .iter()
        .map(|p| {
            (
                p["seq"].as_u64().expect("seq"),
                p["action"].as_str().expect("action").to_owned(),
            )
        })
        .collect()
}

fn record_ids(s: &Scenario) -> Vec<(u64, String, RecordState)> {
    let session = s.kit.session();
    let mut all: Vec<_> = session
        .records(None, 1000)
        .expect("records")
        .into_iter()
        .map(|r| (r.seq, r.record_id, r.state))
        .collect();
    all.sort_by_key(|r| r.0);
    all
}

#[test]
fn cannot_resend_a_purged_record_the_backend_lost_is_bridged_on_its_receipt() {
    let mut s = Scenario::new();
    s.kit.capture(1, 2_000);
    synced(&s);
    let nightly = backup(&mut s, "backup-1");
    s.kit.capture(1, 2_000);
    synced(&s);
    // Retention ran: the sealed data of complete records is gone from the kit.
    s.kit.run(&["purge", "--days", "0"]);
    s.kit.capture(1, 2_000);
    restore(&mut s, &nightly);

    blocked(&s, "cannot_resend", 2);
    let (file, written) = export(&s, &[]);
    assert_eq!(written["from_seq"], 2);
    assert_eq!(written["to_seq"], 3);
    assert_eq!(written["receipts"], 1, "seq 2's receipt travels: {written}");
    assert_eq!(
        std::fs::metadata(&file).expect("file").permissions().mode() & 0o077,
        0,
        "the file is readable by its owner only"
    );
    let actions = import(&s, &file);
    assert_eq!(
        actions,
        vec![(2, "bridged".into()), (3, "delivered".into())]
    );
    // Importing the same file again changes nothing.
    assert_eq!(
        import(&s, &file),
        vec![(2, "already-held".into()), (3, "already-held".into())]
    );
    synced(&s);
    let ids = record_ids(&s);
    assert_eq!(ids[1].2, RecordState::Purged);
    let settled = s.check_bridged(&[ids[1].1.clone()]);
    assert_eq!(settled.records, 3);
    let log = s.kit.session().it_log().expect("IT log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, "export-held");
}

#[test]
fn a_resent_record_the_restored_backend_refuses_is_restored_on_its_receipt() {
    let mut s = Scenario::new();
    let nightly = backup(&mut s, "backup-1");
    publish_form_v2(&s);
    let r = synced(&s);
    assert_eq!(r["catalog_installed"], "2099.1.1", "{r}");
    s.kit.capture(1, 2_000);
    synced(&s);
    // The restore loses catalog N+1 and the record; the kit resends it, the backend
    // (which knows no form version 2) chains it as rejected, the kit holds a receipt.
    restore(&mut s, &nightly);
    blocked(&s, "resent_record_refused", 1);
    // IT publishes again what was published since the backup; the kit stays blocked
    // (seq 1 is asked for alone at every run, and the backend holds it as rejected), and
    // what it captures meanwhile waits.
    publish_form_v2(&s);
    s.kit.capture(1, 2_000);
    blocked(&s, "resent_record_refused", 1);

    let (file, _) = export(&s, &[]);
    assert_eq!(
        import(&s, &file),
        vec![(1, "restored".into()), (2, "delivered".into())]
    );
    synced(&s);
    let settled = s.check();
    assert_eq!(settled.records, 2);
    assert_eq!(settled.attachments, 4);
}

#[test]
fn a_broken_chain_a_rejected_record_the_backend_lost_is_bridged_and_the_rest_delivered() {
    let mut s = Scenario::new();
    let before_n1 = backup(&mut s, "backup-1");
    publish_form_v2(&s);
    synced(&s);
    s.kit.capture(1, 2_000);
    restore(&mut s, &before_n1);
    // Form version 2 is unknown here: seq 1 is rejected (the clerk is told).
    let r = synced(&s);
    assert_eq!(r["rejected"], 1, "{r}");
    s.kit.capture(1, 2_000);
    // The same backup restored once more: the backend lost the rejected seq 1, and seq
    // 2 links to it.
    restore(&mut s, &before_n1);
    blocked(&s, "chain_broken", 1);
    publish_form_v2(&s);

    let (file, _) = export(&s, &[]);
    assert_eq!(
        import(&s, &file),
        vec![(1, "bridged".into()), (2, "delivered".into())],
        "the kit told its clerk seq 1 was rejected: it stays evidence, not a case"
    );
    synced(&s);
    let ids = record_ids(&s);
    assert_eq!(ids[0].2, RecordState::Rejected);
    let settled = s.check_bridged(&[ids[0].1.clone()]);
    assert_eq!(settled.records, 2);
}

#[test]
fn held_files_that_are_forged_foreign_or_out_of_order_are_refused_and_nothing_is_stored() {
    let mut s = Scenario::new();
    s.kit.capture(1, 2_000);
    synced(&s);
    let nightly = backup(&mut s, "backup-1");
    s.kit.capture(1, 2_000);
    synced(&s);
    s.kit.run(&["purge", "--days", "0"]);
    s.kit.capture(2, 2_000);
    restore(&mut s, &nightly);
    blocked(&s, "cannot_resend", 2);

    // A clerk cannot hand the queue out of the kit.
    let clerk = s
        .kit
        .cli()
        .args(["export-held", "--out"])
        .arg(s.dir.path().join("by-clerk.json"))
        .output()
        .expect("runs");
    assert!(!clerk.status.success());
    assert!(
        String::from_utf8_lossy(&clerk.stderr).contains("FIELDKIT_RECOVERY_SECRET"),
        "{}",
        String::from_utf8_lossy(&clerk.stderr)
    );
    assert!(!s.dir.path().join("by-clerk.json").exists());

    let (file, _) = export(&s, &[]);
    // An existing file is never replaced.
    let again = s
        .kit
        .cli()
        .env(
            "FIELDKIT_RECOVERY_SECRET",
            s.kit.recovery_secret.as_deref().expect("secret"),
        )
        .args(["export-held", "--out"])
        .arg(&file)
        .output()
        .expect("runs");
    assert!(!again.status.success(), "an existing file is kept");

    let original = std::fs::read(&file).expect("file");
    let v: serde_json::Value = serde_json::from_slice(&original).expect("json");

    // Changed after signing: seq 2 claimed as another hash → the statement no longer
    // verifies (its signature covers every entry).
    let mut forged = v.clone();
    let payload = forged["statement"]["payload"]
        .as_str()
        .expect("payload")
        .to_owned();
    let mut statement: serde_json::Value =
        serde_json::from_slice(&sync_protocol::b64::decode("payload", &payload).expect("b64"))
            .expect("statement");
    statement["entries"][0]["hash"] = "00".repeat(32).into();
    forged["statement"]["payload"] =
        sync_protocol::b64::encode(serde_json::to_vec(&statement).expect("json")).into();
    let refused = write_and_import(&s, "forged.json", &forged);
    assert_eq!(refused.status.code(), Some(5), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("signature"),
        "{}",
        stderr(&refused)
    );

    // An envelope swapped for another record of the same kit: refused.
    let mut swapped = v.clone();
    swapped["records"][1]["envelope"] = v["records"][2]["envelope"].clone();
    let refused = write_and_import(&s, "swapped.json", &swapped);
    assert_eq!(refused.status.code(), Some(5), "{}", stderr(&refused));

    // A file naming a kit the backend does not know.
    let mut foreign = v.clone();
    foreign["statement"]["signatures"][0]["keyid"] = "0b5a3f4e-6c1d-4e2a-9b7f-3c8d2e1f4a6b".into();
    let refused = write_and_import(&s, "foreign.json", &foreign);
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));

    // Not a held-records file at all.
    let refused = write_and_import(&s, "other.json", &serde_json::json!({"format": "x"}));
    assert_eq!(refused.status.code(), Some(5), "{}", stderr(&refused));

    // A file that starts after the position the backend misses: refused (exit 4),
    // with where to start.
    let (late, _) = export(&s, &["--from", "3"]);
    let refused = import_raw(&s, &late);
    assert_eq!(refused.status.code(), Some(4), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("--from 2"),
        "{}",
        stderr(&refused)
    );

    // Nothing of all that was stored: the kit is still blocked at seq 2.
    blocked(&s, "cannot_resend", 2);
    assert_eq!(
        import(&s, &file),
        vec![
            (2, "bridged".into()),
            (3, "delivered".into()),
            (4, "delivered".into())
        ]
    );
    synced(&s);
    let ids = record_ids(&s);
    s.check_bridged(&[ids[1].1.clone()]);
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn write_and_import(s: &Scenario, name: &str, v: &serde_json::Value) -> Output {
    let path = s.dir.path().join(name);
    std::fs::write(&path, serde_json::to_vec(v).expect("json")).expect("write");
    import_raw(s, &path)
}

#[test]
fn a_revoked_kits_file_is_refused_with_exit_4_and_nothing_stored() {
    let s = Scenario::new();
    s.kit.capture(1, 2_000);
    synced(&s);
    let (file, _) = export(&s, &["--from", "1"]);
    let kit_id = s
        .kit
        .session()
        .enrolment()
        .expect("enrolment")
        .expect("enrolled")
        .kit_id
        .to_string();
    s.backend.admin(&[
        "kit",
        "revoke",
        &kit_id,
        "--reason",
        "Gerät verloren",
        "--mode",
        "wipe-now",
        "--confirm-undelivered",
        "0",
    ]);
    let refused = import_raw(&s, &file);
    assert_eq!(refused.status.code(), Some(4), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("revoked"), "{}", stderr(&refused));
}
