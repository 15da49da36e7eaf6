//! Finds the workspace's binaries next to the running test or bench (in the same
//! profile), building them once per process with the same cargo if they are missing or
//! stale — so `cargo test -p fieldkit-e2e` works on its own, not only inside
//! `cargo test --workspace`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test> → target/<profile>
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from target/<profile>/deps")
        .to_path_buf()
}

fn build_once() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = profile_dir();
        let release = dir.file_name().is_some_and(|n| n == "release");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args([
            "build",
            "--quiet",
            "-p",
            "fieldkit-backend",
            "-p",
            "kit-core",
            // The app too, in the same invocation as scripts/run.sh: one feature
            // resolution for all three, so no build recompiles what another just built.
            "-p",
            "fieldkit-app",
            "--bins",
        ]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the binaries failed");
    });
}

/// The path of workspace binary `name` (`fieldkit`, `fieldkit-backend` or `fieldkit-app`).
///
/// # Panics
/// When it cannot be built.
pub fn bin(name: &str) -> PathBuf {
    build_once();
    let path = profile_dir().join(name);
    assert!(path.exists(), "{} was not built", path.display());
    path
}
