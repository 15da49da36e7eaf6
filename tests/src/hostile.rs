//! A hostile load on a backend over loopback, bounded and stopping by itself: what the
//! hostile-load test (`e2e/hostile_load.rs`) and benchmark (`benches/hostile.rs`) run
//! beside an honest kit's sync.
//!
//! - **Unfinished bodies:** unauthenticated `POST /v1/records` announcing 8 MiB − 1
//!   bytes and sending them slowly, reconnecting whenever the server closes.
//! - **Header trickles:** `GET /office/login` and one more header line every few
//!   seconds, never finishing the head; reconnecting when cut off.
//! - **Silent connections:** connect and send nothing.
//! - **Login storm:** parallel `POST /office/login` with made-up names, and parallel
//!   wrong passwords for one real account.
//!
//! Every connection's lifetime (connect → the server closed it) is recorded per kind, so
//! a test can assert that the server cut each one within its configured timeouts. One
//! thread per connection keeps the code plain; the attack is a few hundred threads at
//! most and ends when [`Attack::stop`] is called or its deadline passes.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What to throw at the backend.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Unauthenticated connections announcing a large body.
    pub bodies: usize,
    /// Connections trickling header lines.
    pub trickles: usize,
    /// Time between two trickled header lines.
    pub trickle_every: Duration,
    /// Connections that send nothing.
    pub silent: usize,
    /// Parallel logins with made-up names.
    pub made_up_logins: usize,
    /// A real login name and how many parallel wrong passwords to try for it.
    pub wrong_passwords: Option<(String, usize)>,
    /// The attack stops by itself after this long.
    pub deadline: Duration,
}

/// How the server treated the connections of one kind.
#[derive(Debug, Clone, Default)]
pub struct Kind {
    /// Connections opened.
    pub opened: usize,
    /// Connections the server closed.
    pub closed_by_server: usize,
    /// The longest a connection stayed open until the server closed it.
    pub longest: Duration,
    /// Connections still open when the attack stopped, and the longest of them.
    pub still_open: usize,
    /// How long the longest still-open connection had been open.
    pub longest_open: Duration,
    /// HTTP status codes the server answered with, counted.
    pub statuses: BTreeMap<u16, usize>,
}

impl Kind {
    fn closed(&mut self, lifetime: Duration, status: Option<u16>) {
        self.closed_by_server += 1;
        self.longest = self.longest.max(lifetime);
        if let Some(s) = status {
            *self.statuses.entry(s).or_default() += 1;
        }
    }

    fn open_at_stop(&mut self, lifetime: Duration) {
        self.still_open += 1;
        self.longest_open = self.longest_open.max(lifetime);
    }
}

/// What the attack saw, per kind.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Unfinished bodies.
    pub bodies: Kind,
    /// Header trickles.
    pub trickles: Kind,
    /// Silent connections.
    pub silent: Kind,
    /// Logins with made-up names.
    pub made_up_logins: Kind,
    /// Wrong passwords for the real account.
    pub wrong_passwords: Kind,
}

/// A running attack.
pub struct Attack {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    report: Arc<Mutex<Report>>,
}

type Pick = fn(&mut Report) -> &mut Kind;

/// The status code of an HTTP/1.1 answer's first line.
fn status_of(answer: &[u8]) -> Option<u16> {
    std::str::from_utf8(answer.get(..12)?)
        .ok()?
        .split(' ')
        .nth(1)?
        .parse()
        .ok()
}

/// Whether the server has closed `stream` (reading what it sent, without blocking
/// longer than `wait`); collects the answer's bytes into `answer`.
fn server_closed(stream: &mut TcpStream, answer: &mut Vec<u8>, wait: Duration) -> bool {
    let _ = stream.set_read_timeout(Some(wait));
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => {
                if answer.len() < 4096 {
                    answer.extend_from_slice(&buf[..n]);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

impl Attack {
    /// Starts every part of `plan` against the backend at `addr`.
    pub fn start(addr: SocketAddr, plan: &Plan) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let report = Arc::new(Mutex::new(Report::default()));
        let until = Instant::now() + plan.deadline;
        let mut threads = Vec::new();
        let mut spawn = |pick: Pick, run: Box<dyn Fn(&mut TcpStream) -> Step + Send>| {
            let (stop, report) = (Arc::clone(&stop), Arc::clone(&report));
            threads.push(std::thread::spawn(move || {
                connections(addr, &stop, until, &report, pick, run.as_ref());
            }));
        };
        for _ in 0..plan.bodies {
            spawn(|r| &mut r.bodies, Box::new(unfinished_body));
        }
        for _ in 0..plan.trickles {
            let every = plan.trickle_every;
            spawn(
                |r| &mut r.trickles,
                Box::new(move |s: &mut TcpStream| trickle(s, every)),
            );
        }
        for _ in 0..plan.silent {
            spawn(|r| &mut r.silent, Box::new(|_: &mut TcpStream| Step::Wait));
        }
        for i in 0..plan.made_up_logins {
            let name = format!("erfunden-{i}-{}", std::process::id());
            spawn(
                |r| &mut r.made_up_logins,
                Box::new(move |s: &mut TcpStream| login(s, &name, "falsch-geraten")),
            );
        }
        if let Some((real, n)) = &plan.wrong_passwords {
            for i in 0..*n {
                let (real, password) = (real.clone(), format!("falsch-{i}"));
                spawn(
                    |r| &mut r.wrong_passwords,
                    Box::new(move |s: &mut TcpStream| login(s, &real, &password)),
                );
            }
        }
        Self {
            stop,
            threads,
            report,
        }
    }

    /// Stops the attack, waits for its threads and returns what it saw.
    ///
    /// # Panics
    /// When a thread panicked.
    pub fn stop(self) -> Report {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            t.join().expect("attack thread");
        }
        let report = self.report.lock().expect("report").clone();
        report
    }
}

/// What a connection does after it is open.
enum Step {
    /// Keep writing/waiting until the server closes the connection.
    Wait,
    /// Keep writing this every interval until the server closes the connection.
    Drip(Vec<u8>, Duration),
}

/// One attacker: opens a connection, runs `run`, waits for the server to close it,
/// records the lifetime, and starts over until stopped.
fn connections(
    addr: SocketAddr,
    stop: &AtomicBool,
    until: Instant,
    report: &Mutex<Report>,
    pick: Pick,
    run: &(dyn Fn(&mut TcpStream) -> Step + Send),
) {
    let stopped = || stop.load(Ordering::SeqCst) || Instant::now() > until;
    while !stopped() {
        let Ok(mut stream) = TcpStream::connect(addr) else {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        let opened = Instant::now();
        if let Ok(mut r) = report.lock() {
            pick(&mut r).opened += 1;
        }
        let step = run(&mut stream);
        let mut answer = Vec::new();
        let mut next_drip = Instant::now();
        let closed = loop {
            if stopped() {
                break false;
            }
            if let Step::Drip(bytes, every) = &step {
                if Instant::now() >= next_drip {
                    next_drip = Instant::now() + *every;
                    if stream.write_all(bytes).is_err() {
                        break true;
                    }
                }
            }
            if server_closed(&mut stream, &mut answer, Duration::from_millis(50)) {
                break true;
            }
        };
        let lifetime = opened.elapsed();
        if let Ok(mut r) = report.lock() {
            let kind = pick(&mut r);
            if closed {
                kind.closed(lifetime, status_of(&answer));
            } else {
                kind.open_at_stop(lifetime);
            }
        }
        // A short pause, so a refused attacker does not spin.
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn unfinished_body(stream: &mut TcpStream) -> Step {
    let head = format!(
        "POST /v1/records HTTP/1.1\r\nHost: fieldkit\r\nFieldkit-Protocol: 1\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{{\"envelopes\":[",
        8 * 1024 * 1024 - 1
    );
    let _ = stream.write_all(head.as_bytes());
    Step::Drip(vec![b' '; 64 * 1024], Duration::from_millis(100))
}

fn trickle(stream: &mut TcpStream, every: Duration) -> Step {
    let _ = stream.write_all(b"GET /office/login HTTP/1.1\r\nHost: fieldkit\r\n");
    Step::Drip(b"X-Noch-Eine-Zeile: 1\r\n".to_vec(), every)
}

fn login(stream: &mut TcpStream, name: &str, password: &str) -> Step {
    // The double-submit CSRF token of the login form: any 43-character token, in the
    // cookie and the field alike.
    let csrf = "A".repeat(43);
    let body = format!("csrf={csrf}&login={name}&password={password}");
    let request = format!(
        "POST /office/login HTTP/1.1\r\nHost: fieldkit\r\nConnection: close\r\n\
         Cookie: __Host-fieldkit-login={csrf}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(request.as_bytes());
    Step::Wait
}

/// Peak resident memory (`VmHWM`) of process `pid`, in bytes.
pub fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The short limits the hostile-load test and benchmark configure, in seconds: request
/// head, pause inside a body, whole request.
pub const LIMITS: (u64, u64, u64) = (3, 3, 10);

/// The backend settings for [`LIMITS`].
pub fn short_limits() -> Vec<(String, String)> {
    let (head, body, request) = LIMITS;
    vec![
        (
            "FIELDKIT_HEADER_READ_TIMEOUT_SECONDS".into(),
            head.to_string(),
        ),
        (
            "FIELDKIT_BODY_IDLE_TIMEOUT_SECONDS".into(),
            body.to_string(),
        ),
        (
            "FIELDKIT_REQUEST_TIMEOUT_SECONDS".into(),
            request.to_string(),
        ),
    ]
}

/// The attack of issue 14: 60 unfinished bodies, 20 header trickles (a line every
/// 2 s, under the 3 s head limit, so only the limit cuts them), 10 silent connections,
/// and — when `logins` — 120 parallel made-up logins and 20 parallel wrong passwords for
/// `real_login`.
pub fn issue_14_plan(logins: bool, real_login: &str) -> Plan {
    Plan {
        bodies: 60,
        trickles: 20,
        trickle_every: Duration::from_secs(2),
        silent: 10,
        made_up_logins: if logins { 120 } else { 0 },
        wrong_passwords: logins.then(|| (real_login.to_owned(), 20)),
        deadline: Duration::from_secs(300),
    }
}

/// One honest sync beside an optional attack, on a fresh backend process.
pub struct Run {
    /// The honest kit's `fieldkit --json sync`.
    pub sync: std::process::Output,
    /// How long that sync took.
    pub sync_time: Duration,
    /// The backend's peak RSS over the whole run.
    pub peak_rss: u64,
    /// What the attack saw (`None` without one).
    pub attack: Option<Report>,
    /// The kit, for the exactly-once check.
    pub kit: crate::harness::kit::TestKit,
    /// The backend's database.
    pub database: fieldkit_backend::config::DatabaseUrl,
    /// The backend's data folder.
    pub data: std::path::PathBuf,
    /// The backend process (stopped when dropped).
    pub backend: crate::harness::backend::BackendProcess,
    /// Holds kit and backend folders.
    pub dir: tempfile::TempDir,
}

/// Sets up a backend (`database`, else embedded SQLite) with [`short_limits`] and an
/// enrolled kit holding `records` captured records with a `printout_bytes` scan each;
/// starts `attack` (a plan for the demo reviewer's login), lets it build up for two
/// seconds, runs the honest sync, keeps the attack on until every trickle had time to
/// hit the head limit, and stops it.
///
/// # Panics
/// When a part fails to start.
pub fn run(
    database: Option<&str>,
    records: usize,
    printout_bytes: usize,
    attack: Option<fn(&str) -> Plan>,
) -> Run {
    use crate::harness::backend::{demo, BackendProcess};
    use crate::harness::kit::TestKit;
    let dir = tempfile::tempdir().expect("temp dir");
    let port = crate::harness::free_port();
    let data = dir.path().join("backend");
    let url = format!("http://127.0.0.1:{port}");
    let demo = demo(&data, database, &url);
    let env = short_limits();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let backend = BackendProcess::start_with_env(&data, database, port, None, &env);
    let kit = TestKit::enrolled(&dir.path().join("kit"), &demo);
    kit.capture(records, printout_bytes);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let running = attack.map(|plan| {
        let real = demo
            .users
            .first()
            .map_or("demo-reviewer", |(login, _)| login.as_str());
        let started = Attack::start(addr, &plan(real));
        std::thread::sleep(Duration::from_secs(2));
        started
    });
    let started = Instant::now();
    let sync = kit.sync(None, &["--retry-for", "180"]);
    let sync_time = started.elapsed();
    let report = running.map(|attack| {
        std::thread::sleep(Duration::from_secs(LIMITS.0 + 1));
        attack.stop()
    });
    let peak_rss = backend
        .pid()
        .and_then(peak_rss)
        .expect("the backend's /proc status");
    let database = match database {
        Some(url) => fieldkit_backend::config::DatabaseUrl::Postgres(url.to_owned()),
        None => fieldkit_backend::config::DatabaseUrl::embedded(&data),
    };
    Run {
        sync,
        sync_time,
        peak_rss,
        attack: report,
        kit,
        database,
        data,
        backend,
        dir,
    }
}
