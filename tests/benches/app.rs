//! The kit app's benchmarks (issue "Kit desktop app", item 7), on the release build:
//!
//! - **Start to interactive:** the `fieldkit-app` process is spawned on a private Xvfb
//!   display with an enrolled kit, and the clock stops when the UI reports its first
//!   screen (the unlock screen, with the clerk list from the kit) through `ui_ready`,
//!   which writes `FIELDKIT_READY_FILE`. Five runs; the first after dropping the page
//!   cache when the machine allows it. Reference in the same run: spawning the `fieldkit`
//!   CLI to print its help (process start without a GUI).
//! - **Memory:** total PSS of the app and every process below it (WebKit's web and
//!   network processes) after capturing `FIELDKIT_BENCH_APPS` (default 10) Anmeldungen
//!   through the UI over WebDriver, each with a scanned attachment and a drawn signature.
//!   Reference in the same run: the same sum right after unlocking. The app makes its
//!   own compositing choice (`FIELDKIT_COMPOSITING=auto`: off without a GPU) and runs
//!   JavaScriptCore's baseline compilers (`FIELDKIT_JIT=baseline`); set either variable
//!   to measure another choice (`on`/`off`, `full`/`off`). The time the applications
//!   took is printed: the cost of slower compilers shows there.
//!
//! `cargo bench -p fieldkit-e2e --bench app` (Xvfb, webkit2gtk-driver, tauri-driver and
//! a built `ui/dist`, as for the tests). Targets: ≤ 1.0 s and ≤ 350 MB (issue 18).

#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fieldkit_e2e::harness::app::{app_bin, App, Display};
use fieldkit_e2e::harness::app_flows::capture_anmeldung;
use fieldkit_e2e::harness::backend::{demo, BackendProcess};
use fieldkit_e2e::harness::bins::bin;
use fieldkit_e2e::harness::kit::TestKit;
use fieldkit_e2e::harness::{free_port, PIN};

fn drop_page_cache() -> bool {
    // Needs root and a kernel that lets this container do it; otherwise warm starts only.
    std::fs::write("/proc/sys/vm/drop_caches", b"3\n").is_ok()
}

/// Milliseconds from spawn to the UI's first screen.
fn start_once(app: &Path, home: &Path, display: &str) -> f64 {
    let ready = home.with_extension("ready");
    let _ = std::fs::remove_file(&ready);
    let started = Instant::now();
    let mut child = Command::new(app)
        .env("DISPLAY", display)
        .env("FIELDKIT_HOME", home)
        .env("FIELDKIT_READY_FILE", &ready)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the app starts");
    let took = loop {
        if ready.exists() {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no first screen within 60 s"
        );
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the app exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    took.as_secs_f64() * 1000.0
}

fn reference_start() -> f64 {
    let cli = bin("fieldkit");
    let started = Instant::now();
    let out = Command::new(&cli)
        .arg("--help")
        .output()
        .expect("fieldkit runs");
    assert!(out.status.success());
    started.elapsed().as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The pid of the running app (whose executable is `exe`).
/// The app this bench started (below this process, through tauri-driver and
/// WebKitWebDriver): not another instance of the same binary a test runs meanwhile.
fn app_pid(exe: &Path) -> u32 {
    let exe = std::fs::canonicalize(exe).expect("app path");
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|&pid| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| p == exe)
                && is_below(pid, me)
        })
        .expect("the app is running")
}

/// Whether `pid` is `root` or one of its descendants.
fn is_below(mut pid: u32, root: u32) -> bool {
    loop {
        if pid == root {
            return true;
        }
        match parent_of(pid) {
            Some(p) if p > 1 => pid = p,
            _ => return false,
        }
    }
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // pid (comm) state ppid …; comm may contain spaces, so split after the last ')'.
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Total PSS in kB of `root` and every process below it, and each one's name, PSS and
/// anonymous part.
fn tree_pss_kb(root: u32) -> (u64, Vec<String>) {
    let pids: Vec<u32> = std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .collect();
    let mut total = 0;
    let mut names = Vec::new();
    for pid in pids.into_iter().filter(|&p| is_below(p, root)) {
        let Ok(rollup) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
            continue;
        };
        let field = |name: &str| -> u64 {
            rollup
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        let pss = field("Pss:");
        total += pss;
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        // Anonymous memory (heaps, JavaScript, images) apart from mapped files (libraries).
        names.push(format!(
            "{} {} MB (anon {})",
            comm.trim(),
            pss / 1024,
            field("Pss_Anon:") / 1024
        ));
    }
    (total, names)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let data = dir.path().join("backend");
    let demo = demo(&data, None, &format!("http://127.0.0.1:{port}"));
    let _backend = BackendProcess::start(&data, None, port, None);
    let home = dir.path().join("kit");
    TestKit::enrolled(&home, &demo);
    let app = app_bin();

    println!("== start to interactive (release build, unlock screen of an enrolled kit)");
    let display = Display::start();
    let cold = drop_page_cache();
    let mut runs = Vec::new();
    for i in 0..5 {
        let ms = start_once(&app, &home, &display.name);
        let label = if i == 0 && cold {
            " (page cache dropped)"
        } else {
            ""
        };
        println!("run {}: {ms:.0} ms{label}", i + 1);
        runs.push(ms);
    }
    let reference = median((0..5).map(|_| reference_start()).collect());
    let typical = median(runs.clone());
    println!(
        "median {typical:.0} ms = {:.2}× the 1.0 s target; first run {:.0} ms; reference `fieldkit --help` {reference:.1} ms (app/reference {:.0}×)",
        typical / 1000.0,
        runs[0],
        typical / reference
    );
    drop(display);

    let count: usize = std::env::var("FIELDKIT_BENCH_APPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    println!("== memory: total PSS of the app and its WebKit processes");
    let scan = dir.path().join("scan.pdf");
    std::fs::write(&scan, b"%PDF-1.7\n% scan\n%%EOF\n").expect("scan");
    // The app's own compositing choice for this machine (the harness forces it on for
    // the tests' screenshots; this bench takes none).
    let compositing = std::env::var("FIELDKIT_COMPOSITING").unwrap_or_else(|_| "auto".into());
    // Likewise JavaScriptCore's compilers (`baseline` unless set).
    let jit = std::env::var("FIELDKIT_JIT").unwrap_or_else(|_| "baseline".into());
    println!("compositing: FIELDKIT_COMPOSITING={compositing}; compilers: FIELDKIT_JIT={jit}");
    let ui = App::start(
        &home,
        &[
            ("FIELDKIT_COMPOSITING", &compositing),
            ("FIELDKIT_JIT", &jit),
        ],
    )
    .await;
    ui.wait_for("screen-unlock", 30).await;
    ui.type_into("pin", PIN).await;
    ui.click("unlock-submit").await;
    ui.wait_for("screen-home", 30).await;
    let pid = app_pid(&app);
    let (at_unlock, names) = tree_pss_kb(pid);
    println!(
        "after unlock: {} MB (reference) [{}]",
        at_unlock / 1024,
        names.join(", ")
    );
    let started = Instant::now();
    for i in 0..count {
        let case = capture_anmeldung(&ui, &scan).await;
        println!("captured {}/{count}: {case}", i + 1);
    }
    let (after, names) = tree_pss_kb(pid);
    println!(
        "after {count} applications ({:.0} s): {} MB = {:.2}× the 350 MB target, {:.2}× the PSS after unlock [{}]",
        started.elapsed().as_secs_f64(),
        after / 1024,
        after as f64 / (350.0 * 1024.0),
        after as f64 / at_unlock as f64,
        names.join(", ")
    );
    ui.quit().await;
    let _keep: PathBuf = home;
}
