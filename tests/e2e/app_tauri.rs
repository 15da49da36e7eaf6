//! The kit desktop app end to end: the real `fieldkit-app` in a WebKitGTK window on
//! Xvfb, driven through `tauri-driver` + `WebKitWebDriver`, against the real
//! `fieldkit-backend` started by the test. First run (recovery secret, enrolment with
//! the provisioning file and one-time code, clerk) → unlock → an Anmeldung typed into
//! the JSON Forms form → review → the citizen reads the printout as the kit renders it
//! and signs below it on the canvas (attached as the signed printout PDF) → a scanned
//! landlord confirmation through the file input → a correction after signing, which
//! outdates the signature until the citizen signs again → finalize → sync → a reviewer approves in the backend → the decision shows
//! in the app's queue. Screenshots of the main screens go to
//! `target/screenshots/app-<screen>.png` (the README's come from here).
//!
//! Needs Xvfb, `webkit2gtk-driver`, `tauri-driver` and a built `ui/dist`;
//! `scripts/test.sh` provides them. Without them the test fails, it never skips.

use std::process::Command;
use std::time::Duration;

use fantoccini::Locator;
use fieldkit_backend::config::DatabaseUrl;

use fieldkit_e2e::harness::app::{app_pid, App};
use fieldkit_e2e::harness::app_flows::{
    anmeldung_fields, assert_shown, attach_landlord_confirmation, fill_anmeldung, set, shown, sign,
    wait_until,
};
use fieldkit_e2e::harness::app_screens::{german_shown, wait_for_lang, ScreenChecks};
use fieldkit_e2e::harness::backend::{demo, BackendProcess, Demo};
use fieldkit_e2e::harness::kit::TestKit;
use fieldkit_e2e::harness::{free_port, PIN};
use kit_core::protocol::api::CaseStatus;

/// Issue 17's count of clicks and keystrokes for a 2-person Anmeldung.
mod anmeldung_count;

/// A scanned landlord confirmation (any PDF bytes do; the kit encrypts what it gets).
const CONFIRMATION_PDF: &[u8] = b"%PDF-1.7\n% Wohnungsgeberbestaetigung, gescannt\n%%EOF\n";

/// One app at a time: two WebKit windows on a 2-core machine slow each other into
/// timeouts.
static ONE_APP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Backend {
    process: BackendProcess,
    demo: Demo,
    dir: tempfile::TempDir,
}

fn backend() -> Backend {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let data = dir.path().join("backend");
    let demo = demo(&data, None, &format!("http://127.0.0.1:{port}"));
    let process = BackendProcess::start(&data, None, port, None);
    Backend { process, demo, dir }
}

async fn approve(backend: &Backend, record_id: &str) {
    let database = DatabaseUrl::embedded(backend.process.data_dir());
    let store = fieldkit_backend::storage::open(&database, 1)
        .await
        .expect("store");
    for status in [CaseStatus::InReview, CaseStatus::Approved] {
        let changed = store
            .set_case_status(
                &record_id.parse().expect("record id"),
                status,
                Some("Alles vollständig. Die Meldebestätigung kommt per Post."),
                "demo-reviewer",
                chrono::Utc::now(),
            )
            .await
            .expect("status set");
        assert!(changed, "{status:?} set");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_captures_an_anmeldung_offline_and_sees_the_decision() {
    let _one = ONE_APP.lock().await;
    let backend = backend();
    let home = backend.dir.path().join("kit");
    let confirmation = backend.dir.path().join("wohnungsgeberbestaetigung.pdf");
    std::fs::write(&confirmation, CONFIRMATION_PDF).expect("scan");
    let app = App::start(&home, &[("FIELDKIT_SYNC_INTERVAL_SECS", "2")]).await;

    // First run: the kit is created and IT sees the recovery secret once.
    app.wait_for("screen-first-run", 30).await;
    // axe-core runs in this WebKit window on every screen below. It can fail: an
    // image without a text alternative, put in for a moment, is reported.
    let before = fieldkit_e2e::harness::browser::axe_on(app.client()).await;
    assert!(
        !before.iter().any(|v| v.id == "image-alt"),
        "the first screen has no image without alt text: {before:?}"
    );
    app.client()
        .execute(
            "const i = document.createElement('img'); i.id = 'axe-probe'; \
             i.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw='; document.body.append(i);",
            vec![],
        )
        .await
        .expect("insert the probe");
    let found = fieldkit_e2e::harness::browser::axe_on(app.client()).await;
    assert!(
        found.iter().any(|v| v.id == "image-alt"),
        "axe-core reports the image without alt text in WebKit: {found:?}"
    );
    app.client()
        .execute("document.getElementById('axe-probe').remove();", vec![])
        .await
        .expect("remove the probe");
    // The German-word scan can fail too: a German word put into the English screen,
    // outside any element marked German, is found.
    app.click("lang-switch").await;
    wait_for_lang(&app, "en").await;
    let before = german_shown(&app).await;
    app.client()
        .execute(
            "const p = document.createElement('p'); p.id = 'de-probe'; \
             p.textContent = 'Warteschlange'; document.body.append(p);",
            vec![],
        )
        .await
        .expect("insert the probe");
    let after = german_shown(&app).await;
    assert!(
        !before.iter().any(|w| w == "Warteschlange") && after.iter().any(|w| w == "Warteschlange"),
        "the scan finds a German word: before {before:?}, after {after:?}"
    );
    app.client()
        .execute("document.getElementById('de-probe').remove();", vec![])
        .await
        .expect("remove the probe");
    app.click("lang-switch").await;
    wait_for_lang(&app, "de").await;
    // Every screen: axe-core in German and English, and no German in the English UI.
    let mut screens = ScreenChecks::default();
    screens.check(&app, "first-run").await;
    app.click("init-kit").await;
    app.wait_for("screen-recovery-secret", 30).await;
    let secret = app.text("recovery-secret").await;
    assert!(secret.len() >= 20, "a recovery secret is shown: {secret:?}");
    app.click("secret-confirm").await;
    app.click("secret-continue").await;

    // Enrolment with the provisioning file and the one-time code.
    app.wait_for("screen-enrol", 10).await;
    app.get("provisioning-file")
        .await
        .send_keys(&backend.demo.provisioning.display().to_string())
        .await
        .expect("choose the provisioning file");
    app.wait_for("provisioning-loaded", 10).await;
    app.type_into("enrol-code", &backend.demo.code).await;
    screens.check(&app, "enrol").await;
    app.click("enrol-submit").await;

    // The clerk.
    app.wait_for("screen-add-clerk", 30).await;
    app.type_into("clerk-name", "Clara Müller").await;
    // This machine has no TPM (and the suite runs with FIELDKIT_TPM_TCTI=none): a short
    // secret is refused on the screen, before anything is stored; the passphrase is
    // then typed on (PIN is "Rathaus am Markt").
    assert!(app.text("pin-rules").await.contains("Passphrase"));
    let (short, rest) = PIN.split_at(7);
    app.type_into("pin", short).await;
    app.type_into("pin-repeat", short).await;
    app.click("add-clerk").await;
    app.wait_for("clerk-problem", 10).await;
    assert!(app.text("clerk-problem").await.contains("12 Zeichen"));
    screens.check(&app, "add-clerk").await;
    app.click("lang-switch").await;
    wait_for_lang(&app, "en").await;
    assert!(app.text("clerk-problem").await.contains("12 characters"));
    app.click("lang-switch").await;
    wait_for_lang(&app, "de").await;
    assert!(!app.has("clerk-list").await, "nothing was stored");
    app.type_into("pin", rest).await;
    app.type_into("pin-repeat", rest).await;
    app.click("add-clerk").await;
    app.wait_for("clerk-list", 30).await;
    app.click("setup-done").await;

    // Unlock.
    app.wait_for("screen-unlock", 30).await;
    app.type_into("pin", PIN).await;
    screens.check(&app, "unlock").await;
    app.click("unlock-submit").await;
    app.wait_for("screen-home", 30).await;

    // A new Anmeldung.
    app.click("new-application").await;
    app.wait_for("screen-services", 10).await;
    screens.check(&app, "services").await;
    app.click("service-anmeldung").await;
    app.wait_for("screen-form", 20).await;
    fill_anmeldung(&app).await;
    screens.check(&app, "form").await;
    let routing = app.text("field-new_address.ars").await;
    assert!(
        routing.contains("Gemeinde Musterstadt"),
        "the picked municipality says who is responsible: {routing}"
    );

    // Prüfen: the data as entered, and the kit's check of it, before anyone signs.
    app.click("next").await;
    app.wait_for("screen-review", 10).await;
    app.wait_for("check-data-ok", 30).await;
    screens.check(&app, "review").await;

    // The citizen reads the printout exactly as the kit will render it, and signs below
    // it; the kit makes the signed PDF and attaches it.
    app.click("next").await;
    app.wait_for("screen-signature", 10).await;
    app.wait_for("printout-preview", 30).await;
    // The paper is German whatever the app's language; the app around it switches.
    screens.check(&app, "signature-printout").await;
    let preview = app.text("printout-preview").await;
    for shown in [
        "Schulze",
        "Hildegard",
        "Lindenweg",
        "02.04.1938",
        "Ort, Datum: Musterstadt",
    ] {
        assert!(
            preview.contains(shown),
            "the printout above the signature shows {shown:?}: {preview}"
        );
    }
    sign(&app).await;
    // A drawn signature waits to be accepted: German only.
    screens.check_german_only(&app, "signature").await;
    app.click("signature-accept").await;

    // Anlagen, after the signature: the scanned landlord confirmation.
    app.wait_for("screen-attachments", 30).await;
    attach_landlord_confirmation(&app, &confirmation).await;
    screens.check(&app, "attachments").await;

    // The clerk corrects the street after the signature: the signed printout no longer
    // shows the data, Abschluss says so and sends the citizen back to sign again.
    app.click("step-form").await;
    app.wait_for("screen-form", 10).await;
    set(&app, "new_address.street", "Lindenallee").await;
    // The page settles once the correction is saved (the save state above the step bar
    // goes pending or saving, then saved), then the clerk moves on.
    let settle = std::time::Instant::now() + Duration::from_secs(3);
    while std::time::Instant::now() < settle {
        let state = app
            .get("save-state")
            .await
            .attr("data-state")
            .await
            .expect("attr");
        if state.as_deref() != Some("saved") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_for_attr(&app, "save-state", "data-state", "saved").await;
    app.click("step-finish").await;
    app.wait_for("screen-finish", 10).await;
    app.wait_for("check-outdated-printout", 30).await;
    screens.check(&app, "finish-outdated").await;
    app.click("step-signature").await;
    app.wait_for("screen-signature", 10).await;
    app.wait_for("signature-outdated", 30).await;
    wait_until(&app, "printout-preview", "Lindenallee", 30).await;
    sign(&app).await;
    app.click("signature-accept").await;
    app.wait_for("screen-attachments", 30).await;
    app.click("next").await;

    // Abschluss: the kit's own check finds nothing missing.
    app.wait_for("screen-finish", 10).await;
    app.wait_for("check-ok", 30).await;
    screens.check(&app, "finish").await;
    app.click("finalize").await;

    // The receipt for the citizen.
    app.wait_for("screen-receipt", 30).await;
    let case_number = app.text("case-number").await;
    let code = app.text("verification-code").await;
    assert!(!case_number.is_empty() && !code.is_empty());
    screens.check(&app, "receipt").await;
    assert_eq!(
        app.text("receipt-label").await,
        "Hildegard Schulze",
        "the receipt says whom the application is for"
    );

    // Auto-sync (every 2 s here) delivers it with both files.
    app.click("to-home").await;
    app.wait_for("screen-home", 10).await;
    app.click("nav-queue").await;
    app.wait_for("screen-queue", 10).await;
    let row = app
        .client()
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid^=\"record-open-\"]"))
        .await
        .expect("the record is queued");
    let record_id = row
        .attr("data-testid")
        .await
        .expect("attr")
        .expect("test id")
        .trim_start_matches("record-open-")
        .to_owned();
    let state = format!("record-status-{record_id}");
    wait_until(&app, &state, "Vollständig übertragen", 60).await;
    screens.check(&app, "queue").await;

    // A reviewer decides; the decision arrives with the next auto-sync.
    approve(&backend, &record_id).await;
    wait_until(
        &app,
        &format!("record-case-status-{record_id}"),
        "Genehmigt",
        60,
    )
    .await;
    screens.check(&app, "queue-decided").await;
    assert_eq!(
        app.text(&format!("record-label-{record_id}")).await,
        "Hildegard Schulze",
        "the queue says whom each record is for (kept on the kit only)"
    );
    app.click(&format!("record-open-{record_id}")).await;
    let history = app
        .wait_for("record-history", 10)
        .await
        .text()
        .await
        .expect("text");
    assert!(
        history.contains("Genehmigt") && history.contains("Meldebestätigung kommt per Post"),
        "{history}"
    );
    screens.check(&app, "record").await;
    app.quit().await;
    assert_eq!(screens.screens(), 16, "every screen was checked");
    screens.assert_clean();
}

/// A Rückfrage answered in the app: the reviewer asks for a document, the clerk opens the
/// record, writes the answer, attaches the document and sends it; auto-sync delivers it,
/// the case is back in review and the app says so. Both screens of the answer are checked
/// in German and English.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_answers_a_rueckfrage_in_the_app_and_the_case_is_back_in_review() {
    let _one = ONE_APP.lock().await;
    let backend = backend();
    let home = backend.dir.path().join("kit");
    let kit = TestKit::enrolled(&home, &backend.demo);
    let record_id = kit.capture(1, 4_000).remove(0);
    assert!(kit.sync(None, &[]).status.success(), "delivered");
    let database = DatabaseUrl::embedded(backend.process.data_dir());
    let store = fieldkit_backend::storage::open(&database, 1)
        .await
        .expect("store");
    let id = record_id.parse().expect("record id");
    assert!(store
        .set_case_status(
            &id,
            CaseStatus::NeedsInformation,
            Some("Bitte eine Kopie des Reisepasses nachreichen."),
            "demo-reviewer",
            chrono::Utc::now(),
        )
        .await
        .expect("asked"));

    let app = App::start(&home, &[("FIELDKIT_SYNC_INTERVAL_SECS", "2")]).await;
    unlock(&app).await;
    app.click("nav-queue").await;
    wait_until(
        &app,
        &format!("record-case-status-{record_id}"),
        "Rückfrage",
        60,
    )
    .await;
    app.click(&format!("record-open-{record_id}")).await;
    app.wait_for("answer-query", 10).await;
    let mut screens = ScreenChecks::default();
    screens.check(&app, "answer").await;
    app.type_into("answer-note", "Kopie des Reisepasses anbei.")
        .await;
    app.click("answer-start").await;
    app.wait_for("answer-ready", 10).await;
    let passport = backend.dir.path().join("reisepass.pdf");
    std::fs::write(&passport, CONFIRMATION_PDF).expect("scan");
    attach_landlord_confirmation(&app, &passport).await;
    screens.check(&app, "answer-documents").await;
    app.click("answer-send").await;
    app.wait_for("answer-sent", 30).await;

    // Auto-sync delivers the answer; the case is back in review, and the kit learns it.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let detail = store.case_detail(&id).await.expect("case").expect("held");
        if detail.case.status == CaseStatus::InReview {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the answered case is still {:?}",
            detail.case.status
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    app.click("nav-queue").await;
    wait_until(
        &app,
        &format!("record-case-status-{record_id}"),
        "In Bearbeitung",
        60,
    )
    .await;
    app.quit().await;
    screens.assert_clean();
    let data = backend.process.data_dir().to_path_buf();
    let settled = tokio::task::spawn_blocking(move || {
        fieldkit_e2e::harness::check::assert_exactly_once(
            &kit,
            &DatabaseUrl::embedded(&data),
            &data,
        )
    })
    .await
    .expect("the exactly-once check");
    assert_eq!(settled.records, 2, "the application and its answer");
}

/// The app is killed (SIGKILL) in the middle of a form, a second after the clerk's last
/// keystroke; started again, the draft is on the home screen with what was typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_survives_the_app_being_killed_mid_form() {
    let _one = ONE_APP.lock().await;
    let backend = backend();
    let home = backend.dir.path().join("kit");
    TestKit::enrolled(&home, &backend.demo);
    let app = App::start(&home, &[]).await;
    app.wait_for("screen-unlock", 30).await;
    app.type_into("pin", PIN).await;
    app.click("unlock-submit").await;
    app.wait_for("screen-home", 30).await;
    app.click("new-application").await;
    app.click("service-anmeldung").await;
    app.wait_for("screen-form", 20).await;
    if !app.has("field-persons.0.family_name").await {
        app.click("add-persons").await;
    }
    set(&app, "persons.0.family_name", "Wagner").await;
    set(&app, "persons.0.first_names", "Ilse").await;
    set(&app, "new_address.city", "Musterstadt").await;
    // Autosave runs 1 s after the last change; then the save itself must have ended.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    wait_for_attr(&app, "save-state", "data-state", "saved").await;

    let pid = app_pid(&home).expect("the app runs on this kit");
    let killed = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success(), "the app was running and is killed");
    drop(app);

    let app = App::start(&home, &[]).await;
    app.wait_for("screen-unlock", 30).await;
    app.type_into("pin", PIN).await;
    app.click("unlock-submit").await;
    let drafts = app.wait_for("draft-list", 30).await;
    let resume = drafts
        .find(Locator::Css("[data-testid^=\"resume-\"]"))
        .await
        .expect("the draft is listed");
    resume.click().await.expect("resume");
    app.wait_for("screen-form", 20).await;
    for (path, typed) in [
        ("persons.0.family_name", "Wagner"),
        ("persons.0.first_names", "Ilse"),
        ("new_address.city", "Musterstadt"),
    ] {
        let value = app
            .input(&format!("field-{path}"))
            .await
            .prop("value")
            .await
            .expect("value");
        assert_eq!(value.as_deref(), Some(typed), "{path} kept");
    }
    app.quit().await;
}

/// No input is lost by the UI: an Anmeldung typed field by field (text, date, select and
/// radio fields; nested objects; an array of persons with an array of nationalities)
/// keeps every value when the language is switched in the middle of the form, after
/// the autosave, when switched back, and in the draft resumed
/// from the home screen; then an edit made right before the manual lock is there after
/// unlocking, and again after the web view is reloaded. The form in English and German
/// goes to `target/screenshots/app-form-lang-{en,de}.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_input_is_lost_by_a_language_switch_a_lock_or_a_reload_mid_form() {
    let _one = ONE_APP.lock().await;
    let backend = backend();
    let home = backend.dir.path().join("kit");
    TestKit::enrolled(&home, &backend.demo);
    let app = App::start(&home, &[]).await;
    unlock(&app).await;
    start_a_filled_anmeldung(&app).await;
    // What the form holds now is what must stay: every value as typed, dates and
    // countries too (stored as ISO date and code, shown in the UI's language).
    let mut typed = Vec::new();
    for (path, value) in anmeldung_fields() {
        let now = shown(&app, path).await;
        assert_eq!(now, value, "{path} as typed");
        typed.push((path, now));
    }

    // Mid-form (the last field was left, so its autosave is under way).
    app.click("lang-switch").await;
    wait_for_lang(&app, "en").await;
    assert_shown(&app, &typed, "right after the switch to English").await;
    // Past the autosave: what is saved is the typed form, not an emptied one.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    wait_for_attr(&app, "save-state", "data-state", "saved").await;
    assert_shown(&app, &typed, "after the autosave in English").await;
    app.screenshot("form-lang-en").await;

    app.click("lang-switch").await;
    wait_for_lang(&app, "de").await;
    assert_shown(&app, &typed, "after switching back to German").await;
    app.screenshot("form-lang-de").await;

    // Home and back: the draft the kit stored has every value.
    app.click("exit-wizard").await;
    resume_the_draft(&app).await;
    assert_shown(&app, &typed, "in the resumed draft").await;

    // An edit, then at once the manual lock: it is saved before the store closes.
    set(&app, "new_address.address_addition", "Hinterhaus").await;
    typed.push(("new_address.address_addition", "Hinterhaus".to_owned()));
    app.click("lock").await;
    // Locking first stops auto-sync (joining its loop at the loop's next step). Once, in
    // a full CI run, the unlock screen took longer than 10 s to appear (not reproduced
    // since); like the other screen waits here, it gets 30 s.
    app.wait_for("screen-unlock", 30).await;
    assert!(
        !app.has("field-persons.0.family_name").await,
        "nothing of the form stays on screen while locked"
    );
    unlock(&app).await;
    app.wait_for("field-persons.0.family_name", 20).await;
    assert_shown(&app, &typed, "after locking and unlocking").await;

    // A reload of the web view keeps nothing in memory; the kit's draft has it all.
    app.client().refresh().await.expect("reload the web view");
    app.wait_for("screen-home", 30).await;
    resume_the_draft(&app).await;
    assert_shown(&app, &typed, "after reloading the web view").await;
    app.quit().await;
}

/// Names as DIN 91379 writes them (issue 18): a family name typed decomposed
/// (`Nguye` + U+0302 + U+0303 + `n`) is shown and kept composed; a first name in another
/// script is refused under the field with the character and its position, in German
/// and in English. Screenshots: `target/screenshots/app-form-din91379-{de,en}.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_is_kept_composed_and_a_character_outside_din_91379_is_named() {
    let _one = ONE_APP.lock().await;
    let backend = backend();
    let home = backend.dir.path().join("kit");
    TestKit::enrolled(&home, &backend.demo);
    let app = App::start(&home, &[]).await;
    unlock(&app).await;
    start_a_filled_anmeldung(&app).await;

    set(&app, "persons.0.family_name", "Nguye\u{302}\u{303}n").await;
    assert_eq!(
        shown(&app, "persons.0.family_name").await,
        "Nguy\u{1ec5}n",
        "shown in NFC"
    );
    set(&app, "persons.0.first_names", "王小明").await;
    let field = "field-persons.0.first_names";
    wait_until(&app, field, "an Stelle 1", 15).await;
    let de = app.text(field).await;
    assert!(de.contains("„王“") && de.contains("DIN 91379"), "{de}");
    app.screenshot("form-din91379-de").await;
    app.click("lang-switch").await;
    wait_for_lang(&app, "en").await;
    wait_until(&app, field, "at position 1", 15).await;
    let en = app.text(field).await;
    assert!(en.contains("'王'") && en.contains("DIN 91379"), "{en}");
    app.screenshot("form-din91379-en").await;

    // The kit's draft holds the composed name: it is there when the draft is resumed.
    app.click("exit-wizard").await;
    resume_the_draft(&app).await;
    assert_eq!(
        shown(&app, "persons.0.family_name").await,
        "Nguy\u{1ec5}n",
        "stored in NFC"
    );
    app.quit().await;
}

async fn unlock(app: &App) {
    app.wait_for("screen-unlock", 30).await;
    app.type_into("pin", PIN).await;
    app.click("unlock-submit").await;
}

/// From the home screen: a new Anmeldung, filled in field by field.
async fn start_a_filled_anmeldung(app: &App) {
    app.click("new-application").await;
    app.click("service-anmeldung").await;
    app.wait_for("screen-form", 20).await;
    fill_anmeldung(app).await;
}

/// From the home screen, opens the only draft and waits for its form.
async fn resume_the_draft(app: &App) {
    let drafts = app.wait_for("draft-list", 30).await;
    drafts
        .find(Locator::Css("[data-testid^=\"resume-\"]"))
        .await
        .expect("the draft is listed")
        .click()
        .await
        .expect("resume");
    app.wait_for("screen-form", 20).await;
    app.wait_for("field-persons.0.family_name", 20).await;
}

async fn wait_for_attr(app: &App, id: &str, attr: &str, want: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let now = app.get(id).await.attr(attr).await.expect("attr");
        if now.as_deref() == Some(want) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{id} {attr}={now:?}, never {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
