//! JavaScriptCore's compilers in the web process, chosen by `FIELDKIT_JIT`:
//!
//! - `baseline` (the default): the interpreter and the baseline JIT, without the
//!   optimizing compilers (DFG, FTL);
//! - `full`: every tier, as WebKit ships it;
//! - `off`: the interpreter only.
//!
//! The optimizing compilers pay off for long-running heavy scripts; the app's UI is a form
//! whose scripts run for milliseconds per key press, and their compiled code and profiling
//! data stay in the web process. Measured on the reference machine without a GPU
//! (`cargo bench -p fieldkit-e2e --bench app`, release build, ten applications typed
//! through WebDriver): `full` 348 MB PSS in 60 s, `baseline` 316 MB in 70 s, `off` 281 MB
//! in 88 s: `baseline` costs one second per application typed at WebDriver's pace, spread
//! over every key press and click of the form.
//! JavaScriptCore reads its options from `JSC_*` variables in the web process, which
//! inherits the app's environment; one set by the administrator always wins.
//! Linux only: elsewhere JavaScriptCore is not the web view's engine.

/// The setting's variable.
pub const SETTING: &str = "FIELDKIT_JIT";

/// JavaScriptCore's own switches this module sets; an administrator who set any of them
/// has chosen already.
const JSC_SWITCHES: [&str; 4] = [
    "JSC_useJIT",
    "JSC_useBaselineJIT",
    "JSC_useDFGJIT",
    "JSC_useFTLJIT",
];

/// Which compilers JavaScriptCore may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Interpreter and baseline JIT.
    Baseline,
    /// Every tier.
    Full,
    /// Interpreter only.
    Off,
    /// The administrator set a `JSC_*` switch: leave it.
    AsConfigured,
}

impl Choice {
    /// The `JSC_*` variable and value that make this choice, if any.
    pub fn variable(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::Baseline => Some(("JSC_useDFGJIT", "false")),
            Self::Off => Some(("JSC_useJIT", "false")),
            Self::Full | Self::AsConfigured => None,
        }
    }
}

/// Decides from the setting (`None`: unset) and whether the administrator set one of
/// JavaScriptCore's switches. An unknown setting is an error naming the accepted values;
/// the caller falls back to the default.
pub fn decide(setting: Option<&str>, jsc_switch_set: bool) -> Result<Choice, String> {
    if jsc_switch_set {
        return Ok(Choice::AsConfigured);
    }
    match setting.map(str::trim) {
        None | Some("" | "baseline") => Ok(Choice::Baseline),
        Some("full") => Ok(Choice::Full),
        Some("off") => Ok(Choice::Off),
        Some(other) => Err(format!(
            "{SETTING}={other:?} is not one of baseline, full, off; using baseline"
        )),
    }
}

/// Applies the choice. Must run before the first web view is made and before any other
/// thread starts (it sets a process environment variable).
pub fn apply() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let setting = std::env::var(SETTING).ok();
    let jsc_switch_set = JSC_SWITCHES.iter().any(|v| std::env::var_os(v).is_some());
    let choice = decide(setting.as_deref(), jsc_switch_set).unwrap_or_else(|warning| {
        eprintln!("fieldkit-app: {warning}");
        Choice::Baseline
    });
    if let Some((variable, value)) = choice.variable() {
        std::env::set_var(variable, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_baseline_jit() {
        for unset_or_default in [None, Some(""), Some("baseline"), Some(" baseline ")] {
            let choice = decide(unset_or_default, false);
            assert_eq!(choice, Ok(Choice::Baseline), "{unset_or_default:?}");
        }
        assert_eq!(
            Choice::Baseline.variable(),
            Some(("JSC_useDFGJIT", "false"))
        );
    }

    #[test]
    fn full_and_off_are_chosen_and_the_administrators_switch_wins() {
        assert_eq!(decide(Some("full"), false), Ok(Choice::Full));
        assert_eq!(Choice::Full.variable(), None);
        assert_eq!(decide(Some("off"), false), Ok(Choice::Off));
        assert_eq!(Choice::Off.variable(), Some(("JSC_useJIT", "false")));
        for setting in [None, Some("off"), Some("full"), Some("nonsense")] {
            assert_eq!(decide(setting, true), Ok(Choice::AsConfigured));
        }
        assert_eq!(Choice::AsConfigured.variable(), None);
    }

    #[test]
    fn a_wrong_value_is_named_with_the_accepted_ones() {
        for wrong in ["FULL", "on", "1", "aus", "dfg"] {
            let message = decide(Some(wrong), false).expect_err(wrong);
            assert!(message.contains(wrong), "{message}");
            assert!(message.contains("baseline, full, off"), "{message}");
        }
    }
}
