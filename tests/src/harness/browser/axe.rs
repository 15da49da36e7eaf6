//! The accessibility check of the browser harness: axe-core's `axe.min.js` (from
//! `tests/browser/node_modules`, pinned by `tests/browser/package-lock.json`) injected
//! into the page shown and run with the WCAG 2.1 A/AA and best-practice rules; findings
//! come back as [`Violation`]s and fail the test as a readable list.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{json, Value};

use super::Browser;

/// The axe-core rule tags every page must pass.
pub const AXE_TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"];

/// `tests/browser/node_modules/axe-core/axe.min.js`, read once.
fn axe_source() -> &'static str {
    static AXE: OnceLock<String> = OnceLock::new();
    AXE.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("browser/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{} is missing ({e}): run `npm ci` in tests/browser (scripts/test.sh does)",
                path.display()
            )
        })
    })
}

/// One axe-core finding, as shown in a failing test.
#[derive(Debug, Clone)]
pub struct Violation {
    /// The rule, e.g. `color-contrast`.
    pub id: String,
    /// `minor` … `critical`.
    pub impact: String,
    /// What the rule wants.
    pub help: String,
    /// The CSS selectors of the offending elements.
    pub targets: Vec<String>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {} — at {}",
            self.id,
            self.impact,
            self.help,
            self.targets.join(", ")
        )
    }
}

/// Runs axe-core on the page `client` shows now (rules tagged [`AXE_TAGS`]) and returns
/// its violations — in Chromium (the back office) or in the app's WebKitGTK window.
///
/// # Panics
/// When axe cannot be injected or does not run.
pub async fn axe_on(client: &fantoccini::Client) -> Vec<Violation> {
    let loaded = client
        .execute(&format!("{}\nreturn typeof axe;", axe_source()), vec![])
        .await
        .expect("axe-core injected");
    assert_eq!(loaded, "object", "axe-core did not load");
    let result = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: arguments[0] })
               .then(r => done({ passes: r.passes.length, violations: r.violations.map(v => ({
                 id: v.id, impact: v.impact, help: v.help,
                 targets: v.nodes.map(n => n.target.join(' '))
               })) }))
               .catch(e => done({ error: String(e) }));",
            vec![json!(AXE_TAGS)],
        )
        .await
        .expect("axe.run answers");
    assert!(result["error"].is_null(), "axe.run failed: {result}");
    assert!(
        result["passes"].as_u64().unwrap_or(0) > 0,
        "axe checked nothing: {result}"
    );
    let str_of = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    result["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| Violation {
            id: str_of(&v["id"]),
            impact: str_of(&v["impact"]),
            help: str_of(&v["help"]),
            targets: v["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(str_of)
                .collect(),
        })
        .collect()
}

impl Browser {
    /// [`axe_on`] the page shown now.
    pub async fn axe(&self) -> Vec<Violation> {
        axe_on(self.client()).await
    }

    /// Screenshots the page as `office-<name>` and fails the test with a readable
    /// list if axe-core finds any violation.
    ///
    /// # Panics
    /// On any violation.
    pub async fn axe_check(&self, name: &str) {
        let shot = self.screenshot(name).await;
        let violations = self.axe().await;
        if !violations.is_empty() {
            let list: Vec<String> = violations.iter().map(|v| format!("  - {v}")).collect();
            panic!(
                "axe-core: {} violation(s) on page {name} ({}; screenshot {}):\n{}",
                violations.len(),
                self.path().await,
                shot.display(),
                list.join("\n")
            );
        }
    }

    /// Opens every `(name, path)` in turn and axe-checks it (screenshot
    /// `office-<name>`), failing once with the violations of every page.
    ///
    /// # Panics
    /// On any violation.
    pub async fn axe_sweep(&self, pages: &[(&str, String)]) {
        let mut report = Vec::new();
        for (name, path) in pages {
            self.open(path).await;
            self.screenshot(name).await;
            for v in self.axe().await {
                report.push(format!("  - {name} ({path}): {v}"));
            }
        }
        assert!(
            report.is_empty(),
            "axe-core: {} violation(s):\n{}",
            report.len(),
            report.join("\n")
        );
    }
}
