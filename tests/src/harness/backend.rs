//! `fieldkit-backend` as a child process: the demo set up with the admin CLI, `serve`
//! started on a loopback port, killed with SIGKILL or stopped with SIGTERM, and started
//! again on the same port and data.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::bins::bin;

/// What the demo set up for the kit.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The one-time enrolment code.
    pub code: String,
    /// The provisioning file.
    pub provisioning: PathBuf,
    /// The demo's back-office users as (login, password), e.g. `demo-reviewer`.
    pub users: Vec<(String, String)>,
}

impl Demo {
    /// The password `admin demo` printed for `login`.
    ///
    /// # Panics
    /// When the demo did not create that user.
    pub fn password(&self, login: &str) -> &str {
        self.users
            .iter()
            .find(|(l, _)| l == login)
            .map(|(_, p)| p.as_str())
            .unwrap_or_else(|| panic!("the demo has no user {login}"))
    }
}

/// One backend node.
pub struct BackendProcess {
    data_dir: PathBuf,
    database: Option<String>,
    public_url: Option<String>,
    clock_offset_secs: i64,
    port: u16,
    child: Option<Child>,
    log: PathBuf,
    env: Vec<(String, String)>,
}

/// With an external database the backend does not generate a master key: the harness
/// keeps one in the data folder, shared by every node using that folder.
fn master_key_file(data_dir: &Path) -> PathBuf {
    let path = data_dir.join("master.key");
    if !path.exists() {
        let out = Command::new(bin("fieldkit-backend"))
            .args(["admin", "generate-master-key"])
            .output()
            .expect("generate-master-key runs");
        assert!(out.status.success(), "generate-master-key failed");
        std::fs::write(&path, &out.stdout).expect("master key written");
    }
    path
}

/// Sets up the demo (authorities, users, catalog, one provisioned kit) in `data_dir`,
/// for kits that will reach the backend at `url`.
///
/// # Panics
/// When the admin command fails.
pub fn demo(data_dir: &Path, database: Option<&str>, url: &str) -> Demo {
    std::fs::create_dir_all(data_dir).expect("data dir");
    let mut cmd = Command::new(bin("fieldkit-backend"));
    cmd.arg("admin").arg("--data-dir").arg(data_dir);
    if let Some(db) = database {
        cmd.arg("--database")
            .arg(db)
            .env("FIELDKIT_MASTER_KEY_FILE", master_key_file(data_dir));
    }
    let out = cmd
        .args(["--json", "demo", "--backend-url", url])
        .output()
        .expect("admin demo runs");
    assert!(
        out.status.success(),
        "admin demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("demo JSON");
    Demo {
        code: report["kit"]["code"].as_str().expect("code").to_owned(),
        provisioning: PathBuf::from(report["kit"]["file"].as_str().expect("file")),
        users: report["users"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|u| Some((u["login"].as_str()?.into(), u["password"].as_str()?.into())))
            .collect(),
    }
}

impl BackendProcess {
    /// Starts `serve` on `port` and waits until it answers `/readyz`. `public_url` is
    /// the URL kits use when it is not the node's own (a proxy or load balancer in
    /// front): request signatures cover it.
    ///
    /// # Panics
    /// When it does not become ready within 30 s.
    pub fn start(
        data_dir: &Path,
        database: Option<&str>,
        port: u16,
        public_url: Option<&str>,
    ) -> Self {
        Self::start_with_env(data_dir, database, port, public_url, &[])
    }

    /// As [`BackendProcess::start`], with extra `FIELDKIT_*` settings in the
    /// environment of `serve` (e.g. short timeouts).
    ///
    /// # Panics
    /// As [`BackendProcess::start`].
    pub fn start_with_env(
        data_dir: &Path,
        database: Option<&str>,
        port: u16,
        public_url: Option<&str>,
        env: &[(&str, &str)],
    ) -> Self {
        let mut node = Self {
            data_dir: data_dir.to_path_buf(),
            database: database.map(str::to_owned),
            public_url: public_url.map(str::to_owned),
            clock_offset_secs: 0,
            port,
            child: None,
            log: data_dir.join(format!("serve-{port}.log")),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        node.restart();
        node
    }

    /// The process id of the running `serve` (for reading its `/proc` entries).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Restarts the node with its wall clock `secs` ahead of this machine's (through
    /// libfaketime; the monotonic clock is left alone), to test clock skew for real.
    ///
    /// # Panics
    /// As [`BackendProcess::restart`].
    pub fn restart_with_clock_offset(&mut self, secs: i64) {
        self.kill9();
        self.clock_offset_secs = secs;
        self.restart();
    }

    /// Runs `fieldkit-backend admin ARGS` on this node's data and requires success.
    ///
    /// # Panics
    /// When the command fails.
    pub fn admin(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(bin("fieldkit-backend"));
        cmd.arg("admin").arg("--data-dir").arg(&self.data_dir);
        if let Some(db) = &self.database {
            cmd.arg("--database")
                .arg(db)
                .env("FIELDKIT_MASTER_KEY_FILE", master_key_file(&self.data_dir));
        }
        let out = cmd.args(args).output().expect("admin runs");
        assert!(
            out.status.success(),
            "admin {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data folder (attachment files live here).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Starts the process again (after [`BackendProcess::kill9`] or
    /// [`BackendProcess::stop`]).
    ///
    /// # Panics
    /// When it does not become ready within 30 s.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the node is running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let mut cmd = Command::new(bin("fieldkit-backend"));
        if self.clock_offset_secs != 0 {
            // libfaketime preloaded into the backend itself (not the `faketime` wrapper,
            // which would stay the parent and leave the backend behind on SIGKILL).
            cmd.env("LD_PRELOAD", libfaketime())
                .env("FAKETIME", format!("{:+}s", self.clock_offset_secs))
                .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
        }
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port));
        if let Some(db) = &self.database {
            cmd.arg("--database")
                .arg(db)
                .env("FIELDKIT_MASTER_KEY_FILE", master_key_file(&self.data_dir));
        }
        if let Some(url) = &self.public_url {
            cmd.arg("--public-base-url").arg(url);
        }
        let child = cmd
            .env("FIELDKIT_SHUTDOWN_GRACE_SECONDS", "2")
            // Many nodes run side by side: each gets a free operations port.
            .env("FIELDKIT_OPS_LISTEN", "127.0.0.1:0")
            // The test set-up keeps its master key in the data folder, as a demo may.
            .env("FIELDKIT_ALLOW_MASTER_KEY_IN_DATA_DIR", "true")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("fieldkit-backend serve starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if ready(self.port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "the backend did not become ready; log:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// SIGKILL: no graceful shutdown, in-flight requests are cut.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait (graceful shutdown).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for BackendProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The multi-threaded libfaketime (Debian package `faketime`, installed by
/// `scripts/test.sh`).
fn libfaketime() -> PathBuf {
    let found = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|dir| dir.path().join("faketime/libfaketimeMT.so.1"))
        .find(|p| p.exists());
    found.expect("libfaketime is installed (Debian package faketime; scripts/test.sh installs it)")
}

/// Whether `/readyz` answers 200 (a raw HTTP/1.1 request; no client library needed).
fn ready(port: u16) -> bool {
    use std::io::{Read as _, Write as _};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}
