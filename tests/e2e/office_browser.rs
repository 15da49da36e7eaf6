//! The back office in a real browser: headless Chromium over WebDriver against the real
//! `fieldkit-backend`, with a real kit that captured and synced an Anmeldung. A reviewer
//! signs in, filters the inbox, opens the case, sees its attachments under the catalog's
//! labels with a view page each, has a refusal without comment sent back to the case
//! with the error, takes it into review and approves it through the page's forms (one
//! of them by keyboard alone); the
//! kit's next `fieldkit sync` shows the decision and its comment. Every page — the
//! reviewer's, the IT and audit pages of the other demo roles, error pages — is checked
//! with axe-core (WCAG 2.1 A/AA and best practices) in German and English, and
//! screenshotted to `target/screenshots/office-<page>.png`.
//!
//! Needs the Debian packages `chromium` and `chromium-driver` and `npm ci` in
//! `tests/browser`; `scripts/test.sh` installs all three. Without them the tests fail.

use fantoccini::key::Key;
use fieldkit_backend::config::DatabaseUrl;
use fieldkit_backend::office::OFFICE_ROUTES;
use fieldkit_e2e::harness::backend::{demo, BackendProcess, Demo};
use fieldkit_e2e::harness::browser::Browser;
use fieldkit_e2e::harness::check::assert_exactly_once;
use fieldkit_e2e::harness::free_port;
use fieldkit_e2e::harness::kit::{anmeldung, scan, TestKit};

/// The demo's reviewer of Gemeinde Musterstadt.
const REVIEWER: &str = "demo-reviewer";
/// The demo's authority administrator (manages users).
const ADMIN: &str = "demo-authority-admin";
/// The session cookie (`backend/src/office/session.rs`).
const SESSION_COOKIE: &str = "__Host-fieldkit-session";
/// The reviewer's comment on the approval.
const COMMENT: &str = "Alles vollständig. Meldebestätigung folgt per Post.";
/// The reviewer's Rückfrage and the clerk's answer.
const QUESTION: &str = "Bitte eine Kopie des Reisepasses nachreichen.";
const ANSWER: &str = "Kopie des Reisepasses anbei; Original bei Frau Özdemir gesehen.";

/// A 1×1 PNG: the signed printout, photographed.
const PRINTOUT_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// The axe sweep, run once the case is decided: (user, screenshot name, path), where
/// `{case}` stands for the case's id and `{pdf}`/`{png}` for the view pages of its
/// landlord confirmation (PDF) and signed printout (PNG). Add a page with one line; the
/// sweep signs in as each user in turn. The language sticks (a cookie) until the next
/// `lang=`.
#[rustfmt::skip]
const SWEEP: &[(&str, &str, &str)] = &[
    (REVIEWER, "home", "/office"),
    (REVIEWER, "inbox", "/office/cases"),
    (REVIEWER, "inbox-en", "/office/cases?lang=en"),
    (REVIEWER, "case-en", "/office/cases/{case}?lang=en"),
    (REVIEWER, "case-print-en", "/office/cases/{case}?print=1"),
    (REVIEWER, "attachment-view-pdf-en", "{pdf}"),
    (REVIEWER, "attachment-view-png-en", "{png}"),
    (REVIEWER, "home-en", "/office"),
    (REVIEWER, "inbox-de", "/office/cases?lang=de"),
    (REVIEWER, "case-print", "/office/cases/{case}?print=1"),
    (REVIEWER, "attachment-view-pdf", "{pdf}"),
    (REVIEWER, "attachment-view-png", "{png}"),
    (REVIEWER, "inbox-service-export", "/office/cases?service=anmeldung"),
    (REVIEWER, "password", "/office/password"),
    (REVIEWER, "password-en", "/office/password?lang=en"),
    (REVIEWER, "password-de", "/office/password?lang=de"),
    (REVIEWER, "inbox-invalid-filter", "/office/cases?from=2026-13-40"),
    (REVIEWER, "inbox-find-none", "/office/cases?code=ABCD-EFGH"),
    (REVIEWER, "inbox-find-none-en", "/office/cases?code=ABCD-EFGH&lang=en"),
    (REVIEWER, "inbox-find-invalid", "/office/cases?code=12-34"),
    (REVIEWER, "case-unknown", "/office/cases/01900000-0000-7000-8000-000000000000"),
    (REVIEWER, "export-invalid", "/office/cases/export?format=none"),
    ("demo-it-operator", "admin-kits", "/office/admin/kits"),
    ("demo-it-operator", "admin-authority", "/office/admin/authority"),
    ("demo-it-operator", "admin-catalog", "/office/admin/catalog"),
    ("demo-it-operator", "admin-kits-en", "/office/admin/kits?lang=en"),
    ("demo-it-operator", "admin-rotate-key", "/office/admin/authority/rotate-key"),
    ("demo-authority-admin", "admin-users", "/office/admin/users"),
    ("demo-authority-admin", "admin-user-disable", "/office/admin/users/demo-auditor/disable"),
    ("demo-authority-admin", "admin-user-role", "/office/admin/users/demo-auditor/role"),
    ("demo-authority-admin", "admin-user-role-en", "/office/admin/users/demo-auditor/role?lang=en"),
    ("demo-authority-admin", "admin-user-role-own", "/office/admin/users/demo-authority-admin/role?lang=de"),
    ("demo-auditor", "admin-audit", "/office/admin/audit"),
];

/// A backend with the demo on loopback HTTP, and its temp folder.
struct Office {
    backend: BackendProcess,
    demo: Demo,
    dir: tempfile::TempDir,
}

impl Office {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let data = dir.path().join("backend");
        let demo = demo(&data, None, &format!("http://127.0.0.1:{port}"));
        let backend = BackendProcess::start(&data, None, port, None);
        Self { backend, demo, dir }
    }

    /// A kit enrolled with this backend that captured one Anmeldung (signed printout as
    /// a PNG, landlord confirmation as a PDF) and synced it, record and attachments;
    /// its record id and the two files.
    fn synced_kit(&self) -> (TestKit, String, [Vec<u8>; 2]) {
        let kit = TestKit::enrolled(&self.dir.path().join("kit"), &self.demo);
        let confirmation = scan(5_000, 7);
        let id = {
            let mut session = kit.session();
            let draft = session
                .create_draft("anmeldung", &anmeldung())
                .expect("draft");
            session
                .attach(&draft, "signed-printout", "image/png", PRINTOUT_PNG)
                .expect("printout");
            session
                .attach(
                    &draft,
                    "landlord-confirmation",
                    "application/pdf",
                    &confirmation[..],
                )
                .expect("confirmation");
            session.finalize(&draft).expect("finalize").record_id
        };
        let out = kit.sync(None, &[]);
        assert!(
            out.status.success(),
            "sync: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .next_back()
            .expect("sync report")["report"]
            .clone();
        assert_eq!(report["delivered"], 1, "{report}");
        assert_eq!(report["attachments_uploaded"], 2, "both files: {report}");
        assert_eq!(report["uploads_open"], 0, "{report}");
        (kit, id, [PRINTOUT_PNG.to_vec(), confirmation])
    }
}

/// `fieldkit --json record answer ID --note NOTE` with `attach` (`KIND=PATH` each).
fn answer(kit: &TestKit, id: &str, note: &str, attach: &[String]) -> std::process::Output {
    let mut cli = kit.cli();
    cli.args(["--json", "record", "answer", id, "--note", note]);
    for a in attach {
        cli.args(["--attach", a]);
    }
    cli.output().expect("fieldkit runs")
}

/// Whether the back office serves attachment downloads (a route of its own).
fn downloads_served() -> bool {
    OFFICE_ROUTES
        .iter()
        .any(|r| r.method == "GET" && r.path.contains("/attachments/"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_decides_a_synced_case_in_the_browser_and_the_kit_learns_it() {
    let office = Office::start();
    let (kit, case, files) = office.synced_kit();
    let b = Browser::start(&office.backend.url()).await;

    b.open("/office/login").await;
    b.axe_check("login").await;
    b.login(REVIEWER, office.demo.password(REVIEWER)).await;
    assert_eq!(b.path().await, "/office", "signed in, on the start page");
    // The __Host- cookie (Secure) is kept by Chromium on plain loopback HTTP.
    let cookie = b
        .client()
        .get_named_cookie(SESSION_COOKIE)
        .await
        .expect("the session cookie is kept");
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.http_only(), Some(true));

    // The inbox, filtered by service and status: the case is there.
    b.open("/office/cases").await;
    b.axe_check("inbox-received").await;
    let case_link = format!("a[href='/office/cases/{case}']");
    let filter = |status: &'static str| {
        let b = &b;
        async move {
            b.find("#f-service")
                .await
                .select_by_value("anmeldung")
                .await
                .expect("service option");
            b.find("#f-status")
                .await
                .select_by_value(status)
                .await
                .expect("status option");
            b.click_to_next_page("form.filters button[type=submit]")
                .await;
        }
    };
    filter("approved").await;
    assert!(
        b.path().await.contains("status=approved"),
        "{}",
        b.path().await
    );
    assert!(b.find_all(&case_link).await.is_empty(), "not yet approved");
    filter("received").await;
    let path = b.path().await;
    assert!(
        path.contains("service=anmeldung") && path.contains("status=received"),
        "{path}"
    );
    b.axe_check("inbox-filtered").await;
    b.click_to_next_page(&case_link).await;
    assert_eq!(b.path().await, format!("/office/cases/{case}"));
    b.axe_check("case").await;

    // The reviewer finds the case as the citizen or the clerk names it: by the
    // Vorgangsnummer typed into the inbox's field and Enter, and by the receipt's
    // Prüfcode as people type it; the case page shows both.
    let record = kit
        .session()
        .records(None, 10)
        .expect("records")
        .into_iter()
        .find(|r| r.record_id == case)
        .expect("the kit's record");
    for typed in [
        record.case_number.clone(),
        record.verification_code.replace('-', " ").to_lowercase(),
    ] {
        b.open("/office/cases").await;
        b.fill("#f-code", &typed).await;
        b.press_to_next_page(Key::Enter).await;
        assert_eq!(b.path().await, format!("/office/cases/{case}"), "{typed}");
    }
    let codes = b.text("p.subtitle").await;
    assert!(
        codes.contains(&record.case_number) && codes.contains(&record.verification_code),
        "{codes}"
    );

    // Both attachments are listed under the catalog's labels; where downloads are
    // served, each download link gives exactly the kit's file.
    let rows = b
        .find_all("table[aria-labelledby='attachments-heading'] tbody tr")
        .await;
    assert_eq!(rows.len(), 2, "signed printout and landlord confirmation");
    let attachments = b.text("table[aria-labelledby='attachments-heading']").await;
    assert!(attachments.contains("image/png"), "{attachments}");
    assert!(attachments.contains("application/pdf"), "{attachments}");
    assert!(
        attachments.contains("Wohnungsgeberbestätigung")
            && attachments.contains("Unterschriebener Ausdruck der Meldedaten"),
        "{attachments}"
    );
    // Each file can be viewed in the office: (media type, view page) per row.
    let mut views = Vec::new();
    for row in 1..=2 {
        let tr = format!("table[aria-labelledby='attachments-heading'] tbody tr:nth-child({row})");
        let media = b.text(&format!("{tr} td:nth-child(3)")).await;
        let href = b
            .find(&format!("{tr} a[href$='/view']"))
            .await
            .attr("href")
            .await
            .expect("href")
            .expect("a view link");
        views.push((media, href));
    }
    let view_of = |media: &str| {
        views
            .iter()
            .find(|(m, _)| m == media)
            .map(|(_, href)| href.clone())
            .unwrap_or_else(|| panic!("no view of the {media}: {views:?}"))
    };
    let (pdf_view, png_view) = (view_of("application/pdf"), view_of("image/png"));
    if downloads_served() {
        let links = b
            .find_all("table[aria-labelledby='attachments-heading'] a[download]")
            .await;
        assert_eq!(links.len(), 2, "a download link per file");
        for (i, original) in files.iter().enumerate() {
            let css = format!(
                "table[aria-labelledby='attachments-heading'] tbody tr:nth-child({}) a[download]",
                i + 1
            );
            let (name, bytes) = b.download(&css).await;
            assert!(name.starts_with(&case), "{name}");
            assert!(
                &bytes == original,
                "{name}: the downloaded bytes differ from the kit's file"
            );
        }
    }

    // Decision and assignment are at the top of the page.
    b.screenshot("case-top").await;

    // A refusal without the comment it needs: back on the case with the error, the
    // choice still made.
    b.find("#to-rejected").await.click().await.expect("choice");
    b.click_to_next_page("form[action$='/status'] button[type=submit]")
        .await;
    let errors = b.text("#decision-errors").await;
    assert!(errors.contains("Kommentar"), "{errors}");
    assert!(b
        .find("#to-rejected")
        .await
        .prop("checked")
        .await
        .expect("prop")
        .is_some_and(|c| c == "true"));
    b.axe_check("case-decision-error").await;

    // Into review by keyboard alone: choose, Tab past the comment to the button, Enter.
    b.find("#to-in_review").await.click().await.expect("choice");
    b.press(Key::Tab).await;
    assert_eq!(b.focused().await, "comment");
    b.press(Key::Tab).await;
    assert_eq!(b.focused().await, "button", "the save button is next");
    b.press_to_next_page(Key::Enter).await;
    assert_eq!(b.path().await, format!("/office/cases/{case}"));

    // Approve with a comment.
    b.find("#to-approved").await.click().await.expect("choice");
    b.fill("#comment", COMMENT).await;
    b.click_to_next_page("form[action$='/status'] button[type=submit]")
        .await;
    let history = b.text("table[aria-labelledby='history-heading']").await;
    assert!(history.contains(COMMENT), "{history}");
    b.axe_check("case-approved").await;

    // The sweep over the remaining pages, German and English.
    let mut signed_in = REVIEWER;
    let mut pages = Vec::new();
    for (user, name, path) in SWEEP {
        if *user != signed_in {
            b.axe_sweep(&pages).await;
            pages.clear();
            b.logout().await;
            b.login(user, office.demo.password(user)).await;
            signed_in = user;
        }
        pages.push((
            *name,
            path.replace("{case}", &case)
                .replace("{pdf}", &pdf_view)
                .replace("{png}", &png_view),
        ));
    }
    b.axe_sweep(&pages).await;

    // A refused form on an admin page: the errors are announced and pass axe too.
    b.logout().await;
    b.login(ADMIN, office.demo.password(ADMIN)).await;
    b.open("/office/admin/users").await;
    b.fill("#user-login", "not a login").await;
    b.click_to_next_page("form:has(#user-login) button[type=submit]")
        .await;
    assert!(
        !b.text("#form-errors").await.is_empty(),
        "the error is shown"
    );
    b.axe_check("admin-users-error").await;
    b.close().await;

    // The kit learns the decision and the comment at its next sync.
    let out = kit.sync(None, &[]);
    assert!(
        out.status.success(),
        "sync: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let session = kit.session();
    let record = session.record(&case).expect("record");
    assert_eq!(record.case_status.as_deref(), Some("approved"));
    assert_eq!(record.case_comment.as_deref(), Some(COMMENT));
}

/// A Rückfrage is answered from the kit: the reviewer asks for a document, the kit
/// learns it, the clerk answers with a note and the document (`fieldkit record answer`),
/// and the answer arrives on the same case, which is back in review; the kit learns that
/// too. A second answer without a new Rückfrage is refused on the kit, and a record of
/// another kind cannot be answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rueckfrage_answered_from_the_kit_arrives_on_the_same_case() {
    let office = Office::start();
    let (kit, case, _) = office.synced_kit();
    let b = Browser::start(&office.backend.url()).await;
    b.open("/office/login").await;
    b.login(REVIEWER, office.demo.password(REVIEWER)).await;

    // The reviewer asks for a copy of the passport.
    b.open(&format!("/office/cases/{case}")).await;
    b.find("#to-needs_information")
        .await
        .click()
        .await
        .expect("choice");
    b.fill("#comment", QUESTION).await;
    b.click_to_next_page("form[action$='/status'] button[type=submit]")
        .await;
    assert!(b.text("p.subtitle").await.contains("Rückfrage"), "asked");

    // Before the kit knows of it, there is nothing to answer.
    let early = answer(&kit, &case, ANSWER, &[]);
    assert!(!early.status.success(), "no Rückfrage known yet");
    assert!(
        String::from_utf8_lossy(&early.stderr).contains("no Rückfrage"),
        "{}",
        String::from_utf8_lossy(&early.stderr)
    );

    // The kit learns the Rückfrage; the clerk answers with a note and the document.
    assert!(kit.sync(None, &[]).status.success());
    let record = kit.session().record(&case).expect("record");
    assert_eq!(record.case_status.as_deref(), Some("needs_information"));
    assert_eq!(record.case_comment.as_deref(), Some(QUESTION));
    let passport = office.dir.path().join("reisepass-kopie.pdf");
    std::fs::write(&passport, scan(3_000, 11)).expect("scan");
    // The signed printout is not a document one supplies: refused, nothing left behind.
    let wrong = answer(
        &kit,
        &record.case_number,
        ANSWER,
        &[format!("signed-printout={}", passport.display())],
    );
    assert!(!wrong.status.success(), "a new printout is no supplement");
    assert!(
        kit.session().drafts().expect("drafts").is_empty(),
        "no draft left"
    );
    let answered = answer(
        &kit,
        &record.case_number,
        ANSWER,
        &[format!("landlord-confirmation={}", passport.display())],
    );
    assert!(
        answered.status.success(),
        "{}",
        String::from_utf8_lossy(&answered.stderr)
    );
    let supplement: serde_json::Value =
        serde_json::from_slice(&answered.stdout).expect("the answer's record as JSON");
    let supplement_id = supplement["record_id"]
        .as_str()
        .expect("record id")
        .to_owned();
    assert!(kit.sync(None, &[]).status.success());

    // The case is back in review and shows the answer; its page opens with the note
    // and the document, under the same authority, and links back.
    b.open(&format!("/office/cases/{case}")).await;
    let subtitle = b.text("p.subtitle").await;
    assert!(subtitle.contains("In Bearbeitung"), "{subtitle}");
    let related = b.text("table[aria-labelledby='related-heading']").await;
    assert!(related.contains("Nachreichung"), "{related}");
    let history = b.text("table[aria-labelledby='history-heading']").await;
    assert!(
        history.contains("Rückfrage vom Kit beantwortet"),
        "{history}"
    );
    b.axe_check("case-answered").await;
    b.click_to_next_page(&format!(
        "table[aria-labelledby='related-heading'] a[href='/office/cases/{supplement_id}']"
    ))
    .await;
    let data = b.text("section[aria-labelledby='data-heading']").await;
    assert!(data.contains(ANSWER), "{data}");
    let files = b.text("table[aria-labelledby='attachments-heading']").await;
    assert!(
        files.contains("Wohnungsgeberbestätigung") && files.contains("reisepass-kopie.pdf"),
        "{files}"
    );
    assert!(
        b.text("p[data-related='belongs-to']")
            .await
            .contains(&record.case_number),
        "links back to the case"
    );
    assert!(
        b.text("section.decision")
            .await
            .contains("im Vorgang entschieden, zu dem sie gehört"),
        "an answer is not decided on its own"
    );
    b.axe_check("case-supplement").await;
    b.close().await;

    // The kit learns the case is in review again; a second answer is refused.
    assert!(kit.sync(None, &[]).status.success());
    let record = kit.session().record(&case).expect("record");
    assert_eq!(record.case_status.as_deref(), Some("in_review"));
    let again = answer(&kit, &case, ANSWER, &[]);
    assert!(!again.status.success(), "no open Rückfrage");
    let of_answer = answer(&kit, &supplement_id, ANSWER, &[]);
    assert!(
        !of_answer.status.success(),
        "an answer has no case to answer for"
    );

    // Two records, each a case exactly once, every file held.
    let data_dir = office.dir.path().join("backend");
    // The check runs its own runtime: off this test's.
    let settled = tokio::task::spawn_blocking(move || {
        assert_exactly_once(&kit, &DatabaseUrl::embedded(&data_dir), &data_dir)
    })
    .await
    .expect("the exactly-once check");
    assert_eq!(settled.records, 2, "{settled:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_shows_an_error_and_login_works_by_keyboard_alone() {
    let office = Office::start();
    let b = Browser::start(&office.backend.url()).await;

    b.login(REVIEWER, "not-the-password").await;
    assert_eq!(b.path().await, "/office/login");
    let error = b.text("#login-error").await;
    assert!(!error.trim().is_empty(), "an error message is shown");
    assert_eq!(
        b.find("#login-error")
            .await
            .attr("role")
            .await
            .expect("attr")
            .as_deref(),
        Some("alert")
    );
    assert!(
        b.client().get_named_cookie(SESSION_COOKIE).await.is_err(),
        "no session after a wrong password"
    );
    b.axe_check("login-error").await;

    // Keyboard only, from the top of a fresh login page: Tab reaches the login name,
    // the password and the button, in this order.
    b.open("/office/login").await;
    let mut stops = Vec::new();
    for _ in 0..12 {
        b.press(Key::Tab).await;
        let at = b.focused().await;
        let done = at == "login";
        stops.push(at);
        if done {
            break;
        }
    }
    assert_eq!(stops.last().map(String::as_str), Some("login"), "{stops:?}");
    b.client()
        .active_element()
        .await
        .expect("focus")
        .send_keys(REVIEWER)
        .await
        .expect("typed");
    b.press(Key::Tab).await;
    assert_eq!(b.focused().await, "password");
    b.client()
        .active_element()
        .await
        .expect("focus")
        .send_keys(office.demo.password(REVIEWER))
        .await
        .expect("typed");
    b.press(Key::Tab).await;
    assert_eq!(b.focused().await, "button");
    b.press_to_next_page(Key::Enter).await;
    assert_eq!(b.path().await, "/office", "signed in by keyboard");

    // The skip link is the first stop and moves focus to the main content.
    b.open("/office/cases").await;
    b.press(Key::Tab).await;
    let first = b.client().active_element().await.expect("focus");
    assert_eq!(
        first.attr("class").await.expect("class").as_deref(),
        Some("skip-link")
    );
    b.press(Key::Enter).await;
    assert_eq!(b.focused().await, "main");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accessibility_check_finds_the_faults_of_a_broken_page() {
    // No backend: a page with an unlabelled field and an image without text.
    let b = Browser::start("http://127.0.0.1:9").await;
    b.client()
        .goto("data:text/html,<title>x</title><main><img src='x.png'><input name=q></main>")
        .await
        .expect("page");
    let found: Vec<String> = b.axe().await.into_iter().map(|v| v.id).collect();
    for rule in ["image-alt", "label", "html-has-lang"] {
        assert!(
            found.iter().any(|id| id == rule),
            "{rule} missing: {found:?}"
        );
    }
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_four_eyes_a_second_admin_confirms_a_new_reviewer_after_setting_their_own_password() {
    let office = Office::start();
    let b = Browser::start(&office.backend.url()).await;

    // The demo admin adds a second admin (at once: the rule is still off).
    b.login(ADMIN, office.demo.password(ADMIN)).await;
    b.open("/office/admin/users").await;
    b.fill("#user-login", "z.admin").await;
    b.find("#user-role")
        .await
        .select_by_value("authority-admin")
        .await
        .expect("role option");
    b.click_to_next_page("form:has(#user-login) button[type=submit]")
        .await;
    let initial = b.text("#initial-password").await;
    assert_eq!(initial.len(), 20, "{initial}");
    b.axe_check("admin-user-created").await;

    // With the four-eyes rule on, a new reviewer waits for the second admin.
    office
        .backend
        .admin(&["authority", "four-eyes", "gemeinde-musterstadt", "on"]);
    b.open("/office/admin/users").await;
    b.fill("#user-login", "n.neu").await;
    b.click_to_next_page("form:has(#user-login) button[type=submit]")
        .await;
    b.axe_check("admin-user-created-pending").await;
    b.open("/office/admin/users").await;
    let pending = b.text("table[aria-labelledby='pending-heading']").await;
    assert!(pending.contains("n.neu"), "{pending}");
    assert!(
        b.find_all("form[action$='/confirm']").await.is_empty(),
        "the requester cannot confirm"
    );
    b.axe_check("admin-users-pending").await;
    b.logout().await;

    // The second admin's initial password opens only the password page; they set their
    // own by keyboard: fields in order, Enter submits.
    b.login("z.admin", &initial).await;
    assert_eq!(b.path().await, "/office/password");
    b.axe_check("password-forced").await;
    b.open("/office/password?lang=en").await;
    b.axe_check("password-forced-en").await;
    b.open("/office/password?lang=de").await;
    let own = "Zweiter Admin mit eigenem Satz";
    b.find("#current-password")
        .await
        .click()
        .await
        .expect("focus");
    b.client()
        .active_element()
        .await
        .expect("focus")
        .send_keys(&initial)
        .await
        .expect("typed");
    for field in ["new-password", "repeat-password"] {
        b.press(Key::Tab).await;
        let at = b.client().active_element().await.expect("focus");
        assert_eq!(at.attr("id").await.expect("id").as_deref(), Some(field));
        at.send_keys(own).await.expect("typed");
    }
    b.press_to_next_page(Key::Enter).await;
    assert_eq!(b.path().await, "/office");
    let home = b.text("main").await;
    assert!(home.contains("Bestätigung"), "{home}");
    b.axe_check("home-admin-notices").await;

    // They confirm; the new reviewer exists.
    b.open("/office/admin/users").await;
    let notices = b.text("ul[aria-labelledby='notices-heading']").await;
    assert!(notices.contains(ADMIN), "{notices}");
    b.axe_check("admin-users-confirmable").await;
    b.click_to_next_page("form[action$='/confirm'] button[type=submit]")
        .await;
    assert!(b
        .find_all("table[aria-labelledby='pending-heading']")
        .await
        .is_empty());
    let users = b.text("table[aria-labelledby='users-heading']").await;
    assert!(users.contains("n.neu"), "{users}");
    b.close().await;
}
