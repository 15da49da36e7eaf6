//! What a clerk does in the app, as WebDriver steps shared by the app's end-to-end test
//! and its benchmark: fill the Anmeldung form field by field, read back what the form
//! shows, draw a signature, wait for a text to appear.

use std::time::Duration;

use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::Locator;

use super::app::App;

/// Sets a form field by its JSON path (`persons.0.family_name`): types into text
/// inputs like a clerk; picks options of selects and radio groups by value.
pub async fn set(app: &App, path: &str, value: &str) {
    let field = app.get(&format!("field-{path}")).await;
    let radio = field
        .find_all(Locator::Css(&format!(
            "input[type=radio][value=\"{value}\"]"
        )))
        .await
        .expect("radios");
    if let Some(radio) = radio.first() {
        radio.click().await.expect("pick radio");
        return;
    }
    let input = app.input(&format!("field-{path}")).await;
    let tag = input.tag_name().await.expect("tag").to_lowercase();
    if tag == "select" {
        input
            .find(Locator::Css(&format!("option[value=\"{value}\"]")))
            .await
            .unwrap_or_else(|e| panic!("{path} has no option {value}: {e}"))
            .click()
            .await
            .expect("pick option");
    } else {
        input.clear().await.expect("clear");
        input.send_keys(value).await.expect("type");
    }
    // Leave the field, as a clerk tabbing on would.
    input.send_keys("\u{e004}").await.ok();
}

/// The person of the Anmeldung [`fill_anmeldung`] types (JSON path, value).
const ANMELDUNG_PERSON: [(&str, &str); 8] = [
    ("persons.0.relationship", "antragsteller"),
    ("persons.0.family_name", "Schulze"),
    ("persons.0.first_names", "Hildegard"),
    ("persons.0.date_of_birth", "1938-04-02"),
    ("persons.0.place_of_birth", "Darmstadt"),
    ("persons.0.sex", "weiblich"),
    ("persons.0.family_status", "VW"),
    ("persons.0.religious_society", "ev"),
];

/// Her nationality, an item of an array inside the person.
const ANMELDUNG_NATIONALITY: (&str, &str) = ("persons.0.nationalities.0", "DE");

/// The move of the Anmeldung [`fill_anmeldung`] types (JSON path, value).
const ANMELDUNG_MOVE: [(&str, &str); 8] = [
    ("move_in_date", "2026-11-01"),
    ("new_address.street", "Lindenweg"),
    ("new_address.house_number", "3a"),
    ("new_address.postal_code", "64390"),
    ("new_address.city", "Musterstadt"),
    ("new_address.ars", "064320001001"),
    ("dwelling_type", "hauptwohnung"),
    ("landlord_confirmation.status", "missing"),
];

/// Every field [`fill_anmeldung`] sets, with its value: text, date, select and radio
/// fields, in nested objects, in an array of objects and in an array inside that.
pub fn anmeldung_fields() -> Vec<(&'static str, &'static str)> {
    let mut all = ANMELDUNG_PERSON.to_vec();
    all.push(ANMELDUNG_NATIONALITY);
    all.extend(ANMELDUNG_MOVE);
    all
}

/// Fills the Anmeldung form of one person moving into Musterstadt.
pub async fn fill_anmeldung(app: &App) {
    if !app.has("field-persons.0.family_name").await {
        app.click("add-persons").await;
    }
    for (path, value) in ANMELDUNG_PERSON {
        set(app, path, value).await;
    }
    if !app.has("field-persons.0.nationalities.0").await {
        app.click("add-persons.0.nationalities").await;
    }
    set(app, ANMELDUNG_NATIONALITY.0, ANMELDUNG_NATIONALITY.1).await;
    for (path, value) in ANMELDUNG_MOVE {
        if path == MUNICIPALITY.0 {
            pick_municipality(app, path, MUNICIPALITY.1).await;
        } else {
            set(app, path, value).await;
        }
    }
}

/// The municipality of the new address, picked by name (the form stores its ARS, the
/// value [`ANMELDUNG_MOVE`] expects).
const MUNICIPALITY: (&str, &str) = ("new_address.ars", "Musterstadt");

/// Picks a municipality by typing its name into the picker at `path` and taking the
/// suggestion with Enter, as a clerk does.
pub async fn pick_municipality(app: &App, path: &str, name: &str) {
    let input = app.input(&format!("field-{path}")).await;
    input.clear().await.expect("clear");
    input.send_keys(name).await.expect("type the name");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while input.attr("aria-expanded").await.ok().flatten().as_deref() != Some("true") {
        assert!(
            std::time::Instant::now() < deadline,
            "the municipality picker at {path} offers nothing for {name:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    input
        .send_keys("\u{e007}")
        .await
        .expect("take the suggestion");
    input.send_keys("\u{e004}").await.ok();
}

/// What the form holds in the field at `path`: the value of a text or select input, the
/// stored value of a date or country field (not its language's rendering), or of the
/// checked radio button of a radio group ("" when none is checked).
pub async fn shown(app: &App, path: &str) -> String {
    let field = app.get(&format!("field-{path}")).await;
    let radios = field
        .find_all(Locator::Css("input[type=radio]"))
        .await
        .expect("radios");
    if !radios.is_empty() {
        for radio in radios {
            if radio.is_selected().await.expect("checked") {
                return radio
                    .attr("value")
                    .await
                    .expect("value")
                    .unwrap_or_default();
            }
        }
        return String::new();
    }
    let input = app.input(&format!("field-{path}")).await;
    // Date and country fields show their value in the UI's language; what must stay is
    // the stored value, which they carry in `data-value`.
    if let Some(stored) = input.attr("data-value").await.expect("data-value") {
        return stored;
    }
    input
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default()
}

/// Asserts that the form shows every `(path, value)` of `fields`; `when` names the moment
/// in the failure message.
pub async fn assert_shown<S: AsRef<str>>(app: &App, fields: &[(&str, S)], when: &str) {
    let mut wrong = Vec::new();
    for (path, value) in fields {
        let value = value.as_ref();
        let now = shown(app, path).await;
        if now != value {
            wrong.push(format!("{path}: {now:?} instead of {value:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{when}, the form lost input:\n{}",
        wrong.join("\n")
    );
}

/// Draws a signature-like stroke on the canvas with the pointer.
pub async fn sign(app: &App) {
    let canvas = app.get("signature-canvas").await;
    // The pad sits below the printout the citizen reads: into view first, as a clerk
    // scrolls to it.
    let element = serde_json::to_value(&canvas).expect("element reference");
    app.client()
        .execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![element],
        )
        .await
        .expect("scroll to the signature field");
    let mut stroke = MouseActions::new("pen".into())
        .then(PointerAction::MoveToElement {
            element: canvas.clone(),
            duration: None,
            x: -120.0,
            y: 10.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        });
    for (x, y) in [
        (-80.0, -20.0),
        (-40.0, 25.0),
        (0.0, -25.0),
        (40.0, 20.0),
        (80.0, -15.0),
        (120.0, 10.0),
    ] {
        stroke = stroke.then(PointerAction::MoveToElement {
            element: canvas.clone(),
            duration: Some(Duration::from_millis(60)),
            x,
            y,
        });
    }
    stroke = stroke.then(PointerAction::Up {
        button: MOUSE_BUTTON_LEFT,
    });
    app.client()
        .perform_actions(stroke)
        .await
        .expect("draw the signature");
}

/// Waits until `data-testid=id` shows `text`, going back to the queue to refresh.
pub async fn wait_until(app: &App, id: &str, text: &str, secs: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let css = format!("[data-testid=\"{id}\"]");
        let now = match app.client().find(Locator::Css(&css)).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if now.contains(text) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{id} still shows {now:?}, not {text:?}, after {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// From the home screen: one Anmeldung with a scanned landlord confirmation (`scan`)
/// and a signature, finalized; back on the home screen. Returns the case number.
pub async fn capture_anmeldung(app: &App, scan: &std::path::Path) -> String {
    app.click("new-application").await;
    app.wait_for("screen-services", 10).await;
    app.click("service-anmeldung").await;
    app.wait_for("screen-form", 20).await;
    fill_anmeldung(app).await;
    app.click("next").await;
    app.wait_for("screen-review", 10).await;
    app.wait_for("check-data-ok", 30).await;
    app.click("next").await;
    app.wait_for("screen-signature", 10).await;
    app.wait_for("printout-preview", 30).await;
    sign(app).await;
    app.click("signature-accept").await;
    app.wait_for("screen-attachments", 30).await;
    attach_landlord_confirmation(app, scan).await;
    app.click("next").await;
    app.wait_for("screen-finish", 10).await;
    app.wait_for("check-ok", 30).await;
    app.click("finalize").await;
    app.wait_for("screen-receipt", 30).await;
    let case_number = app.text("case-number").await;
    app.click("to-home").await;
    app.wait_for("screen-home", 10).await;
    case_number
}

/// On the attachments step: the scanned landlord confirmation through the real file
/// input.
pub async fn attach_landlord_confirmation(app: &App, scan: &std::path::Path) {
    app.get("attach-landlord-confirmation")
        .await
        .send_keys(&scan.display().to_string())
        .await
        .expect("choose the scan");
    app.wait_for("attached-landlord-confirmation", 30).await;
}
