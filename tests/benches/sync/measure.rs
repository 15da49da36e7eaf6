//! Measuring a sync from the outside: CPU time per process from `/proc`, phase
//! boundaries from the engine's events, and a child process's peak RSS.

use super::*;

/// utime + stime of `/proc/<path>/stat`.
pub(crate) fn cpu_time(stat_path: &Path) -> Option<Duration> {
    let text = std::fs::read_to_string(stat_path).ok()?;
    // Fields after the command name (which may hold spaces) start at field 3 (state);
    // utime and stime are fields 14 and 15.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_secs_f64(ticks as f64 / TICKS_PER_SEC))
}

/// The pid of the `fieldkit-backend serve` serving `data_dir`.
pub(crate) fn backend_pid(data_dir: &Path) -> Option<u32> {
    let want = data_dir.to_string_lossy().into_owned();
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        (args.iter().any(|a| a == "serve") && args.contains(&want)).then_some(pid)
    })
}

/// CPU used so far by the kit (this process without the proxy's thread), the proxy's
/// thread and the backend process.
#[derive(Clone, Copy, Default)]
pub(crate) struct Cpu {
    pub(crate) kit: Duration,
    pub(crate) proxy: Duration,
    pub(crate) backend: Duration,
}

impl Cpu {
    pub(crate) fn sample(backend_pid: Option<u32>) -> Self {
        let total = cpu_time(Path::new("/proc/self/stat")).unwrap_or_default();
        let proxy = std::fs::read_dir("/proc/self/task")
            .map(|tasks| {
                tasks
                    .flatten()
                    .filter(|t| {
                        std::fs::read_to_string(t.path().join("comm"))
                            .is_ok_and(|c| c.starts_with("fault-proxy"))
                    })
                    .filter_map(|t| cpu_time(&t.path().join("stat")))
                    .sum()
            })
            .unwrap_or_default();
        let backend = backend_pid
            .and_then(|pid| cpu_time(&Path::new("/proc").join(pid.to_string()).join("stat")))
            .unwrap_or_default();
        Self {
            kit: total.saturating_sub(proxy),
            proxy,
            backend,
        }
    }

    pub(crate) fn since(self, earlier: Cpu) -> Cpu {
        Cpu {
            kit: self.kit.saturating_sub(earlier.kit),
            proxy: self.proxy.saturating_sub(earlier.proxy),
            backend: self.backend.saturating_sub(earlier.backend),
        }
    }
}

// ---------------------------------------------------------------------------------------
// One in-process sync, timed per phase

/// A phase boundary: when, what the proxy had counted, CPU so far.
#[derive(Clone, Copy)]
pub(crate) struct Mark {
    pub(crate) at: Duration,
    pub(crate) proxy: Stats,
    pub(crate) cpu: Cpu,
}

pub(crate) struct Timed {
    pub(crate) report: SyncReport,
    pub(crate) elapsed: Duration,
    /// Each phase with its start.
    pub(crate) phases: Vec<(Phase, Mark)>,
    pub(crate) start: Mark,
    pub(crate) end: Mark,
    /// Sum of the backoff sleeps announced by `Retrying` events.
    pub(crate) backoff: Duration,
}

/// One phase's span.
pub(crate) struct Span {
    pub(crate) wall: Duration,
    pub(crate) proxy_up: u64,
    pub(crate) resets: u64,
    pub(crate) cpu: Cpu,
}

impl Timed {
    pub(crate) fn span(&self, phase: Phase) -> Option<Span> {
        let i = self.phases.iter().position(|(p, _)| *p == phase)?;
        let from = self.phases[i].1;
        let to = self.phases.get(i + 1).map_or(self.end, |(_, m)| *m);
        Some(Span {
            wall: to.at.saturating_sub(from.at),
            proxy_up: to.proxy.upstream_bytes - from.proxy.upstream_bytes,
            resets: to.proxy.resets - from.proxy.resets,
            cpu: to.cpu.since(from.cpu),
        })
    }

    pub(crate) fn print_phases(&self) {
        for (phase, _) in &self.phases {
            if let Some(s) = self.span(*phase) {
                println!(
                    "  phase {:<9} {:>8.2} s wall | CPU: kit {:>6.2} s, backend {:>6.2} s, proxy {:>5.2} s | upstream {:>7.2} MB, resets {}",
                    format!("{phase:?}"),
                    secs(s.wall),
                    secs(s.cpu.kit),
                    secs(s.cpu.backend),
                    secs(s.cpu.proxy),
                    mb(s.proxy_up),
                    s.resets
                );
            }
        }
        let cpu = self.end.cpu.since(self.start.cpu);
        println!(
            "  whole run {:>8.2} s wall | CPU: kit {:>6.2} s, backend {:>6.2} s, proxy {:>5.2} s | {} retries, {:.2} s of backoff sleeps",
            secs(self.elapsed),
            secs(cpu.kit),
            secs(cpu.backend),
            secs(cpu.proxy),
            self.report.retries,
            secs(self.backoff)
        );
    }
}

/// `kit_core::sync::sync` with default options through the kit's enrolled URL (the
/// proxy), marking every phase.
pub(crate) fn timed_sync(
    session: &mut Session,
    proxy: &FaultProxy,
    backend_pid: Option<u32>,
) -> Timed {
    let client = session.backend().expect("backend client");
    let options = SyncOptions::default();
    let cancel = CancelToken::new();
    let mut phases = Vec::new();
    let mut backoff = Duration::ZERO;
    let started = Instant::now();
    let mark = |started: Instant| Mark {
        at: started.elapsed(),
        proxy: proxy.stats(),
        cpu: Cpu::sample(backend_pid),
    };
    let start = mark(started);
    let report = sync::sync(
        session,
        &client,
        &options,
        &cancel,
        &mut |event| match event {
            SyncEvent::Phase { phase } => phases.push((*phase, mark(started))),
            SyncEvent::Retrying { delay_ms, .. } => backoff += Duration::from_millis(*delay_ms),
            _ => {}
        },
    )
    .expect("sync");
    let end = mark(started);
    Timed {
        report,
        elapsed: end.at,
        phases,
        start,
        end,
        backoff,
    }
}

// ---------------------------------------------------------------------------------------
// Peak RSS of a child process

pub(crate) struct ChildRun {
    pub(crate) peak_kib: u64,
    pub(crate) samples: usize,
    pub(crate) elapsed: Duration,
    /// Phase → (start, max VmRSS KiB during it).
    pub(crate) phases: Vec<(String, Duration, u64)>,
    pub(crate) last_line: Option<serde_json::Value>,
    pub(crate) success: bool,
}

/// `VmRSS` and `VmHWM` of `pid` in KiB (none once it exited).
pub(crate) fn rss_of(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Runs `cmd`, polling its memory every 2 ms until it exits; reads its JSON lines (the
/// `phase` events mark which phase each sample belongs to).
pub(crate) fn run_measured(mut cmd: Command, stderr_to: &Path) -> ChildRun {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::from(File::create(stderr_to).expect("stderr file")))
        .spawn()
        .expect("child starts");
    let pid = child.id();
    let started = Instant::now();
    let stdout = child.stdout.take().expect("stdout");
    let phase_starts: Arc<Mutex<Vec<(String, Duration)>>> = Arc::default();
    let reader = {
        let phase_starts = Arc::clone(&phase_starts);
        std::thread::spawn(move || {
            let mut last = None;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                if value["event"] == "phase" {
                    let name = value["phase"].as_str().unwrap_or("?").to_owned();
                    if let Ok(mut p) = phase_starts.lock() {
                        p.push((name, started.elapsed()));
                    }
                }
                last = Some(value);
            }
            last
        })
    };
    // Max VmRSS per phase index (0: before the first phase event).
    let mut max_rss: Vec<u64> = vec![0];
    let mut samples = 0;
    let mut peak_kib = 0;
    let status = loop {
        let phase = phase_starts.lock().map_or(0, |p| p.len());
        if let Some((rss, hwm)) = rss_of(pid) {
            samples += 1;
            peak_kib = peak_kib.max(hwm);
            if max_rss.len() <= phase {
                max_rss.resize(phase + 1, 0);
            }
            max_rss[phase] = max_rss[phase].max(rss);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = started.elapsed();
    let last_line = reader.join().expect("reader thread");
    let starts = phase_starts.lock().map(|p| p.clone()).unwrap_or_default();
    let phases = starts
        .into_iter()
        .enumerate()
        .map(|(i, (name, from))| (name, from, max_rss.get(i + 1).copied().unwrap_or(0)))
        .collect();
    ChildRun {
        peak_kib,
        samples,
        elapsed,
        phases,
        last_line,
        success: status.success(),
    }
}

// ---------------------------------------------------------------------------------------
// (a) and (c)
