//! Tauri's build step: embeds `tauri.conf.json` and the capabilities, and declares the
//! app's commands so that each is permission-controlled (least privilege: a command not
//! granted in `capabilities/` cannot be invoked).

include!("src/command_names.rs");

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri build step (is ui/dist built? run `npm --prefix ui run build`)");
}
