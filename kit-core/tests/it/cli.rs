//! The `fieldkit` binary as scripts and IT staff use it: output, exit codes, bad input,
//! SIGKILL at random points of finalize (≥ 100 times), and a full or read-only disk on a
//! real size-limited tmpfs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use kit_core::{Kit, KitError, RecordState};
use rand_core::{OsRng, RngCore};

use crate::support::{anmeldung, anmeldung_draft, enrolled_kit, printout, CLERK, PIN};

pub(crate) fn fieldkit(home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fieldkit"));
    cmd.arg("--home").arg(home).args(args);
    cmd.env_remove("FIELDKIT_RECOVERY_SECRET")
        .env_remove("FIELDKIT_CLERK")
        .env("FIELDKIT_PIN", PIN);
    cmd
}

pub(crate) fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("fieldkit runs")
}

pub(crate) fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

pub(crate) fn write_inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let data = dir.join("anmeldung.json");
    std::fs::write(&data, anmeldung().to_string()).expect("write data");
    let pdf = dir.join("printout.pdf");
    std::fs::write(&pdf, printout()).expect("write pdf");
    (data, pdf)
}

#[test]
fn init_and_clerk_add_work_from_a_script() {
    let dir = tempfile::tempdir().expect("temp");
    let home = dir.path().join("kit");
    let out = run(fieldkit(&home, &["--json", "init"]).env_remove("FIELDKIT_PIN"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = json(&out)["recovery_secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let again = run(&mut fieldkit(&home, &["init"]));
    assert_eq!(again.status.code(), Some(1), "never overwrites a kit");

    let out = run(
        fieldkit(&home, &["--json", "clerk", "add", "--name", "Clara Müller"])
            .env("FIELDKIT_RECOVERY_SECRET", &secret)
            .env("FIELDKIT_NEW_PIN", PIN),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["id"], CLERK);
    let weak = run(fieldkit(&home, &["clerk", "add", "--name", "Weak"])
        .env("FIELDKIT_RECOVERY_SECRET", &secret)
        .env("FIELDKIT_NEW_PIN", "111111"));
    assert_eq!(weak.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&weak.stderr).contains("PIN too weak"));
    // This machine's tests run without a TPM: a 6-digit PIN is not enough there.
    let short = run(fieldkit(&home, &["clerk", "add", "--name", "Kurz"])
        .env("FIELDKIT_RECOVERY_SECRET", &secret)
        .env("FIELDKIT_NEW_PIN", "739251"));
    assert_eq!(short.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&short.stderr).contains("no TPM"),
        "{}",
        String::from_utf8_lossy(&short.stderr)
    );
    let listed = run(&mut fieldkit(&home, &["--json", "clerk", "list"]));
    assert_eq!(json(&listed).as_array().map(Vec::len), Some(1));
}

/// `fieldkit --json record new --service anmeldung --data DATA --attach ATTACH --finalize`.
fn record_new_finalized(home: &Path, data: &Path, attach: &str) -> Output {
    run(&mut fieldkit(
        home,
        &[
            "--json",
            "record",
            "new",
            "--service",
            "anmeldung",
            "--data",
            data.to_str().expect("utf8"),
            "--attach",
            attach,
            "--finalize",
        ],
    ))
}

#[test]
fn capture_from_the_command_line_prints_case_number_and_verification_code() {
    let f = enrolled_kit();
    let home = f.kit.home().root().to_owned();
    let (data, pdf) = write_inputs(f.dir.path());
    let attach = format!("signed-printout={}", pdf.display());
    let out = record_new_finalized(&home, &data, &attach);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    let case_number = v["case_number"].as_str().expect("case number");
    assert_eq!(v["verification_code"].as_str().map(str::len), Some(9));
    let shown = run(&mut fieldkit(
        &home,
        &["--json", "record", "show", case_number],
    ));
    assert_eq!(json(&shown)["state"], "pending");
    let status = run(&mut fieldkit(&home, &["--json", "status"]));
    assert_eq!(json(&status)["pending"], 1);
    let verify = run(&mut fieldkit(&home, &["--json", "verify"]));
    assert!(verify.status.success());
    assert_eq!(json(&verify)["ok"], true);
    let listed = run(&mut fieldkit(&home, &["--json", "catalog", "list"]));
    assert!(json(&listed).as_array().is_some_and(|a| a.len() >= 9));
}

#[test]
fn bad_input_gets_the_documented_exit_codes_and_stores_nothing() {
    let f = enrolled_kit();
    let home = f.kit.home().root().to_owned();
    let (_, pdf) = write_inputs(f.dir.path());
    let bad = f.dir.path().join("bad.json");
    let mut data = anmeldung();
    data["new_address"]["postal_code"] = "ABCDE".into();
    std::fs::write(&bad, data.to_string()).expect("write");
    let attach = format!("signed-printout={}", pdf.display());

    let out = record_new_finalized(&home, &bad, &attach);
    assert_eq!(out.status.code(), Some(4), "validation failed");
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).expect("JSON error on stderr");
    assert_eq!(err["fields"][0]["pointer"], "/new_address/postal_code");
    assert!(err["fields"][0]["message"]["de"]
        .as_str()
        .is_some_and(|m| m.contains("Postleitzahl")));

    let wrong_pin = run(fieldkit(&home, &["status"]).env("FIELDKIT_PIN", "999999"));
    assert_eq!(wrong_pin.status.code(), Some(3));
    let usage = run(&mut fieldkit(&home, &["record", "new", "--service"]));
    assert_eq!(usage.status.code(), Some(2));
    let unknown = run(&mut fieldkit(
        &home,
        &[
            "record",
            "new",
            "--service",
            "hundesteuer",
            "--data",
            bad.to_str().expect("utf8"),
        ],
    ));
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown service"));
    let not_json = f.dir.path().join("notjson.json");
    std::fs::write(&not_json, "{ nope").expect("write");
    let out = run(&mut fieldkit(
        &home,
        &[
            "record",
            "new",
            "--service",
            "anmeldung",
            "--data",
            not_json.to_str().expect("utf8"),
        ],
    ));
    assert_eq!(out.status.code(), Some(2));
    let odd_file = f.dir.path().join("scan.bmp");
    std::fs::write(&odd_file, b"BM").expect("write");
    let out = run(&mut fieldkit(
        &home,
        &[
            "record",
            "new",
            "--service",
            "anmeldung",
            "--data",
            bad.to_str().expect("utf8"),
            "--attach",
            &format!("signed-printout={}", odd_file.display()),
        ],
    ));
    assert_eq!(out.status.code(), Some(2));

    let s = f.unlock();
    assert!(
        s.records(None, 10).expect("records").is_empty(),
        "nothing finalized"
    );
}

#[test]
fn import_takes_many_applications_in_one_process_and_reports_bad_lines() {
    let f = enrolled_kit();
    let home = f.kit.home().root().to_owned();
    let mut beglaubigung = None;
    for entry in std::fs::read_dir(
        Path::new(fieldkit_catalog::CATALOG_DIR).join("tests/golden/beglaubigung"),
    )
    .expect("dir")
    {
        let p = entry.expect("entry").path();
        if p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("valid"))
        {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&p).expect("read")).expect("json");
            beglaubigung = Some(v["data"].clone());
        }
    }
    let good = beglaubigung.expect("a valid golden").to_string();
    let lines = format!("{good}\n{good}\n{{\"kind\": \"tattoo\"}}\nnot json\n{good}\n");
    let file = f.dir.path().join("batch.jsonl");
    std::fs::write(&file, lines).expect("write");
    let out = run(&mut fieldkit(
        &home,
        &[
            "record",
            "import",
            "--service",
            "beglaubigung",
            "--jsonl",
            file.to_str().expect("utf8"),
            "--finalize",
        ],
    ));
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 3") && stderr.contains("line 4"),
        "{stderr}"
    );
    let s = f.unlock();
    assert_eq!(
        s.records(Some(RecordState::Pending), 10)
            .expect("records")
            .len(),
        3
    );
    assert!(s.verify_chain().expect("verify").ok());
}

/// SIGKILL at a random moment of `fieldkit record finalize`, over and over: every time
/// the application is either finalized exactly once or still a draft, and the chain holds.
#[test]
fn sigkill_at_random_points_of_finalize_never_loses_or_half_writes_an_application() {
    const ITERATIONS: usize = 100;
    let f = enrolled_kit();
    let home = f.kit.home().root().to_owned();

    // How long one finalize takes through the CLI, to spread the kills over it.
    let mut s = f.unlock();
    let draft = anmeldung_draft(&mut s);
    drop(s);
    let started = Instant::now();
    let out = run(&mut fieldkit(&home, &["record", "finalize", &draft]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let full = started.elapsed();

    let (mut finalized, mut interrupted) = (1usize, 0usize);
    for i in 0..ITERATIONS {
        let mut s = f.unlock();
        let draft = anmeldung_draft(&mut s);
        let records_before = s.records(None, 100_000).expect("records").len();
        drop(s);

        let mut child = fieldkit(&home, &["record", "finalize", &draft])
            .spawn()
            .expect("spawn");
        let delay = full.mul_f64(f64::from(OsRng.next_u32() % 1200) / 1000.0);
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL on Unix
        let status = child.wait().expect("wait");

        let s = f.unlock();
        let records_after = s.records(None, 100_000).expect("records").len();
        let draft_left = s.drafts().expect("drafts").iter().any(|d| d.id == draft);
        match (records_after - records_before, draft_left) {
            (1, false) => finalized += 1,
            (0, true) => interrupted += 1,
            other => panic!(
                "iteration {i} (killed after {delay:?}, {status}): records +{}, draft left {}",
                other.0, other.1
            ),
        }
        if i % 10 == 9 {
            let report = s.verify_chain().expect("verify");
            assert!(report.ok(), "iteration {i}: {report:?}");
        }
    }
    let s = f.unlock();
    assert!(s.verify_chain().expect("verify").ok());
    assert_eq!(s.records(None, 100_000).expect("records").len(), finalized);
    eprintln!(
        "sigkill loop: {ITERATIONS} kills, {finalized} finalized, {interrupted} left as drafts"
    );
    assert!(
        finalized > 1 && interrupted > 0,
        "kills should land both before and after the commit"
    );
}

/// A size-limited tmpfs mounted for one test, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount runs");
        assert!(
            status.success(),
            "mounting a tmpfs needs root (CI runs as root); this test cannot run without it"
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, mode: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(self.dir.path())
            .status()
            .expect("mount runs")
            .success();
        assert!(ok, "remount {mode}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Copies a kit folder as IT would (`cp -a`): permissions included — the kit refuses a
/// folder others may enter.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    let mode = std::fs::metadata(from).expect("stat").permissions();
    std::fs::set_permissions(to, mode).expect("chmod");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// An enrolled kit copied onto a fresh 24 MB tmpfs, with a draft ready to finalize.
fn kit_on_tmpfs() -> (Tmpfs, Kit, kit_core::Session, String) {
    let f = enrolled_kit();
    let fs = Tmpfs::mount("24m");
    let home = fs.path().join("kit");
    copy_dir(f.kit.home().root(), &home);
    let kit = Kit::at(&home);
    let mut s = kit.unlock(CLERK, PIN.as_bytes()).expect("unlock on tmpfs");
    let draft = anmeldung_draft(&mut s);
    (fs, kit, s, draft)
}

#[test]
fn a_full_disk_during_finalize_changes_nothing_and_the_store_stays_valid() {
    let (fs, kit, mut s, draft) = kit_on_tmpfs();

    // Fill the disk to the last byte.
    let filler = fs.path().join("filler");
    {
        use std::io::Write as _;
        let mut file = std::fs::File::create(&filler).expect("filler");
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let small = [0u8; 512];
        while file.write_all(&small).is_ok() {}
        let _ = file.sync_all();
    }
    match s.finalize(&draft) {
        Err(KitError::DiskFull) => {}
        other => panic!("expected DiskFull, got {other:?}"),
    }
    assert!(s.records(None, 10).expect("readable").is_empty());
    assert!(
        s.drafts().expect("drafts").iter().any(|d| d.id == draft),
        "the draft is still there"
    );
    drop(s);

    std::fs::remove_file(&filler).expect("free space");
    let mut s = kit.unlock(CLERK, PIN.as_bytes()).expect("unlock after");
    let done = s.finalize(&draft).expect("finalize now works");
    assert_eq!(done.seq, 1);
    assert!(s.verify_chain().expect("verify").ok());
}

#[test]
fn a_read_only_store_refuses_finalize_with_a_clear_error_and_keeps_the_draft() {
    let (fs, kit, s, draft) = kit_on_tmpfs();
    // The kernel refuses to remount while a file is open for writing, so the medium
    // turns read-only between sessions (as an SD card does after I/O errors).
    drop(s);
    fs.remount("ro");
    match kit.unlock(CLERK, PIN.as_bytes()) {
        Ok(mut s) => {
            let result = s.finalize(&draft);
            assert!(
                matches!(result, Err(KitError::ReadOnly)),
                "expected ReadOnly, got {result:?}"
            );
        }
        Err(e) => assert!(
            matches!(e, KitError::ReadOnly),
            "unlock on a read-only medium: {e:?}"
        ),
    }
    fs.remount("rw");
    let s = kit.unlock(CLERK, PIN.as_bytes()).expect("unlock");
    assert!(s.drafts().expect("drafts").iter().any(|d| d.id == draft));
    assert!(s.records(None, 10).expect("records").is_empty());
    assert!(s.verify_chain().expect("verify").ok());
}

#[test]
fn sync_refuses_bad_flags_and_keeps_the_queue_when_the_backend_is_unreachable() {
    let fixture = enrolled_kit();
    let home = fixture.kit.home().root().to_path_buf();
    {
        let mut session = fixture.kit.unlock(CLERK, PIN.as_bytes()).expect("unlock");
        let draft = anmeldung_draft(&mut session);
        session.finalize(&draft).expect("finalize");
    }
    for bad in [
        &["sync", "--chunk-kib", "0"][..],
        &["sync", "--chunk-kib", "5000"],
        &["sync", "--chunk-kib", "many"],
        &["sync", "--parallel-uploads", "0"],
        &["sync", "--parallel-uploads", "4"],
        &["sync", "--retry-for", "-1"],
        &["sync", "--no-such-flag"],
    ] {
        let out = run(&mut fieldkit(&home, bad));
        assert_eq!(out.status.code(), Some(2), "{bad:?} is a usage error");
    }
    let out = run(&mut fieldkit(
        &home,
        &["sync", "--backend", "ftp://example.org"],
    ));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported URL scheme"));
    let out = run(&mut fieldkit(
        &home,
        &["sync", "--backend", "http://fieldkit.example.org"],
    ));
    assert_eq!(out.status.code(), Some(1), "plain HTTP only to loopback");
    let out = run(fieldkit(&home, &["sync"]).env("FIELDKIT_PIN", "000000"));
    assert_eq!(out.status.code(), Some(3), "wrong PIN");

    // The enrolled backend (port 9 on loopback) does not answer: give up, keep all.
    let started = Instant::now();
    let out = run(&mut fieldkit(
        &home,
        &["--json", "sync", "--retry-for", "1", "--backoff-ms", "10"],
    ));
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed().as_secs() < 30);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.lines().any(|l| l.contains("\"retrying\"")),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("gave up"));
    let session = fixture.kit.unlock(CLERK, PIN.as_bytes()).expect("unlock");
    assert_eq!(session.status().expect("status").pending, 1, "nothing lost");
}

#[test]
fn sync_on_a_kit_that_is_not_enrolled_says_so() {
    let dir = tempfile::tempdir().expect("temp");
    let home = dir.path().join("kit");
    let kit = Kit::at(&home);
    let init = kit.init(None).expect("init");
    kit.unlock_recovery(&init.recovery_secret)
        .expect("recovery")
        .add_clerk("Clara Müller", PIN.as_bytes())
        .expect("clerk");
    let out = run(&mut fieldkit(&home, &["sync"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not enrolled"));
}
