//! A counting layer over the app's WebDriver session: what a clerk does with mouse and
//! keyboard, counted as it is done, so a test can say how many clicks and keystrokes a
//! task takes in the real app (issue 17: "a 2-person Anmeldung in ≤ 45 clicks and
//! ≤ 190 keystrokes").
//!
//! What counts:
//! - a **click** is one press of the mouse button on an element (a button, a label, a
//!   radio option, a field); one signature stroke on the canvas is one click (the pen
//!   goes down once); choosing a file counts two (open the file picker, pick the file
//!   in it — WebDriver cannot drive the system's file dialog, so the path goes to the
//!   real `<input type=file>` instead, as the existing tests do);
//! - a **keystroke** is one key pressed: each typed character, Tab, Enter, Space, an
//!   arrow key; a chord counts each of its keys (Shift+Tab is two).
//!
//! Keys go to whatever has the focus, as real key presses (WebDriver key actions), never
//! into an element chosen by the test: a key typed while the focus is elsewhere than
//! the clerk expects lands elsewhere, and [`Counted::expect_focus`] says so. Nothing is
//! set through JavaScript; the only script here reads which field has the focus.
//! Reading the screen (waiting for an element, its text) is free: a clerk looks.

use std::sync::Mutex;
use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::Locator;

use super::app::App;

/// Tab (WebDriver's key code).
pub const TAB: &str = "\u{e004}";
/// Enter.
pub const ENTER: &str = "\u{e007}";
/// Arrow down.
pub const DOWN: &str = "\u{e015}";
/// Space.
pub const SPACE: &str = " ";
/// Shift (held for a chord, see [`Counted::shift_tab`]).
const SHIFT: char = '\u{e008}';

/// Clicks and keystrokes of one step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Mouse clicks (a signature stroke is one).
    pub clicks: u32,
    /// Keys pressed.
    pub keys: u32,
}

/// The app with every interaction counted, per named step.
pub struct Counted<'a> {
    app: &'a App,
    steps: Mutex<Vec<(String, Tally)>>,
}

impl<'a> Counted<'a> {
    /// Counts from now on, in a first step named `step`.
    pub fn new(app: &'a App, step: &str) -> Self {
        Self {
            app,
            steps: Mutex::new(vec![(step.to_owned(), Tally::default())]),
        }
    }

    /// The app, for reading the screen (never for interacting with it).
    pub fn app(&self) -> &App {
        self.app
    }

    /// What follows counts to the step `name` (a name used before continues it).
    pub fn step(&self, name: &str) {
        let mut steps = self.steps.lock().expect("steps");
        if steps.last().is_some_and(|(n, _)| n == name) {
            return;
        }
        steps.push((name.to_owned(), Tally::default()));
    }

    fn add(&self, clicks: u32, keys: u32) {
        let mut steps = self.steps.lock().expect("steps");
        let (_, tally) = steps.last_mut().expect("a step");
        tally.clicks += clicks;
        tally.keys += keys;
    }

    /// Every step with its tally, in order (a step named twice is summed).
    pub fn steps(&self) -> Vec<(String, Tally)> {
        let mut out: Vec<(String, Tally)> = Vec::new();
        for (name, tally) in self.steps.lock().expect("steps").iter() {
            match out.iter_mut().find(|(n, _)| n == name) {
                Some((_, sum)) => {
                    sum.clicks += tally.clicks;
                    sum.keys += tally.keys;
                }
                None => out.push((name.clone(), *tally)),
            }
        }
        out
    }

    /// All steps together.
    pub fn total(&self) -> Tally {
        self.total_without(&[])
    }

    /// All steps together except those named in `left_out`.
    pub fn total_without(&self, left_out: &[&str]) -> Tally {
        self.steps()
            .iter()
            .filter(|(name, _)| !left_out.contains(&name.as_str()))
            .fold(Tally::default(), |sum, (_, t)| Tally {
                clicks: sum.clicks + t.clicks,
                keys: sum.keys + t.keys,
            })
    }

    /// The steps as a table: step, clicks, keystrokes, and the total.
    pub fn report(&self) -> String {
        let mut out = format!("{:<14} {:>6} {:>10}\n", "step", "clicks", "keystrokes");
        for (name, t) in self.steps() {
            out.push_str(&format!("{name:<14} {:>6} {:>10}\n", t.clicks, t.keys));
        }
        let total = self.total();
        out.push_str(&format!(
            "{:<14} {:>6} {:>10}\n",
            "total", total.clicks, total.keys
        ));
        out
    }

    /// One click on `el` (`what` names it in a failure).
    pub async fn click_element(&self, el: &Element, what: &str) {
        el.click()
            .await
            .unwrap_or_else(|e| panic!("click {what}: {e}"));
        self.add(1, 0);
    }

    /// One click on the element with `data-testid=id`.
    pub async fn click(&self, id: &str) {
        let el = self.app.get(id).await;
        self.click_element(&el, id).await;
    }

    /// One click into the text field at the form's JSON `path` (for a select, see
    /// [`Self::pick_option`]).
    pub async fn click_field(&self, path: &str) {
        let input = self.app.input(&format!("field-{path}")).await;
        let tag = input.tag_name().await.expect("tag").to_lowercase();
        assert!(tag != "select", "{path} is a select: pick_option");
        self.click_element(&input, path).await;
        self.expect_focus(path).await;
    }

    /// Picks the option `value` of the select at `path` with the mouse: two clicks (open
    /// the list, click the option). WebDriver cannot reach the system's open list, so
    /// the option element is clicked, which selects it as the second click would.
    pub async fn pick_option(&self, path: &str, value: &str) {
        let select = self.app.input(&format!("field-{path}")).await;
        let option = select
            .find(Locator::Css(&format!("option[value=\"{value}\"]")))
            .await
            .unwrap_or_else(|e| panic!("{path} has no option {value}: {e}"));
        option
            .click()
            .await
            .unwrap_or_else(|e| panic!("pick {value} in {path}: {e}"));
        self.add(2, 0);
        assert!(
            option.is_selected().await.expect("selected"),
            "{path} = {value} is picked"
        );
    }

    /// One click on the option `value` of the radio group at `path` (its label, the big
    /// target a clerk aims at).
    pub async fn click_choice(&self, path: &str, value: &str) {
        let field = self.app.get(&format!("field-{path}")).await;
        let radio = field
            .find(Locator::Css(&format!(
                "input[type=radio][value=\"{value}\"]"
            )))
            .await
            .unwrap_or_else(|e| panic!("{path} has no option {value}: {e}"));
        let id = radio.attr("id").await.expect("id").expect("radio id");
        let label = field
            .find(Locator::Css(&format!("label[for=\"{id}\"]")))
            .await
            .unwrap_or_else(|e| panic!("no label for {path} = {value}: {e}"));
        self.click_element(&label, &format!("{path} = {value}"))
            .await;
        assert!(
            radio.is_selected().await.expect("checked"),
            "{path} = {value} is checked by the click"
        );
    }

    /// Presses the keys of `keys` one after another into whatever has the focus: each
    /// character (or WebDriver key code such as [`TAB`]) is one keystroke.
    pub async fn press(&self, keys: &str) {
        let mut actions = KeyActions::new("keyboard".into());
        let mut n = 0;
        for c in keys.chars() {
            actions = actions
                .then(KeyAction::Down { value: c })
                .then(KeyAction::Up { value: c });
            n += 1;
        }
        self.app
            .client()
            .perform_actions(actions)
            .await
            .unwrap_or_else(|e| panic!("press {keys:?}: {e}"));
        self.add(0, n);
    }

    /// Shift+Tab: two keys.
    pub async fn shift_tab(&self) {
        let tab: char = TAB.chars().next().expect("tab");
        let actions = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: SHIFT })
            .then(KeyAction::Down { value: tab })
            .then(KeyAction::Up { value: tab })
            .then(KeyAction::Up { value: SHIFT });
        self.app
            .client()
            .perform_actions(actions)
            .await
            .expect("shift+tab");
        self.add(0, 2);
    }

    /// Types `text` into the field at `path`, which must have the focus already (moved
    /// there by a click or Tab the clerk made, or by the app).
    pub async fn type_in(&self, path: &str, text: &str) {
        self.expect_focus(path).await;
        self.press(text).await;
    }

    /// Tab, and the focus is then in the field at `path`.
    pub async fn tab_to(&self, path: &str) {
        self.press(TAB).await;
        self.expect_focus(path).await;
    }

    /// The `data-testid` of what has the focus: the element itself, or else the
    /// innermost element around it that has one (a field, a fill button's box).
    pub async fn focused(&self) -> String {
        let found = self
            .app
            .client()
            .execute(
                "const a = document.activeElement;
                 const own = a && a.getAttribute('data-testid');
                 if (own) return own;
                 const el = a && a.closest('[data-testid]');
                 return el ? el.getAttribute('data-testid') : '';",
                vec![],
            )
            .await
            .expect("the focused element");
        found.as_str().unwrap_or_default().to_owned()
    }

    /// Asserts (waiting up to 5 s, as the app moves the focus after a render) that the
    /// focus is in the field at `path`: what the clerk sees before typing.
    pub async fn expect_focus(&self, path: &str) {
        self.expect_focus_on(&format!("field-{path}")).await;
    }

    /// As [`Self::expect_focus`], for the element `data-testid=id` (or inside it).
    pub async fn expect_focus_on(&self, id: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let now = self.focused().await;
            if now == id {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the focus is in {now:?}, not in {id:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// One signature stroke on the canvas: one click.
    pub async fn sign(&self) {
        super::app_flows::sign(self.app).await;
        self.add(1, 0);
    }

    /// Chooses the file `path` for the file input `data-testid=id`: two clicks (open the
    /// picker, pick the file).
    pub async fn choose_file(&self, id: &str, path: &std::path::Path) {
        self.app
            .get(id)
            .await
            .send_keys(&path.display().to_string())
            .await
            .unwrap_or_else(|e| panic!("choose {} for {id}: {e}", path.display()));
        self.add(2, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chord_and_special_keys_are_single_characters() {
        assert_eq!(TAB.chars().count(), 1);
        assert_eq!(ENTER.chars().count(), 1);
        assert_eq!(DOWN.chars().count(), 1);
        assert_eq!(SPACE.chars().count(), 1);
    }
}
