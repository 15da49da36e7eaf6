//! What every screen of the app's end-to-end test is checked for, in both languages:
//! [`ScreenChecks::check`] screenshots the screen, runs axe-core in the WebKit window
//! (WCAG 2.1 A/AA and best practice, as for the back office), switches to English,
//! screenshots and axe-checks again and looks for German words of the UI's own
//! dictionary in what the English screen shows, then switches back.
//! [`ScreenChecks::assert_clean`] fails once with every finding of the run.
//!
//! German words are those of the German side of `ui/src/i18n/messages.ts` that never
//! occur on its English side. Text in an element with a `lang` other than English is
//! left out: the printout is German on purpose (it is the paper), the language switch
//! names "Deutsch", a reviewer's comment is in the office's language.

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Duration;

use fantoccini::Locator;

use super::app::App;
use super::browser::axe_on;

/// Findings over the screens of one test.
#[derive(Debug, Default)]
pub struct ScreenChecks {
    findings: Vec<String>,
    screens: usize,
}

impl ScreenChecks {
    /// Checks the screen shown as `app-<name>` (German) and `app-<name>-en` (English)
    /// and leaves it in German. Switching the language keeps every input (tested
    /// elsewhere); do not call it while a drawn signature waits to be accepted.
    pub async fn check(&mut self, app: &App, name: &str) {
        self.check_german_only(app, name).await;
        app.click("lang-switch").await;
        wait_for_lang(app, "en").await;
        let english = format!("{name}-en");
        app.screenshot(&english).await;
        for v in axe_on(app.client()).await {
            self.findings.push(format!("  - {english}: {v}"));
        }
        let german = german_shown(app).await;
        if !german.is_empty() {
            self.findings.push(format!(
                "  - {english}: German words in the English UI: {}",
                german.join(", ")
            ));
        }
        app.click("lang-switch").await;
        wait_for_lang(app, "de").await;
    }

    /// Screenshots `app-<name>` and axe-checks it, in German only.
    pub async fn check_german_only(&mut self, app: &App, name: &str) {
        app.screenshot(name).await;
        self.screens += 1;
        for v in axe_on(app.client()).await {
            self.findings.push(format!("  - {name}: {v}"));
        }
    }

    /// How many screens were checked.
    pub fn screens(&self) -> usize {
        self.screens
    }

    /// # Panics
    /// When any checked screen had a finding (screenshots in `target/screenshots`).
    pub fn assert_clean(&self) {
        assert!(
            self.findings.is_empty(),
            "{} finding(s) in the app's WebKit window:\n{}",
            self.findings.len(),
            self.findings.join("\n")
        );
    }
}

/// The dictionary's German words the page shows outside elements marked as German.
pub async fn german_shown(app: &App) -> Vec<String> {
    let shown = english_text(app).await;
    words(&shown)
        .filter(|w| german_words().contains(&w.to_lowercase()))
        .map(str::to_owned)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The visible text of the page, without elements marked as another language.
async fn english_text(app: &App) -> String {
    let text = app
        .client()
        .execute(
            "const copy = document.body.cloneNode(true);
             copy.querySelectorAll('[lang]').forEach(e => {
               if (!e.getAttribute('lang').toLowerCase().startsWith('en')) e.remove();
             });
             copy.querySelectorAll('script, style, details:not([open]) > :not(summary)')
               .forEach(e => e.remove());
             return copy.textContent;",
            vec![],
        )
        .await
        .expect("the page's text");
    text.as_str().unwrap_or_default().to_owned()
}

/// Waits (up to 30 s) until the page's `<html lang>` is `want`.
pub async fn wait_for_lang(app: &App, want: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let now = app
            .client()
            .find(Locator::Css("html"))
            .await
            .expect("html")
            .attr("lang")
            .await
            .expect("lang");
        if now.as_deref() == Some(want) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "lang={now:?}, never {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Words of at least five letters.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 5)
}

/// The German side's words that the English side never uses (lower case).
pub fn german_words() -> &'static BTreeSet<String> {
    static WORDS: OnceLock<BTreeSet<String>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/i18n/messages.ts");
        let source =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (de, en) = source
            .split_once("export const en")
            .expect("messages.ts has a German and an English side");
        let side = |text: &str| -> BTreeSet<String> {
            text.lines()
                .filter_map(message_text)
                .flat_map(|m| words(&m).map(str::to_lowercase).collect::<Vec<_>>())
                .collect()
        };
        let english = side(en);
        side(de).difference(&english).cloned().collect()
    })
}

/// The text of a `"key": "text",` line, without its `{placeholders}`.
fn message_text(line: &str) -> Option<String> {
    let (_, rest) = line.trim().split_once("\": ")?;
    let text = rest
        .trim_end_matches(',')
        .strip_prefix('"')?
        .strip_suffix('"')?;
    let mut out = String::new();
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_words_come_from_the_dictionary_and_exclude_english_ones() {
        let words = german_words();
        assert!(words.len() > 300, "a real dictionary: {}", words.len());
        for german in ["übersicht", "warteschlange", "unterschrift", "anlagen"] {
            assert!(words.contains(german), "{german}");
        }
        for both in ["fieldkit", "signature", "queue"] {
            assert!(!words.contains(both), "{both} is English or shared");
        }
    }

    #[test]
    fn placeholders_are_not_words() {
        assert_eq!(
            message_text(r#"  "a.b": "Schritt {n} von {total}","#).as_deref(),
            Some("Schritt  von ")
        );
        assert_eq!(message_text("export const de = {"), None);
    }
}
