//! (a) records per second end to end and (c) the kit's peak RSS while syncing them.

use super::measure::*;
use super::*;

pub(crate) fn bench_a_and_c(n: usize, run_a: bool, run_c: bool) {
    // Filling is set-up, not measured: it runs on tmpfs when there is one (every commit
    // of finalize is an fsync), and the filled kit folder is then copied to disk, where
    // both syncs run.
    let shm = Path::new("/dev/shm");
    let fill_dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("fill dir");
    let filled_home = fill_dir.path().join("kit");
    let Scenario {
        proxy,
        mut backend,
        kit: filling,
        dir,
    } = Scenario::with_kit_home(Some(&filled_home));
    let mut session = filling.session();
    let filled = fill(&mut session, n);
    let (verify_rate, message_bytes) = verify_strict_rate(&session);
    drop(session);
    let copied = Instant::now();
    let kit = TestKit {
        home: dir.path().join("kit"),
        recovery_secret: None,
    };
    copy_dir(&filled_home, &kit.home);
    println!();
    println!(
        "filled {n} records (Anmeldung of three persons, two attachments of {PRINTOUT_BYTES} and {} bytes) in {:.1} s = {:.2} ms/record (finalize included; in {}, then copied to disk in {:.1} s; not part of any figure)",
        LANDLORD.len(),
        secs(filled),
        secs(filled) * 1e3 / n as f64,
        fill_dir.path().display(),
        secs(copied.elapsed())
    );
    println!(
        "reference: ed25519 verify_strict, single core, same run: {verify_rate:.0} verifications/s (these records' signed messages, {message_bytes} bytes on average)"
    );

    // The same queue for (c): both folders copied while nothing has them open.
    let snap_backend = dir.path().join("snapshot-backend");
    let snap_kit = dir.path().join("snapshot-kit");
    if run_c {
        backend.stop();
        copy_dir(backend.data_dir(), &snap_backend);
        copy_dir(&filled_home, &snap_kit);
        backend.restart();
    }
    drop(fill_dir);

    if run_a {
        let pid = backend_pid(backend.data_dir());
        let mut session = kit.session();
        proxy.reset_stats();
        let load_before = load();
        let t = timed_sync(&mut session, &proxy, pid);
        drop(session);
        let r = &t.report;
        assert_eq!(r.delivered, n as u64, "every record delivered: {r:?}");
        assert_eq!((r.pending, r.uploads_open), (0, 0), "nothing left: {r:?}");
        let whole = n as f64 / secs(t.elapsed);
        let push = t.span(Phase::Push).expect("a push phase");
        let push_rate = n as f64 / secs(push.wall);
        let upload = t.span(Phase::Upload).expect("an upload phase");
        println!();
        println!("== (a) sync throughput: {n} queued records end to end (in-process `kit_core::sync::sync`, default options, pass-through proxy, release backend on embedded SQLite) ==");
        println!(
            "  reference: ed25519 verify_strict, single core: {verify_rate:.0}/s; target: records/s >= 0.5 x reference = {:.0}/s",
            0.5 * verify_rate
        );
        println!(
            "  whole run (the issue's figure): {n} records in {:.2} s = {whole:.0} records/s -> ratio {:.3} (target >= 0.5): {}",
            secs(t.elapsed),
            whole / verify_rate,
            verdict(whole / verify_rate >= 0.5)
        );
        println!(
            "  push phase only: {n} records in {:.2} s = {push_rate:.0} records/s -> ratio {:.3} (target >= 0.5): {}",
            secs(push.wall),
            push_rate / verify_rate,
            verdict(push_rate / verify_rate >= 0.5)
        );
        println!(
            "  upload phase: {} attachments, {} bytes in {:.2} s = {:.0} attachments/s",
            r.attachments_uploaded,
            r.bytes_uploaded,
            secs(upload.wall),
            r.attachments_uploaded as f64 / secs(upload.wall)
        );
        t.print_phases();
        println!(
            "  load average (1/5/15 min) before / after: {load_before} / {}",
            load()
        );
        println!("  command: {COMMAND}");
    }
    drop(backend);

    if run_c {
        // A fresh backend node on the copied data behind the same proxy (same public URL).
        let port = free_port();
        let backend = BackendProcess::start(&snap_backend, None, port, Some(&proxy.url()));
        proxy.set_upstream(([127, 0, 0, 1], port).into());
        let kit = TestKit {
            home: snap_kit,
            recovery_secret: None,
        };
        let mut status = kit.cli();
        status.args(["--json", "status"]);
        let base = run_measured(status, &dir.path().join("status.stderr"));
        assert!(base.success, "fieldkit status");
        let pending = base
            .last_line
            .as_ref()
            .and_then(|s| s["pending"].as_u64())
            .unwrap_or(0);
        assert_eq!(pending, n as u64, "the copied kit has the whole queue");
        let mut sync = kit.cli();
        sync.args(["--json", "sync"]);
        let stderr = dir.path().join("sync.stderr");
        let load_before = load();
        let run = run_measured(sync, &stderr);
        assert!(
            run.success,
            "fieldkit sync failed: {}",
            std::fs::read_to_string(&stderr).unwrap_or_default()
        );
        let report = run
            .last_line
            .as_ref()
            .map(|l| l["report"].clone())
            .unwrap_or_default();
        assert_eq!(report["delivered"], n as u64, "{report}");
        assert_eq!(report["pending"], 0, "{report}");
        let peak = run.peak_kib * 1024;
        println!();
        println!("== (c) kit peak RSS: `fieldkit --json sync` (child process, default flags) of the same {n} queued records ==");
        println!(
            "  reference: `fieldkit --json status` on the same kit (unlock incl. Argon2id 64 MiB): peak {:.1} MB ({:.1} MiB)",
            mb(base.peak_kib * 1024),
            base.peak_kib as f64 / 1024.0
        );
        println!(
            "  sync: peak RSS (VmHWM) {:.1} MB ({:.1} MiB) -> {:.2} x the unlock-only peak; {:.1} MB above it; target <= {:.0} MB: {}",
            mb(peak),
            run.peak_kib as f64 / 1024.0,
            run.peak_kib as f64 / base.peak_kib.max(1) as f64,
            mb(peak.saturating_sub(base.peak_kib * 1024)),
            mb(RSS_TARGET_BYTES),
            verdict(peak <= RSS_TARGET_BYTES)
        );
        for (phase, from, max) in &run.phases {
            println!(
                "  phase {phase:<9} from {:>7.2} s: max VmRSS {:.1} MB",
                secs(*from),
                mb(max * 1024)
            );
        }
        println!(
            "  the sync took {:.1} s ({:.0} records/s incl. process start and unlock); {} memory samples",
            secs(run.elapsed),
            n as f64 / secs(run.elapsed),
            run.samples
        );
        println!("  method: /proc/<pid>/status VmHWM polled every 2 ms until exit (the kernel's high-water mark, so only growth in the last poll interval before exit could be missed)");
        println!(
            "  load average (1/5/15 min) before / after: {load_before} / {}",
            load()
        );
        println!("  command: {COMMAND}");
        drop(backend);
    }
}

// ---------------------------------------------------------------------------------------
// (b)
