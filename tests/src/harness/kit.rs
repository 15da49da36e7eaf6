//! A kit for the fault tests: set up and enrolled through the `fieldkit` CLI (as IT
//! staff would), filled through the library (fast: one unlock for many records), synced
//! through the CLI (so it can be killed) or the library.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kit_core::{Kit, Session};

use super::backend::Demo;
use super::bins::bin;
use super::PIN;

/// A kit folder with one clerk, enrolled with a demo backend.
pub struct TestKit {
    /// The kit folder.
    pub home: PathBuf,
    /// IT's recovery secret, when this harness set the kit up.
    pub recovery_secret: Option<String>,
}

/// The demo's valid Anmeldung (a family of three).
pub fn anmeldung() -> serde_json::Value {
    let path = Path::new(fieldkit_catalog::CATALOG_DIR)
        .join("tests/golden/anmeldung/valid-family-of-three-moving-together.json");
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("golden")).expect("json");
    golden["data"].clone()
}

/// `len` bytes that look like a PDF and do not compress (a scan).
pub fn scan(len: usize, seed: u64) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while bytes.len() < len {
        // xorshift64: cheap incompressible filler.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(len.max(9));
    bytes
}

impl TestKit {
    /// `fieldkit init`, `clerk add`, `enrol --provisioning` in `home`.
    ///
    /// # Panics
    /// When a step fails.
    pub fn enrolled(home: &Path, demo: &Demo) -> Self {
        let mut kit = Self {
            home: home.to_path_buf(),
            recovery_secret: None,
        };
        let init = kit.run(&["--json", "init"]);
        let init: serde_json::Value = serde_json::from_slice(&init.stdout).expect("init JSON");
        let secret = init["recovery_secret"].as_str().expect("secret").to_owned();
        kit.recovery_secret = Some(secret.clone());
        let out = kit
            .cli()
            .env("FIELDKIT_RECOVERY_SECRET", &secret)
            .env("FIELDKIT_NEW_PIN", PIN)
            .args(["clerk", "add", "--name", "Clara Müller"])
            .output()
            .expect("fieldkit runs");
        assert!(
            out.status.success(),
            "clerk add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        kit.run(&[
            "enrol",
            "--provisioning",
            demo.provisioning.to_str().expect("utf-8 path"),
            "--code",
            &demo.code,
        ]);
        kit
    }

    /// `fieldkit` with this kit's folder and the clerk's PIN in the environment.
    pub fn cli(&self) -> Command {
        let mut cmd = Command::new(bin("fieldkit"));
        cmd.arg("--home").arg(&self.home).env("FIELDKIT_PIN", PIN);
        cmd
    }

    /// Runs `fieldkit ARGS` and requires success.
    ///
    /// # Panics
    /// When it fails.
    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.cli().args(args).output().expect("fieldkit runs");
        assert!(
            out.status.success(),
            "fieldkit {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The kit unlocked in this process (drop it before running the CLI on the kit).
    ///
    /// # Panics
    /// When the unlock fails.
    pub fn session(&self) -> Session {
        Kit::at(&self.home)
            .unlock("c-clara-mueller", PIN.as_bytes())
            .expect("unlock")
    }

    /// Finalizes `n` Anmeldungen, each with a signed printout of `printout_bytes` and a
    /// landlord confirmation; returns their record ids.
    ///
    /// # Panics
    /// When capture fails.
    pub fn capture(&self, n: usize, printout_bytes: usize) -> Vec<String> {
        let mut session = self.session();
        capture_in(&mut session, n, printout_bytes)
    }

    /// `fieldkit --json sync` with a short backoff (through `url` instead of the
    /// enrolled URL when given); `extra` flags may override `--retry-for` (default 60).
    pub fn sync(&self, url: Option<&str>, extra: &[&str]) -> Output {
        let mut cmd = self.cli();
        cmd.args(["--json", "sync", "--backoff-ms", "50"]);
        if !extra.contains(&"--retry-for") {
            cmd.args(["--retry-for", "60"]);
        }
        if let Some(url) = url {
            cmd.args(["--backend", url]);
        }
        cmd.args(extra).output().expect("fieldkit runs")
    }
}

/// As [`TestKit::capture`], in an open session.
///
/// # Panics
/// When capture fails.
pub fn capture_in(session: &mut Session, n: usize, printout_bytes: usize) -> Vec<String> {
    let data = anmeldung();
    (0..n)
        .map(|i| {
            let draft = session.create_draft("anmeldung", &data).expect("draft");
            session
                .attach(
                    &draft,
                    "signed-printout",
                    "application/pdf",
                    &scan(printout_bytes, i as u64 + 1)[..],
                )
                .expect("printout");
            session
                .attach(
                    &draft,
                    "landlord-confirmation",
                    "application/pdf",
                    &b"%PDF-1.7 Wohnungsgeberbestaetigung"[..],
                )
                .expect("landlord confirmation");
            session.finalize(&draft).expect("finalize").record_id
        })
        .collect()
}
