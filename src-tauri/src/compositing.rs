//! WebKitGTK's accelerated compositing, chosen per machine (`FIELDKIT_COMPOSITING`):
//! `auto` (the default) turns it off on a machine without a GPU render node, `on` and
//! `off` force it. Without a GPU, WebKit composites through software OpenGL, which on
//! the reference machine made the web process 432 MB after ten applications instead of
//! about 190 MB (`cargo bench -p fieldkit-e2e --bench app`), with nothing to show for
//! it. An administrator's own `WEBKIT_DISABLE_COMPOSITING_MODE` always wins.
//! Linux only: elsewhere WebKitGTK is not the web view.

use std::path::Path;

/// The setting's variable.
pub const SETTING: &str = "FIELDKIT_COMPOSITING";
/// WebKitGTK's own switch, read when the first web view is made.
const WEBKIT_SWITCH: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// What the app does about compositing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Leave WebKit's default (compositing on).
    On,
    /// Set WebKit's switch: compositing off.
    Off,
    /// The administrator set WebKit's switch themselves: leave it.
    AsConfigured,
}

/// Decides from the setting (`None`: unset), whether WebKit's own switch is set, and
/// whether the machine has a GPU render node. An unknown setting is an error naming
/// the accepted values; the caller falls back to `auto`.
pub fn decide(
    setting: Option<&str>,
    webkit_switch_set: bool,
    has_render_node: bool,
) -> Result<Choice, String> {
    if webkit_switch_set {
        return Ok(Choice::AsConfigured);
    }
    match setting.map(str::trim) {
        None | Some("" | "auto") if has_render_node => Ok(Choice::On),
        None | Some("" | "auto") => Ok(Choice::Off),
        Some("on") => Ok(Choice::On),
        Some("off") => Ok(Choice::Off),
        Some(other) => Err(format!(
            "{SETTING}={other:?} is not one of auto, on, off; using auto"
        )),
    }
}

/// Whether `dri` (normally `/dev/dri`) holds a render node (`renderD128`, …): a GPU
/// WebKit can composite on.
pub fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    })
}

/// Applies the choice for this machine. Must run before the first web view is made and
/// before any other thread starts (it sets a process environment variable).
pub fn apply() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let setting = std::env::var(SETTING).ok();
    let has_gpu = has_render_node(Path::new("/dev/dri"));
    let choice = decide(
        setting.as_deref(),
        std::env::var_os(WEBKIT_SWITCH).is_some(),
        has_gpu,
    )
    .unwrap_or_else(|warning| {
        eprintln!("fieldkit-app: {warning}");
        decide(None, false, has_gpu).unwrap_or(Choice::On)
    });
    if choice == Choice::Off {
        std::env::set_var(WEBKIT_SWITCH, "1");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_turns_compositing_off_only_without_a_gpu() {
        for unset_or_auto in [None, Some(""), Some("auto"), Some(" auto ")] {
            assert_eq!(decide(unset_or_auto, false, true), Ok(Choice::On));
            assert_eq!(decide(unset_or_auto, false, false), Ok(Choice::Off));
        }
    }

    #[test]
    fn on_and_off_are_forced_and_webkits_own_switch_wins() {
        assert_eq!(decide(Some("on"), false, false), Ok(Choice::On));
        assert_eq!(decide(Some("off"), false, true), Ok(Choice::Off));
        assert_eq!(decide(Some("on"), true, true), Ok(Choice::AsConfigured));
        assert_eq!(decide(None, true, false), Ok(Choice::AsConfigured));
    }

    #[test]
    fn a_wrong_value_is_named_with_the_accepted_ones() {
        for wrong in ["ON", "yes", "1", "aus"] {
            let message = decide(Some(wrong), false, true).expect_err(wrong);
            assert!(message.contains(wrong), "{message}");
            assert!(message.contains("auto, on, off"), "{message}");
        }
    }

    #[test]
    fn a_render_node_is_found_by_its_name() {
        let dir = tempfile::tempdir().expect("dir");
        assert!(!has_render_node(dir.path()), "empty");
        assert!(!has_render_node(&dir.path().join("missing")), "no folder");
        std::fs::write(dir.path().join("card0"), b"").expect("card");
        assert!(
            !has_render_node(dir.path()),
            "a card node is not a render node"
        );
        std::fs::write(dir.path().join("renderD128"), b"").expect("render");
        assert!(has_render_node(dir.path()));
    }
}
