//! Backup and restore as IT staff would run them (issue 16 item 3), through the CLIs
//! only: `fieldkit-backend admin backup --to DIR` while the backend serves, the backend
//! lost, `admin restore --from DIR` into an empty data folder (or PostgreSQL and an S3
//! bucket), the backend started on it — and the kit sends again what the backend lost,
//! ending in the exactly-once check with receipts re-issued and verified.
//!
//! Wrong input: a restore into a database that is not empty, a backup file altered or
//! missing, a folder without a manifest, a backup into a folder that is not empty, the
//! wrong master key on the restored data, an attachment lost from the file store — each
//! refused with its exit code and the file or case named, nothing written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fieldkit_backend::config::DatabaseUrl;
use fieldkit_e2e::harness::backend::{master_key_at, BackendProcess};
use fieldkit_e2e::harness::bins::bin;
use fieldkit_e2e::harness::check::assert_exactly_once_in;
use fieldkit_e2e::harness::free_port;
use fieldkit_e2e::harness::pg::Schema;
use fieldkit_e2e::harness::s3::Bucket;
use fieldkit_e2e::harness::scenario::Scenario;
use kit_core::RecordState;

/// `fieldkit-backend admin --data-dir DATA ARGS` (optionally on `database`), with `env`,
/// from a shell with umask 022 as IT's usually is.
fn admin(data: &Path, database: Option<&str>, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "umask 022 && exec \"$0\" \"$@\""])
        .arg(bin("fieldkit-backend"));
    cmd.arg("admin").arg("--data-dir").arg(data);
    if let Some(db) = database {
        cmd.arg("--database").arg(db);
    }
    cmd.envs(env.iter().copied())
        .args(args)
        .output()
        .expect("admin runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "admin failed: {}", stderr(out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn synced(s: &Scenario) -> serde_json::Value {
    let out = s.kit.sync(None, &[]);
    assert!(out.status.success(), "sync failed: {}", stderr(&out));
    serde_json::from_slice(
        out.stdout
            .split(|b| *b == b'\n')
            .rfind(|l| !l.is_empty())
            .expect("a report"),
    )
    .expect("sync report JSON")
}

/// Three records (a 40 KB printout and a scan each), delivered; a backup taken while the
/// backend serves; three more delivered after it.
fn three_backed_up_and_three_after(s: &mut Scenario) -> PathBuf {
    s.kit.capture(3, 40_000);
    synced(s);
    assert_eq!(s.check().records, 3);
    let backup = s.dir.path().join("backup-1");
    let text = ok(&s
        .backend
        .admin(&["backup", "--to", backup.to_str().expect("path")]));
    assert!(text.contains("19 tables"), "{text}");
    // Two attachments per record: the printout and a scan.
    assert!(text.contains("6 attachments"), "{text}");
    s.kit.capture(3, 40_000);
    synced(s);
    assert_eq!(s.check().records, 6);
    backup
}

/// The backend's disk is gone: its data folder moves away, the master key (kept apart
/// from the backups, as the guide says) is what survives.
fn lose_the_backend(s: &mut Scenario) -> PathBuf {
    s.backend.stop();
    let data = s.backend.data_dir().to_path_buf();
    let key = s.dir.path().join("secrets/master.key");
    std::fs::create_dir_all(key.parent().expect("folder")).expect("secrets");
    std::fs::copy(data.join("master.key"), &key).expect("master key kept");
    std::fs::rename(&data, s.dir.path().join("lost")).expect("disk lost");
    key
}

/// Every file and folder under `dir` is its owner's alone, though the restore ran from
/// a shell with umask 022 (the database, its journal, the attachments).
fn assert_owner_only(dir: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let mut open = Vec::new();
    let mut seen = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = std::fs::metadata(&path).expect("metadata");
        seen += 1;
        if meta.permissions().mode() & 0o077 != 0 {
            open.push(format!(
                "{} {:o}",
                path.display(),
                meta.permissions().mode()
            ));
        }
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).expect("folder") {
                stack.push(entry.expect("entry").path());
            }
        }
    }
    assert!(seen > 10, "the restore wrote {seen} files and folders");
    assert!(open.is_empty(), "readable by group or others: {open:?}");
}

#[test]
fn a_backup_taken_while_serving_is_restored_and_the_kit_sends_again_what_was_lost() {
    let mut s = Scenario::new();
    let backup = three_backed_up_and_three_after(&mut s);
    let key = lose_the_backend(&mut s);
    let data = s.backend.data_dir().to_path_buf();

    let out = admin(
        &data,
        None,
        &[],
        &["restore", "--from", backup.to_str().expect("path")],
    );
    let text = ok(&out);
    assert!(text.contains("0 days old"), "{text}");
    assert_owner_only(&data);
    assert!(text.contains("6 attachments"), "{text}");
    // The date by which every kit must have synced to heal: the backup's time + 7 days.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    let taken: chrono::DateTime<chrono::Utc> = manifest["created_at"]
        .as_str()
        .expect("created_at")
        .parse()
        .expect("a time");
    let deadline = (taken + chrono::Duration::days(7)).format("%Y-%m-%d %H:%M UTC");
    assert!(
        text.contains(&format!("every kit should sync before {deadline}")),
        "{text}"
    );

    // Without its master key the restored data opens nothing: `serve` refuses (exit 6).
    let stranger = master_key_at(&s.dir.path().join("other/master.key"));
    std::fs::copy(&stranger, data.join("master.key")).expect("wrong key in place");
    let refused = Command::new(bin("fieldkit-backend"))
        .args(["serve", "--data-dir"])
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .env("FIELDKIT_ALLOW_MASTER_KEY_IN_DATA_DIR", "true")
        .env("FIELDKIT_OPS_LISTEN", "127.0.0.1:0")
        .output()
        .expect("serve runs");
    assert_eq!(refused.status.code(), Some(6), "{}", stderr(&refused));

    // With it, the backend serves the restored state: three records.
    std::fs::copy(&key, data.join("master.key")).expect("master key restored");
    s.backend.restart();

    // The kit's next sync finds the backend's head at 3 and sends 4–6 again; the
    // backend receipts them anew, the kit verifies the new receipts.
    synced(&s);
    let settled = s.check();
    assert_eq!(settled.records, 6);
    assert_eq!(settled.attachments, 12);
    assert!(s.states().iter().all(|st| *st == RecordState::Complete));
    // The kit healed: it reported an empty, unblocked queue, which IT staff see.
    let kits: serde_json::Value =
        serde_json::from_str(&ok(&s.backend.admin(&["--json", "kit", "list"]))).expect("JSON");
    assert_eq!(kits[0]["outbox"], 0, "{kits}");
    assert!(kits[0]["blocked"].is_null(), "{kits}");

    // Every attachment is back whole: fsck checks them all.
    let fsck = ok(&s.backend.admin(&["fsck"]));
    assert!(
        fsck.starts_with("12 complete attachments checked"),
        "{fsck}"
    );
}

#[test]
fn a_restore_refuses_a_damaged_backup_or_a_target_that_is_not_empty_and_writes_nothing() {
    let mut s = Scenario::new();
    let backup = three_backed_up_and_three_after(&mut s);
    let from = backup.to_str().expect("path");

    // Into the running backend's own data folder: it is not empty (exit 4).
    let out = admin(
        s.backend.data_dir(),
        None,
        &[],
        &["restore", "--from", from],
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("is not empty"), "{}", stderr(&out));
    assert_eq!(
        s.check().records,
        6,
        "nothing of the running backend changed"
    );

    // A backup into a folder that is not empty (exit 5).
    let out = s_backup_into(&s, &backup);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));

    let target = s.dir.path().join("restored");
    let restore = |from: &Path| {
        admin(
            &target,
            None,
            &[],
            &["restore", "--from", from.to_str().expect("path")],
        )
    };
    // A table file altered after the backup: refused, the file named (exit 5).
    let altered = copy_of(&backup, &s.dir.path().join("altered"));
    let cases = altered.join("tables/cases.jsonl");
    let text = std::fs::read_to_string(&cases).expect("cases");
    std::fs::write(&cases, format!("{text}[]\n")).expect("altered");
    let out = restore(&altered);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("cases.jsonl"), "{}", stderr(&out));
    assert!(!target.exists(), "nothing written");

    // An attachment missing from the backup: refused, the file named.
    let missing = copy_of(&backup, &s.dir.path().join("missing"));
    let attachment = first_file(&missing.join("attachments"));
    std::fs::remove_file(&attachment).expect("removed");
    let out = restore(&missing);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let name = attachment
        .file_name()
        .and_then(|n| n.to_str())
        .expect("name");
    assert!(stderr(&out).contains(name), "{}", stderr(&out));
    assert!(!target.exists(), "nothing written");

    // A folder without a manifest is no finished backup.
    let unfinished = copy_of(&backup, &s.dir.path().join("unfinished"));
    std::fs::remove_file(unfinished.join("manifest.json")).expect("removed");
    let out = restore(&unfinished);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("manifest.json"), "{}", stderr(&out));
    assert!(!target.exists(), "nothing written");

    // A manifest of another format version, or naming other tables: refused.
    for (from, to) in [
        ("\"version\": 1", "\"version\": 2"),
        ("\"table\": \"cases\"", "\"table\": \"case_notes\""),
    ] {
        let other = copy_of(&backup, &s.dir.path().join(format!("other-{}", from.len())));
        let manifest = other.join("manifest.json");
        let text = std::fs::read_to_string(&manifest).expect("manifest");
        assert!(text.contains(from), "{text}");
        std::fs::write(&manifest, text.replace(from, to)).expect("changed");
        let out = restore(&other);
        assert_eq!(out.status.code(), Some(5), "{to}: {}", stderr(&out));
        assert!(stderr(&out).contains("manifest.json"), "{}", stderr(&out));
        assert!(!target.exists(), "nothing written");
    }

    // The intact backup restores; a second restore into the same place is refused.
    ok(&restore(&backup));
    let out = restore(&backup);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
}

fn s_backup_into(s: &Scenario, folder: &Path) -> Output {
    admin(
        s.backend.data_dir(),
        None,
        &[],
        &["backup", "--to", folder.to_str().expect("path")],
    )
}

fn copy_of(from: &Path, to: &Path) -> PathBuf {
    fieldkit_e2e::harness::copy_dir(from, to);
    to.to_path_buf()
}

/// The first file found below `dir`.
fn first_file(dir: &Path) -> PathBuf {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                return path;
            }
        }
    }
    panic!("no file below {}", dir.display());
}

#[test]
fn fsck_names_the_case_of_an_attachment_lost_from_the_file_store() {
    let s = Scenario::new();
    s.kit.capture(2, 30_000);
    synced(&s);
    let clean = ok(&s.backend.admin(&["fsck"]));
    assert!(clean.contains(", 0 problems"), "{clean}");

    let lost = first_file(&s.backend.data_dir().join("attachments"));
    std::fs::write(&lost, b"not the ciphertext").expect("damaged");
    let out = admin(s.backend.data_dir(), None, &[], &["--json", "fsck"]);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let problems = report["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{report}");
    let hash = lost.file_name().and_then(|n| n.to_str()).expect("name");
    assert_eq!(problems[0]["sha256"], hash);
    let cases: Vec<String> = s
        .kit
        .session()
        .records(None, 10)
        .expect("records")
        .into_iter()
        .map(|r| r.record_id.to_string())
        .collect();
    assert!(
        cases.contains(&problems[0]["record_id"].as_str().expect("case").to_owned()),
        "the case is named: {report}"
    );

    // A backup now goes through but says what it could not copy (exit 8).
    let out = s_backup_into(&s, &s.dir.path().join("backup"));
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 attachments"), "{}", stderr(&out));
}

#[test]
fn an_embedded_backup_restores_into_postgresql_and_s3_and_the_kit_heals_it() {
    let Some(schema) = Schema::create() else {
        eprintln!("skipped: FIELDKIT_TEST_DATABASE_URL is not set (scripts/test.sh sets it)");
        return;
    };
    let Some(bucket) = Bucket::create() else {
        eprintln!("skipped: FIELDKIT_TEST_S3_URL is not set (scripts/test.sh sets it)");
        return;
    };
    let mut s = Scenario::new();
    let backup = three_backed_up_and_three_after(&mut s);
    let key = lose_the_backend(&mut s);
    let env = bucket.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let data = s.dir.path().join("production");
    let text = ok(&admin(
        &data,
        Some(&schema.url),
        &env,
        &["restore", "--from", backup.to_str().expect("path")],
    ));
    assert!(text.contains("postgres://"), "{text}");

    let port = free_port();
    let node = BackendProcess::start_with_master_key(
        &data,
        Some(&schema.url),
        port,
        Some(&s.proxy.url()),
        Some(&key),
        &env,
    );
    s.proxy.set_upstream(([127, 0, 0, 1], port).into());
    synced(&s);
    let settled = assert_exactly_once_in(
        &s.kit,
        &DatabaseUrl::Postgres(schema.url.clone()),
        &bucket.config(),
    );
    assert_eq!((settled.records, settled.attachments), (6, 12));

    // The production set-up backs up and checks from PostgreSQL and the bucket too.
    let db = Some(schema.url.as_str());
    let fsck = ok(&admin(&data, db, &env, &["fsck"]));
    assert!(
        fsck.starts_with("12 complete attachments checked in s3"),
        "{fsck}"
    );
    let again = s.dir.path().join("backup-2");
    let text = ok(&admin(
        &data,
        db,
        &env,
        &["backup", "--to", again.to_str().expect("path")],
    ));
    assert!(text.contains("12 attachments"), "{text}");
    drop(node);
}
