//! `docs/OPERATIONS.md` cannot rot: every ```` ```sh ```` block in it runs, in document
//! order, as one simulated shell session of an IT administrator against a throwaway
//! installation — a temporary data folder, a master key the guide itself generates
//! outside it, the package's configuration file, a self-signed TLS certificate, a copy of
//! the catalog, and the debug `fieldkit-backend` and `fieldkit` on `PATH` under their real
//! names. The guide uses environment variables (`$FIELDKIT_DATA_DIR`, …), never fake
//! values; this runner sets them (section 0 of the guide lists them).
//!
//! Fences and what happens to them:
//!
//! - ```` ```sh [server] [restart] [sqlite|postgres] ````: run with `bash -euo pipefail`;
//!   variables a block sets are seen by the later ones (as in one shell). `server`: the
//!   runner has `fieldkit-backend serve` running first (free loopback ports, TLS);
//!   `restart`: it restarts it first; `sqlite`/`postgres`: only on that database.
//! - ```` ```sh-package ````: commands only a packaged installation can run (apt,
//!   systemctl, runuser, a kit's USB stick). Here every `fieldkit-backend` / `fieldkit`
//!   call in command position must parse: it is run with `--help` appended (unknown
//!   subcommands, flags or bad values fail). The blocks themselves run, in document
//!   order, against the installed .deb on a machine where systemd is PID 1:
//!   `tests/packages/test-guide-systemd.sh` boots a Debian container and takes them from
//!   `export_package_blocks` (the test `the_package_blocks_are_exported_for_the_systemd_run`
//!   writes them to the folder `FIELDKIT_GUIDE_PACKAGE_BLOCKS` names), so this file stays
//!   the one reader of the guide's Markdown.
//! - ```` ```toml ````: must read as a backend configuration
//!   (`ConfigLayer::from_file`: every key exists, every value has its type).
//! - ```` ```text ````, ```` ```ini ````, ```` ```yaml ````, …: listed, not run.
//! - a fence without a language fails the test: every block says what it is.
//!
//! It also fails when the guide has no ```` ```sh ```` block, and when a metric
//! `fieldkit_…` the guide names is not one the backend exports (checked against its own
//! registry with a sample in every family).
//!
//! The runner runs on SQLite always and on PostgreSQL (a fresh database on the cluster of
//! `FIELDKIT_TEST_DATABASE_URL`) when that is set — required under CI.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fieldkit_backend::config::ConfigLayer;
use fieldkit_e2e::harness::bins::bin;
use fieldkit_e2e::harness::pg::{execute, PG_ENV};
use fieldkit_e2e::harness::{copy_dir, free_port};

/// Longest time one block may take.
const BLOCK_TIMEOUT: Duration = Duration::from_secs(300);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace above tests/")
        .to_path_buf()
}

mod markdown;
use markdown::{blocks, command_lines, fieldkit_calls, metric_names, Block};

/// Which database the throwaway installation uses.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Db {
    Sqlite,
    /// The URL of a fresh database of its own.
    Postgres(String),
}

impl Db {
    fn runs(&self, attrs: &[String]) -> bool {
        let has = |a: &str| attrs.iter().any(|x| x == a);
        match self {
            Self::Sqlite => !has("postgres"),
            Self::Postgres(_) => !has("sqlite"),
        }
    }
}

/// The throwaway installation and the shell session over it.
struct Session {
    dir: tempfile::TempDir,
    env: BTreeMap<String, String>,
    state: PathBuf,
    home: PathBuf,
    ops: String,
    server: Option<Child>,
    log: PathBuf,
}

impl Session {
    fn new(db: &Db) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().to_path_buf();
        let etc = root.join("etc");
        let tls = etc.join("tls");
        let home = root.join("home");
        for d in [&tls, &home, &root.join("data")] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        // The package's configuration, as installed to /etc/fieldkit/backend.toml; the
        // variables below take the place of its paths and addresses.
        let package_config = workspace().join("packaging/backend/backend.toml");
        let config = if package_config.exists() {
            package_config
        } else {
            workspace().join("backend/fieldkit-backend.example.toml")
        };
        std::fs::copy(&config, etc.join("backend.toml")).expect("config copied");
        let cert = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
        ])
        .expect("certificate");
        std::fs::write(tls.join("fullchain.pem"), cert.cert.pem()).expect("cert");
        std::fs::write(tls.join("privkey.pem"), cert.signing_key.serialize_pem()).expect("key");
        let catalog = root.join("katalog");
        copy_dir(&workspace().join("catalog"), &catalog);
        let (port, ops_port) = (free_port(), free_port());
        let bin_dir = bin("fieldkit-backend")
            .parent()
            .expect("target dir")
            .to_path_buf();
        assert!(
            bin_dir.join("fieldkit").exists(),
            "the kit CLI `fieldkit` was not built"
        );
        let path = |p: &Path| p.display().to_string();
        let mut env = BTreeMap::new();
        let mut set = |k: &str, v: String| {
            env.insert(k.to_owned(), v);
        };
        set(
            "PATH",
            format!(
                "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                path(&bin_dir)
            ),
        );
        set("HOME", path(&home));
        set("USER", "ops-guide".into());
        set("LANG", "C.UTF-8".into());
        set("TZ", "UTC".into());
        set("FIELDKIT_CONFIG", path(&etc.join("backend.toml")));
        set("FIELDKIT_DATA_DIR", path(&root.join("data")));
        set("FIELDKIT_MASTER_KEY_FILE", path(&etc.join("master.key")));
        set("FIELDKIT_LISTEN", format!("127.0.0.1:{port}"));
        set("FIELDKIT_OPS_LISTEN", format!("127.0.0.1:{ops_port}"));
        set(
            "FIELDKIT_PUBLIC_BASE_URL",
            format!("https://127.0.0.1:{port}"),
        );
        set("FIELDKIT_TLS_CERT", path(&tls.join("fullchain.pem")));
        set("FIELDKIT_TLS_KEY", path(&tls.join("privkey.pem")));
        set("KIT_TLS_CERT", path(&tls.join("fullchain.pem")));
        set("FIELDKIT_CATALOG_DIR", path(&catalog));
        set("BACKUP_DIR", path(&root.join("backup")));
        set(
            "FIELDKIT_PASSWORD",
            format!("Initial-{}", uuid::Uuid::new_v4().simple()),
        );
        // No TPM here (kits then need a passphrase, which the guide's probe kit has).
        set("FIELDKIT_TPM_TCTI", "none".into());
        // Restarts in the guide need not wait the production grace time.
        set("FIELDKIT_SHUTDOWN_GRACE_SECONDS", "2".into());
        if let Db::Postgres(url) = db {
            set("FIELDKIT_DATABASE_URL", url.clone());
        }
        let state = root.join("shell-state.sh");
        std::fs::write(&state, "").expect("state file");
        Self {
            log: root.join("serve.log"),
            ops: format!("127.0.0.1:{ops_port}"),
            dir,
            env,
            state,
            home,
            server: None,
        }
    }

    /// `bash -c SCRIPT` in a new session (no terminal to prompt on), in the admin's home.
    fn bash(&self, script: &str) -> Result<std::process::Output, String> {
        let mut child = Command::new("setsid")
            .args(["--wait", "bash", "-c", script])
            .env_clear()
            .envs(&self.env)
            .current_dir(&self.home)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("bash does not start: {e}"))?;
        let mut stdout = child.stdout.take().expect("stdout");
        let mut stderr = child.stderr.take().expect("stderr");
        let out_reader = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = stdout.read_to_end(&mut v);
            v
        });
        let err_reader = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = stderr.read_to_end(&mut v);
            v
        });
        let deadline = Instant::now() + BLOCK_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {} s", BLOCK_TIMEOUT.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Ok(std::process::Output {
            status,
            stdout: out_reader.join().unwrap_or_default(),
            stderr: err_reader.join().unwrap_or_default(),
        })
    }

    /// Runs a ```` ```sh ```` block as the next part of the shell session.
    fn run_block(&self, block: &Block) -> Result<String, String> {
        let state = self.state.display();
        let script = format!(
            "set -euo pipefail\nset -a\n. '{state}'\n{body}\nexport -p > '{state}.new'\nmv '{state}.new' '{state}'\n",
            body = block.body
        );
        let out = self.bash(&script)?;
        let text = format!(
            "--- stdout\n{}--- stderr\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(text)
        } else {
            Err(format!("exited with {}\n{text}", out.status))
        }
    }

    /// `CALL --help` in the session's environment must succeed and print a usage.
    fn check_call(&self, call: &str) -> Result<(), String> {
        let state = self.state.display();
        let out = self.bash(&format!("set -a\n. '{state}'\nset +a\n{call} --help"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.success() && stdout.contains("Usage:") {
            Ok(())
        } else {
            Err(format!(
                "`{call} --help` does not parse ({}): {}{}",
                out.status,
                stdout,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn start_server(&mut self) -> Result<(), String> {
        if self.server.is_some() {
            return Ok(());
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| e.to_string())?;
        let mut child = Command::new(bin("fieldkit-backend"))
            .arg("serve")
            .env_clear()
            .envs(&self.env)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().map_err(|e| e.to_string())?))
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| format!("serve does not start: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if http_get(&self.ops, "/readyz").is_some_and(|(status, _)| status == 200) {
                self.server = Some(child);
                return Ok(());
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "serve exited with {status}; log:\n{}",
                    self.server_log()
                ));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "serve is not ready after 30 s; log:\n{}",
                    self.server_log()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop_server(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn server_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = &self.dir;
    }
}

/// A plain HTTP GET on loopback: status and body.
fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.split_whitespace().nth(1)?.parse().ok()?;
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    Some((status, body))
}

/// Every metric the guide names is one the backend exports: checked against the
/// backend's own registry with a sample in every family (a family without samples, e.g.
/// `fieldkit_records_total` before the first record, is absent from a fresh `/metrics`).
fn check_metric_names(markdown: &str) -> Result<(), String> {
    let metrics = fieldkit_backend::metrics::Metrics::new();
    metrics.record("accepted", "none");
    metrics.batch(0.01);
    metrics.upload_bytes(1);
    metrics.request("/v1/records", 200);
    metrics.kit_queue_blocked("cannot_resend");
    let text = metrics.render();
    for name in metric_names(markdown) {
        if !text.contains(&name) {
            return Err(format!(
                "the guide names the metric {name}, the backend has no such one"
            ));
        }
    }
    Ok(())
}

/// What a run did.
#[derive(Debug, Default)]
struct Report {
    executed_blocks: usize,
    executed_commands: usize,
    skipped_for_database: Vec<usize>,
    checked_calls: usize,
    checked_toml: usize,
    listed: Vec<String>,
}

/// Runs the guide's text on `db`.
fn run_guide(markdown: &str, db: &Db) -> Result<Report, String> {
    let all = blocks(markdown)?;
    if !all.iter().any(|b| b.lang == "sh") {
        return Err("the guide has no ```sh block: nothing of it would be tested".into());
    }
    let mut session = Session::new(db);
    let mut report = Report::default();
    for block in &all {
        let at = format!("line {} ({})", block.line, block.section);
        match block.lang.as_str() {
            "sh" => {
                if let Some(unknown) = block
                    .attrs
                    .iter()
                    .find(|a| !["server", "restart", "sqlite", "postgres"].contains(&a.as_str()))
                {
                    return Err(format!("{at}: unknown word `{unknown}` after ```sh"));
                }
                if !db.runs(&block.attrs) {
                    report.skipped_for_database.push(block.line);
                    continue;
                }
                if block.attrs.iter().any(|a| a == "restart") {
                    session.stop_server();
                }
                if block.attrs.iter().any(|a| a == "server" || a == "restart") {
                    session.start_server().map_err(|e| format!("{at}: {e}"))?;
                }
                let started = Instant::now();
                let out = session
                    .run_block(block)
                    .map_err(|e| format!("{at}: the block failed\n{}\n{e}", block.body))?;
                eprintln!(
                    "ran {at} in {:.1} s\n{}{out}",
                    started.elapsed().as_secs_f64(),
                    block.body
                );
                report.executed_blocks += 1;
                report.executed_commands += command_lines(&block.body).len();
            }
            "sh-package" => {
                for line in command_lines(&block.body) {
                    for call in fieldkit_calls(&line) {
                        session
                            .check_call(&call)
                            .map_err(|e| format!("{at}: {e}"))?;
                        report.checked_calls += 1;
                    }
                }
                report
                    .listed
                    .push(format!("{at}: sh-package (calls checked with --help)"));
            }
            "toml" => {
                let file = session
                    .dir
                    .path()
                    .join(format!("guide-{}.toml", block.line));
                std::fs::write(&file, &block.body).map_err(|e| e.to_string())?;
                ConfigLayer::from_file(&file).map_err(|e| {
                    format!(
                        "{at}: not a valid backend configuration: {e}\n{}",
                        block.body
                    )
                })?;
                report.checked_toml += 1;
            }
            other => report.listed.push(format!("{at}: {other} (not run)")),
        }
    }
    check_metric_names(markdown)?;
    session.stop_server();
    Ok(report)
}

/// Writes the guide's ```` ```sh-package ```` blocks into `dir` for
/// `tests/packages/test-guide-systemd.sh`: `index.tsv` with one line per block in
/// document order (the opening fence's line, a tab, the heading it stands under) and
/// `<line>.sh` with the block's content. Returns how many blocks it wrote.
fn export_package_blocks(markdown: &str, dir: &Path) -> Result<usize, String> {
    let package: Vec<Block> = blocks(markdown)?
        .into_iter()
        .filter(|b| b.lang == "sh-package")
        .collect();
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut index = String::new();
    for block in &package {
        if block.section.contains('\t') {
            return Err(format!("line {}: a tab in the heading", block.line));
        }
        index.push_str(&format!("{}\t{}\n", block.line, block.section));
        let file = dir.join(format!("{}.sh", block.line));
        std::fs::write(&file, &block.body).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    let file = dir.join("index.tsv");
    std::fs::write(&file, index).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(package.len())
}

fn guide() -> String {
    std::fs::read_to_string(workspace().join("docs/OPERATIONS.md")).expect("docs/OPERATIONS.md")
}

fn run_and_report(db: &Db) {
    // The tools the guide's commands use besides Fieldkit's own (Debian packages jq,
    // sqlite3, curl; postgresql-client).
    let mut tools = vec!["bash", "setsid", "jq", "sqlite3", "curl", "sha256sum"];
    if matches!(db, Db::Postgres(_)) {
        tools.extend(["pg_dump", "pg_restore", "psql"]);
    }
    for tool in tools {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(found, "the operations guide needs `{tool}` (apt-get install jq sqlite3 curl postgresql-client)");
    }
    let started = Instant::now();
    let report = run_guide(&guide(), db).unwrap_or_else(|e| panic!("docs/OPERATIONS.md: {e}"));
    eprintln!(
        "docs/OPERATIONS.md on {db:?}: {} blocks with {} commands run, {} skipped for the \
         other database (lines {:?}), {} fieldkit calls in sh-package blocks parsed, {} toml \
         blocks read, in {:.1} s; not run:\n  {}",
        report.executed_blocks,
        report.executed_commands,
        report.skipped_for_database.len(),
        report.skipped_for_database,
        report.checked_calls,
        report.checked_toml,
        started.elapsed().as_secs_f64(),
        report.listed.join("\n  ")
    );
    assert!(report.executed_blocks > 0, "no block ran");
}

#[test]
fn operations_guide_runs_on_sqlite() {
    run_and_report(&Db::Sqlite);
}

#[test]
fn operations_guide_runs_on_postgres() {
    let Ok(base) = std::env::var(PG_ENV) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{PG_ENV} must be set under CI (scripts/test.sh starts PostgreSQL)"
        );
        eprintln!("{PG_ENV} not set: the guide's PostgreSQL blocks are not run");
        return;
    };
    let name = format!("fk_ops_{}", uuid::Uuid::new_v4().simple());
    let url = database_url(&base, &name);
    execute(&base, &format!("CREATE DATABASE {name}"));
    let result = std::panic::catch_unwind(|| run_and_report(&Db::Postgres(url)));
    execute(
        &base,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// `base` with its database name replaced by `name`.
fn database_url(base: &str, name: &str) -> String {
    let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
    let slash = rest.find('/').unwrap_or(rest.len());
    let query = rest[slash..].find('?').map_or("", |q| &rest[slash + q..]);
    format!("{scheme}://{}/{name}{query}", &rest[..slash])
}

// The runner itself: it cannot pass a guide that is broken or empty.

#[test]
fn the_runner_fails_a_guide_whose_command_fails_and_names_the_line() {
    let md = "# Guide\n\n## Step\n\n```sh\ntrue\n```\n\n```sh\nfieldkit-backend admin no-such-command\n```\n";
    let err = run_guide(md, &Db::Sqlite).expect_err("a failing command fails the guide");
    assert!(err.contains("line 9 (Step)"), "{err}");
}

#[test]
fn the_runner_fails_a_guide_without_sh_blocks_or_with_an_untagged_block() {
    let err = run_guide("# Guide\n\n```text\nls\n```\n", &Db::Sqlite).expect_err("vacuous");
    assert!(err.contains("no ```sh block"), "{err}");
    let err =
        run_guide("# G\n\n```\nls\n```\n```sh\ntrue\n```\n", &Db::Sqlite).expect_err("untagged");
    assert!(err.contains("without a language"), "{err}");
}

#[test]
fn the_runner_checks_package_commands_toml_and_metric_names() {
    let err = run_guide(
        "```sh\ntrue\n```\n```sh-package\nsudo fieldkit-backend admin kit revoke K --reason x --no-such-flag\n```\n",
        &Db::Sqlite,
    )
    .expect_err("an unknown flag");
    assert!(err.contains("--no-such-flag"), "{err}");
    let err = run_guide(
        "```sh\ntrue\n```\n```toml\nlisten_port = 8080\n```\n",
        &Db::Sqlite,
    )
    .expect_err("an unknown key");
    assert!(err.contains("listen_port"), "{err}");
    let err = run_guide(
        "```sh\ntrue\n```\nAlert on `fieldkit_records_dropped_total`.\n",
        &Db::Sqlite,
    )
    .expect_err("a metric that does not exist");
    assert!(err.contains("fieldkit_records_dropped_total"), "{err}");
}

/// The ```` ```sh-package ```` blocks for `tests/packages/test-guide-systemd.sh`, which
/// runs this test with `FIELDKIT_GUIDE_PACKAGE_BLOCKS=DIR` (without it, the export is only
/// tried in a temporary folder).
#[test]
fn the_package_blocks_are_exported_for_the_systemd_run() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = std::env::var_os("FIELDKIT_GUIDE_PACKAGE_BLOCKS")
        .map_or_else(|| scratch.path().to_path_buf(), PathBuf::from);
    let written =
        export_package_blocks(&guide(), &dir).unwrap_or_else(|e| panic!("docs/OPERATIONS.md: {e}"));
    assert!(written > 0, "the guide has no ```sh-package block");
    let index = std::fs::read_to_string(dir.join("index.tsv")).expect("index.tsv");
    assert_eq!(index.lines().count(), written);
    eprintln!("{written} sh-package blocks written to {}", dir.display());
}

#[test]
fn the_package_export_keeps_order_lines_and_bodies() {
    let md = "# G\n\n## 1. A\n\n```sh\ntrue\n```\n\n  ```sh-package\n  sudo -i\n  ```\n\n## 2. B\n\n```sh-package\nsystemctl restart x\n```\n";
    let dir = tempfile::tempdir().expect("temp dir");
    assert_eq!(export_package_blocks(md, dir.path()), Ok(2));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("index.tsv")).expect("index"),
        "9\t1. A\n15\t2. B\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("9.sh")).expect("9.sh"),
        "sudo -i\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("15.sh")).expect("15.sh"),
        "systemctl restart x\n"
    );
}

#[test]
fn package_lines_yield_the_fieldkit_calls_in_command_position() {
    assert_eq!(
        fieldkit_calls("FIELDKIT_RECOVERY_SECRET='a b' fieldkit export-held --out f.json"),
        vec!["fieldkit export-held --out f.json"]
    );
    assert_eq!(
        fieldkit_calls("sudo runuser -u fieldkit -- env A=1 bash"),
        Vec::<String>::new()
    );
    assert_eq!(
        fieldkit_calls("systemctl restart fieldkit-backend && /usr/bin/fieldkit-backend admin kit list | grep x > out"),
        vec!["/usr/bin/fieldkit-backend admin kit list"]
    );
    assert_eq!(
        metric_names("`fieldkit_records_total` and fieldkit_…, fieldkit-backend, libfieldkit_x"),
        vec!["fieldkit_records_total"]
    );
}
