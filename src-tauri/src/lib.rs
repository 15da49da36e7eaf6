//! `fieldkit-app` is the kit's desktop app: a thin Tauri 2 layer of commands over
//! `kit-core`, and DTOs at that boundary with TypeScript types generated from Rust
//! (ts-rs, into `ui/src/bindings/`).
//!
//! - [`commands`]: one function per UI action, each a call into `kit-core`.
//! - [`state`]: the open session, auto-sync while a clerk is signed in, idle auto-lock.
//! - [`events`]: sync progress, connectivity and lock events for the UI.
//! - [`dto`], [`error`]: what crosses the boundary.
//!
//! # Boundaries
//!
//! - No business logic here: every command calls into `kit-core`.
//! - Only this crate knows Tauri; `kit-core` must stay usable without it.
//! - Never depends on `fieldkit-backend`.
//! - Least privilege: each command is a permission (`build.rs`), granted only to the
//!   main window in `capabilities/clerk.json`; no plugins; a strict CSP in
//!   `tauri.conf.json`.
//!
//! # Environment
//!
//! `FIELDKIT_HOME` (the kit folder; default: the platform's app data folder),
//! `FIELDKIT_IDLE_LOCK_SECS` (default 300), `FIELDKIT_SYNC_INTERVAL_SECS` (default 120),
//! `FIELDKIT_READY_FILE` (written once when the UI's first screen is up; for the start-up
//! benchmark), `FIELDKIT_COMPOSITING` (`auto` | `on` | `off`, default `auto`: WebKit's
//! accelerated compositing off on a machine without a GPU; [`compositing`]), `FIELDKIT_JIT`
//! (`baseline` | `full` | `off`, default `baseline`: JavaScriptCore without its optimizing
//! compilers; [`javascript`]).

/// The list of the app's commands (also included by `build.rs`).
pub mod command_names;
pub mod commands;
pub mod compositing;
pub mod dto;
pub mod error;
pub mod events;
pub mod javascript;
pub mod state;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tauri::{Emitter, Manager};

pub use kit_core;

fn env_secs(name: &str) -> Option<Duration> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map(Duration::from_secs)
}

/// The settings from the environment.
pub fn settings_from_env() -> state::Settings {
    let mut settings = state::Settings::default();
    if let Some(idle) = env_secs("FIELDKIT_IDLE_LOCK_SECS") {
        settings.idle_lock = idle;
    }
    if let Some(interval) = env_secs("FIELDKIT_SYNC_INTERVAL_SECS") {
        settings.auto_sync.interval = interval;
    }
    settings
}

/// Starts the app and runs until its window closes.
///
/// # Panics
/// When the window cannot be created (no display) — nothing can be shown then.
pub fn run() {
    compositing::apply();
    javascript::apply();
    tauri::Builder::default()
        .setup(|app| {
            let home = match std::env::var_os("FIELDKIT_HOME") {
                Some(home) => PathBuf::from(home),
                None => app.path().app_data_dir()?.join("kit"),
            };
            let handle = app.handle().clone();
            let emit: events::Emit = Arc::new(move |name, payload| {
                let _ = handle.emit(name, payload);
            });
            let shared = state::Shared::new(kit_core::Kit::at(home), settings_from_env(), emit);
            state::spawn_idle_watch(&shared);
            app.manage(shared);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::setup::app_status,
            commands::setup::init_kit,
            commands::setup::unlock_recovery,
            commands::setup::enrol,
            commands::setup::add_clerk,
            commands::setup::unlock,
            commands::setup::lock,
            commands::setup::touch,
            commands::setup::ui_ready,
            commands::capture::services,
            commands::places::municipalities,
            commands::capture::service_form,
            commands::capture::drafts,
            commands::capture::create_draft,
            commands::capture::start_answer,
            commands::capture::open_draft,
            commands::capture::save_draft,
            commands::capture::discard_draft,
            commands::capture::check_draft,
            commands::capture::attach_file,
            commands::capture::detach,
            commands::capture::printout_preview,
            commands::capture::sign_printout,
            commands::capture::finalize,
            commands::queue::records,
            commands::queue::record_detail,
            commands::queue::queue_status,
            commands::queue::sync_now,
        ])
        .run(tauri::generate_context!())
        .expect("the Fieldkit window could not be started");
}

#[cfg(test)]
mod tests {
    /// The main window may invoke exactly the app's commands and listen to events:
    /// nothing more (a plugin permission slipping in), nothing less (a command the UI
    /// could not call).
    #[test]
    fn the_capability_grants_exactly_the_commands() {
        let capability: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/clerk.json")).expect("JSON");
        let mut granted: Vec<String> = capability["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .map(|p| p.as_str().expect("a permission name").to_owned())
            .collect();
        granted.sort();
        let mut wanted: Vec<String> = crate::command_names::COMMANDS
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-")))
            .chain([
                "core:event:allow-listen".into(),
                "core:event:allow-unlisten".into(),
            ])
            .collect();
        wanted.sort();
        assert_eq!(granted, wanted);
        assert_eq!(capability["windows"], serde_json::json!(["main"]));
    }

    #[test]
    fn the_csp_allows_nothing_from_outside() {
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).expect("JSON");
        let csp = config["app"]["security"]["csp"].as_str().expect("a CSP");
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
        ] {
            assert!(csp.contains(directive), "{directive} in {csp}");
        }
        assert!(!csp.contains("unsafe-"), "no unsafe-inline/eval: {csp}");
        let remote: Vec<&str> = csp
            .split_whitespace()
            .map(|t| t.trim_end_matches(';'))
            .filter(|t| t.starts_with("http") && *t != "http://ipc.localhost")
            .collect();
        assert!(remote.is_empty(), "no remote origins: {remote:?}");
    }
}
