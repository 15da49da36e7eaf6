//! The kit desktop app for end-to-end tests: the real release-or-debug `fieldkit-app`
//! binary in a real WebKitGTK window on a private Xvfb display, driven over WebDriver
//! through `tauri-driver` (which fronts Debian's `WebKitWebDriver`). Helpers find
//! elements by their `data-testid` (listed in `ui/README.md`) and save screenshots to
//! `target/screenshots/app-<name>.png`.
//!
//! `tauri-driver` is stopped with SIGTERM, never SIGKILL: killed hard it leaves
//! `WebKitWebDriver` behind holding its port. Nothing is skipped when a piece is
//! missing: the test fails with the command that installs it (`scripts/test.sh` does).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// Debian's `webkit2gtk-driver`.
pub const WEBKIT_DRIVER: &str = "/usr/bin/WebKitWebDriver";

/// `cargo install tauri-driver` puts it here.
fn tauri_driver() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let path = home.join("bin/tauri-driver");
    assert!(
        path.exists(),
        "{} is missing: `cargo install tauri-driver --locked` (scripts/test.sh does)",
        path.display()
    );
    path
}

fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps")
        .to_path_buf()
}

/// The app binary of this profile (built with the other binaries; it embeds `ui/dist`,
/// which `npm --prefix ui run build` must have made).
///
/// # Panics
/// When it cannot be built.
pub fn app_bin() -> PathBuf {
    super::bins::bin("fieldkit-app")
}

/// A private X server (`Xvfb -displayfd` picks a free display number).
pub struct Display {
    child: Child,
    /// `:N`.
    pub name: String,
}

impl Display {
    /// Starts Xvfb at 1280×1024.
    ///
    /// # Panics
    /// When Xvfb is missing or does not report its display.
    pub fn start() -> Self {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x1024x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts (Debian package xvfb; scripts/test.sh installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("Xvfb reports its display");
        let number = line.trim();
        assert!(!number.is_empty(), "Xvfb did not report a display");
        Self {
            child,
            name: format!(":{number}"),
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The app under WebDriver.
pub struct App {
    client: Option<Client>,
    driver: Child,
    log: PathBuf,
    _display: Display,
}

impl App {
    /// Starts Xvfb, `tauri-driver` and the app with `FIELDKIT_HOME=home`, the web view's
    /// storage in folders beside `home`, and `env`.
    ///
    /// # Panics
    /// When a piece is missing or no session opens within 60 s.
    pub async fn start(home: &Path, env: &[(&str, &str)]) -> Self {
        assert!(
            Path::new(WEBKIT_DRIVER).exists(),
            "{WEBKIT_DRIVER} is missing: install the Debian package webkit2gtk-driver"
        );
        let application = app_bin();
        let display = Display::start();
        let port = super::free_port();
        let native_port = super::free_port();
        std::fs::create_dir_all(home).expect("kit home");
        let log = home.with_extension("driver.log");
        let log_file = std::fs::File::create(&log).expect("driver log");
        let mut cmd = Command::new(tauri_driver());
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
            "--native-driver",
            WEBKIT_DRIVER,
        ])
        .env("DISPLAY", &display.name)
        .env("FIELDKIT_HOME", home)
        // The web view's own storage (localStorage: the UI language; caches) per test,
        // not in the user's folders: a test that switches to English must not start the
        // next one, or the next run, in English.
        .env("XDG_DATA_HOME", home.with_extension("xdg-data"))
        .env("XDG_CACHE_HOME", home.with_extension("xdg-cache"))
        .env("XDG_CONFIG_HOME", home.with_extension("xdg-config"))
        .env_remove("WAYLAND_DISPLAY")
        // WebKit's compositing stays on under test, whatever the machine: with it off
        // (the app's choice on a machine without a GPU, such as this one) WebKitWebDriver's
        // screenshot command hangs under Xvfb. The app benchmark measures the app's own
        // choice by passing `FIELDKIT_COMPOSITING=auto` in `env`.
        .env("FIELDKIT_COMPOSITING", "on")
        .stdout(Stdio::from(log_file.try_clone().expect("log")))
        .stderr(Stdio::from(log_file));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let driver = cmd.spawn().expect("tauri-driver starts");
        let mut app = Self {
            client: None,
            driver,
            log,
            _display: display,
        };
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert(
            "tauri:options".into(),
            json!({ "application": application }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!(
                    "no WebDriver session with the app: {e}\n{}",
                    app.driver_log()
                ),
            }
        };
        app.client = Some(client);
        app
    }

    /// What tauri-driver and WebKitWebDriver printed.
    pub fn driver_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The WebDriver client.
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("the session is open")
    }

    /// The element with `data-testid=id`, waiting up to `secs`.
    ///
    /// # Panics
    /// When it does not appear.
    pub async fn wait_for(&self, id: &str, secs: u64) -> Element {
        let css = format!("[data-testid=\"{id}\"]");
        match self
            .client()
            .wait()
            .at_most(Duration::from_secs(secs))
            .for_element(Locator::Css(&css))
            .await
        {
            Ok(el) => el,
            Err(e) => {
                let body = match self.client().find(Locator::Css("body")).await {
                    Ok(b) => b.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                panic!("no {css} after {secs} s: {e}\npage text:\n{body}")
            }
        }
    }

    /// The element with `data-testid=id` (10 s).
    pub async fn get(&self, id: &str) -> Element {
        self.wait_for(id, 10).await
    }

    /// Whether an element with `data-testid=id` is on the page now.
    pub async fn has(&self, id: &str) -> bool {
        let css = format!("[data-testid=\"{id}\"]");
        self.client()
            .find_all(Locator::Css(&css))
            .await
            .is_ok_and(|found| !found.is_empty())
    }

    /// Clicks the element with `data-testid=id`.
    pub async fn click(&self, id: &str) {
        self.get(id)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {id}: {e}"));
    }

    /// Types `text` into the field with `data-testid=id` (or the input inside it).
    pub async fn type_into(&self, id: &str, text: &str) {
        let el = self.input(id).await;
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {id}: {e}"));
    }

    /// The `<input>`, `<select>` or `<textarea>` that is, or is inside, `data-testid=id`.
    pub async fn input(&self, id: &str) -> Element {
        let el = self.get(id).await;
        let tag = el.tag_name().await.expect("tag").to_lowercase();
        if matches!(tag.as_str(), "input" | "select" | "textarea") {
            return el;
        }
        el.find(Locator::Css("input, select, textarea"))
            .await
            .unwrap_or_else(|e| panic!("no input inside {id}: {e}"))
    }

    /// The visible text of `data-testid=id`.
    pub async fn text(&self, id: &str) -> String {
        self.get(id).await.text().await.expect("text")
    }

    /// Saves a screenshot as `target/screenshots/app-<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client().screenshot().await.expect("screenshot");
        let dir = profile_dir()
            .parent()
            .expect("target dir")
            .join("screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("app-{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Ends the session (the app window closes) and stops the drivers.
    pub async fn quit(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        // SIGTERM lets tauri-driver stop WebKitWebDriver (and with it the app).
        let _ = Command::new("kill")
            .args(["-TERM", &self.driver.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.driver.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The pid of the app process running on kit folder `home`, if any.
pub fn app_pid(home: &Path) -> Option<u32> {
    let exe = std::fs::canonicalize(app_bin()).ok()?;
    let wanted = format!("FIELDKIT_HOME={}", home.display());
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| p == exe)
                && std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.split(|&b| b == 0).any(|var| var == wanted.as_bytes()))
        })
}
