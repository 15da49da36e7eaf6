//! A real browser for the back office's tests: headless Debian Chromium driven over
//! WebDriver (`chromedriver` as a child process on a free loopback port, killed with its
//! browser on drop), with helpers to sign in, press keys, and check a page with axe-core
//! (`axe.min.js` from `tests/browser/node_modules`, pinned by its `package-lock.json`).
//!
//! Nothing here downloads a browser: `chromium` and `chromium-driver` are Debian
//! packages and axe-core comes from `npm ci`, all installed by `scripts/test.sh`. A
//! missing piece fails the test with the command that installs it; it never skips.
//!
//! The session cookie is `__Host-` and `Secure`: Chromium treats `http://127.0.0.1` as
//! a secure context and keeps such cookies there, so the tests use the backend's plain
//! loopback HTTP and the cookie flags stay as in production.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

mod axe;
pub use axe::{axe_on, Violation, AXE_TAGS};

/// The Debian package `chromium`.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The Debian package `chromium-driver`.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// `target/screenshots` (next to the profile folder the test runs from).
fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test> → target
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the test runs from target/<profile>/deps");
    target.join("screenshots")
}

/// A headless Chromium session against one backend.
pub struct Browser {
    client: Option<Client>,
    base: String,
    driver: Child,
    log: PathBuf,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts `chromedriver` and a fresh Chromium profile; `base` is the backend's
    /// `http://127.0.0.1:PORT`.
    ///
    /// # Panics
    /// When Chromium or its driver is missing or does not start within 30 s.
    pub async fn start(base: &str) -> Self {
        for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            assert!(
                std::path::Path::new(path).exists(),
                "{path} is missing: install the Debian package {package} (scripts/test.sh does)"
            );
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let log = profile.path().join("chromedriver.log");
        let port = super::free_port();
        let driver = {
            use std::os::unix::process::CommandExt as _;
            let log_file = std::fs::File::create(&log).expect("driver log");
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::from(log_file.try_clone().expect("log")))
                .stderr(Stdio::from(log_file))
                // Its own process group, so drop can end the driver and every browser
                // process it started, even after a panic.
                .process_group(0)
                .spawn()
                .expect("chromedriver starts")
        };
        let mut browser = Self {
            client: None,
            base: base.trim_end_matches('/').to_owned(),
            driver,
            log,
            profile,
        };
        let user_data = browser.profile.path().join("chromium");
        let downloads = browser.downloads();
        std::fs::create_dir_all(&downloads).expect("downloads dir");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--window-size=1280,1024",
                    format!("--user-data-dir={}", user_data.display()),
                ],
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false,
                },
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!(
                    "no WebDriver session: {e}; chromedriver log:\n{}",
                    std::fs::read_to_string(&browser.log).unwrap_or_default()
                ),
            }
        };
        browser.client = Some(client);
        browser
    }

    /// Where the browser saves downloads.
    fn downloads(&self) -> PathBuf {
        self.profile.path().join("downloads")
    }

    /// Clicks the download link matching `css` and returns the name and bytes of the
    /// file the browser saved.
    ///
    /// # Panics
    /// When no download completes within 10 s.
    pub async fn download(&self, css: &str) -> (String, Vec<u8>) {
        let dir = self.downloads();
        let names = || -> Vec<String> {
            std::fs::read_dir(&dir)
                .expect("downloads dir")
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        };
        let before = names();
        self.find(css).await.click().await.expect("click");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let done = names().into_iter().find(|n| {
                !before.contains(n) && !n.ends_with(".crdownload") && !n.starts_with('.')
            });
            if let Some(name) = done {
                let bytes = std::fs::read(dir.join(&name)).expect("downloaded file");
                return (name, bytes);
            }
            assert!(
                Instant::now() < deadline,
                "no download from {css} after 10 s: {:?}",
                names()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The WebDriver client, for anything the helpers do not cover.
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("the session is open")
    }

    /// The absolute URL of a backend path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Navigates to a backend path and waits for the page.
    ///
    /// # Panics
    /// When navigation fails.
    pub async fn open(&self, path: &str) {
        self.client()
            .goto(&self.url(path))
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    }

    /// The path (and query) of the page shown now.
    ///
    /// # Panics
    /// When the browser does not answer.
    pub async fn path(&self) -> String {
        let url = self.client().current_url().await.expect("current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The element matching `css`, waiting up to 10 s for it.
    ///
    /// # Panics
    /// When it does not appear.
    pub async fn find(&self, css: &str) -> Element {
        match self
            .client()
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => el,
            Err(e) => panic!("no element {css} on {}: {e}", self.path().await),
        }
    }

    /// Every element matching `css` now.
    ///
    /// # Panics
    /// When the browser does not answer.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client()
            .find_all(Locator::Css(css))
            .await
            .expect("find_all")
    }

    /// The visible text of the element matching `css`.
    ///
    /// # Panics
    /// When there is none.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("text")
    }

    /// Types `text` into the field matching `css` (after clearing it).
    ///
    /// # Panics
    /// When there is no such field.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    /// Presses `key` in the focused element (as a keyboard user would).
    ///
    /// # Panics
    /// When the browser does not answer.
    pub async fn press(&self, key: Key) {
        let focused = self.client().active_element().await.expect("focus");
        focused.send_keys(&key).await.expect("key press");
    }

    /// The `id` (or, without one, the tag name) of the focused element.
    ///
    /// # Panics
    /// When the browser does not answer.
    pub async fn focused(&self) -> String {
        let el = self.client().active_element().await.expect("focus");
        match el.attr("id").await.expect("id") {
            Some(id) if !id.is_empty() => id,
            _ => el.tag_name().await.expect("tag"),
        }
    }

    /// Clicks the element matching `css` (a link or a submit button) and waits until
    /// the browser shows the next page.
    ///
    /// # Panics
    /// When there is no such element or no new page within 10 s.
    pub async fn click_to_next_page(&self, css: &str) {
        let page = self.find("html").await;
        self.find(css).await.click().await.expect("click");
        self.wait_for_next_page(page).await;
    }

    /// Presses `key` in the focused element (Enter on a button or link) and waits until
    /// the browser shows the next page.
    ///
    /// # Panics
    /// When no new page comes within 10 s.
    pub async fn press_to_next_page(&self, key: Key) {
        let page = self.find("html").await;
        self.press(key).await;
        self.wait_for_next_page(page).await;
    }

    /// Waits until `page` (the old `html` element) is gone and the new one has loaded.
    async fn wait_for_next_page(&self, page: Element) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while page.tag_name().await.is_ok() {
            assert!(
                Instant::now() < deadline,
                "no new page after 10 s (still {})",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let state = self
                .client()
                .execute("return document.readyState;", vec![])
                .await;
            if state.is_ok_and(|s| s == "complete") {
                return;
            }
            assert!(Instant::now() < deadline, "the new page did not load");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Signs out with the header's button, if signed in.
    ///
    /// # Panics
    /// When the browser does not answer.
    pub async fn logout(&self) {
        if !self.find_all("form.logout button").await.is_empty() {
            self.click_to_next_page("form.logout button").await;
        }
    }

    /// Opens the login page, types login and password, and submits with the button.
    ///
    /// # Panics
    /// When the form is missing.
    pub async fn login(&self, login: &str, password: &str) {
        self.open("/office/login").await;
        self.fill("#login", login).await;
        self.fill("#password", password).await;
        self.click_to_next_page("form[action='/office/login'] button[type=submit]")
            .await;
    }

    /// Saves a PNG screenshot of the whole page as `target/screenshots/office-<name>.png`.
    ///
    /// # Panics
    /// When the screenshot cannot be taken or written.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        // The whole page: the window grows to the document's height for the shot.
        let height = self
            .client()
            .execute(
                "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight;",
                vec![],
            )
            .await
            .ok()
            .and_then(|h| h.as_u64())
            .unwrap_or(1024)
            .clamp(1024, 8000);
        let client = self.client();
        client
            .set_window_size(1280, u32::try_from(height).unwrap_or(8000))
            .await
            .expect("window size");
        let png = client.screenshot().await.expect("screenshot");
        client
            .set_window_size(1280, 1024)
            .await
            .expect("window size");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("office-{name}.png"));
        std::fs::write(&path, png).expect("screenshot written");
        path
    }

    /// Ends the WebDriver session (closing the browser) and the driver.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole process group: the driver and the Chromium processes it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.wait();
    }
}
