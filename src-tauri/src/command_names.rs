// The app's commands, one list for `build.rs` (which generates an `allow-…` permission
// per command, so only commands granted in `capabilities/` can be invoked), the
// invoke handler and the test that keeps them and the capability file in step.
// Included by `build.rs` with `include!`, hence no inner doc comment here.

/// Every command the UI may invoke.
pub const COMMANDS: &[&str] = &[
    "app_status",
    "init_kit",
    "unlock_recovery",
    "enrol",
    "add_clerk",
    "unlock",
    "lock",
    "touch",
    "ui_ready",
    "services",
    "municipalities",
    "service_form",
    "drafts",
    "create_draft",
    "start_answer",
    "open_draft",
    "save_draft",
    "discard_draft",
    "check_draft",
    "attach_file",
    "detach",
    "printout_preview",
    "sign_printout",
    "finalize",
    "records",
    "record_detail",
    "queue_status",
    "sync_now",
];
