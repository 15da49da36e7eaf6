//! The back-office pages as askama templates (`backend/templates/*.html`, checked at
//! compile time) and the view models they show. Handlers compute every text here
//! (labels, dates, statuses in the page language), so templates only lay it out.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::form_view::Section;
use super::i18n::{Lang, Texts};
use crate::storage::{Role, SessionRow};

/// What every page's frame shows.
#[derive(Debug)]
pub struct Layout {
    /// The texts of the page language.
    pub t: &'static Texts,
    /// `de` or `en`.
    pub lang: &'static str,
    /// The code of the other language (for the switch).
    pub other: &'static str,
    /// The signed-in user, if any.
    pub user: Option<UserView>,
    /// A print view: no navigation, no forms.
    pub bare: bool,
}

impl Layout {
    /// The frame for `lang` and the session, if any.
    pub fn new(lang: Lang, session: Option<&SessionRow>) -> Self {
        Self {
            t: lang.texts(),
            lang: lang.code(),
            other: lang.other().code(),
            // Until the user set their own password, only the password page is open.
            user: session.map(|s| UserView {
                login: s.user.login.clone(),
                csrf: s.csrf_token.clone(),
                reviewer: s.user.role == Role::Reviewer && !s.user.must_change_password,
                admin_links: if s.user.must_change_password {
                    Vec::new()
                } else {
                    super::admin::nav_links(lang, s.user.role)
                },
            }),
            bare: false,
        }
    }
}

/// The signed-in user as the frame shows them.
#[derive(Debug)]
pub struct UserView {
    /// Login name.
    pub login: String,
    /// The session's CSRF token for the logout form.
    pub csrf: String,
    /// Whether the inbox link is shown.
    pub reviewer: bool,
    /// The admin pages the role may open.
    pub admin_links: Vec<super::admin::NavLink>,
}

/// An option of a select or radio group.
#[derive(Debug)]
pub struct Opt {
    /// The submitted value.
    pub value: String,
    /// What people read.
    pub label: String,
    /// Pre-selected.
    pub selected: bool,
}

/// `GET /office/login`.
#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    /// Frame.
    pub layout: Layout,
    /// The pre-login CSRF token.
    pub csrf: String,
    /// The login typed before (after a failure).
    pub login: String,
    /// Why the last attempt failed.
    pub error: Option<String>,
}

/// `GET /office`.
#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    /// Frame.
    pub layout: Layout,
    /// Login name.
    pub login: String,
    /// Role in the page language.
    pub role: String,
    /// The authority's name.
    pub authority: String,
    /// Whether the user works cases.
    pub reviewer: bool,
    /// For authority-admins: others changed user rights lately, changes wait for
    /// confirmation (one line each), with the link label to the users page.
    pub account_notices: Vec<&'static str>,
    /// The link label to the users page.
    pub to_users: &'static str,
    /// For reviewers: what waits for them.
    pub work: Option<super::start::Work>,
}

/// The labels of the password page.
#[derive(Debug)]
pub struct PasswordTexts {
    /// Heading.
    pub title: &'static str,
    /// Why the user is here (a password set by someone else).
    pub forced: &'static str,
    /// Label.
    pub current: &'static str,
    /// Label.
    pub new: &'static str,
    /// Label.
    pub repeat: &'static str,
    /// The rules a new password must meet.
    pub rules: &'static str,
    /// Submit.
    pub button: &'static str,
}

/// `GET /office/password`.
#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    /// Frame.
    pub layout: Layout,
    /// Labels.
    pub p: PasswordTexts,
    /// The password was set by someone else and must be replaced now.
    pub forced: bool,
    /// The login (for password managers).
    pub login: String,
    /// What is wrong with the last submission.
    pub errors: Vec<String>,
}

/// Any error.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Frame.
    pub layout: Layout,
    /// Heading.
    pub title: String,
    /// What went wrong, one line each.
    pub messages: Vec<String>,
}

/// A status and its count in the inbox.
#[derive(Debug)]
pub struct CountView {
    /// Status label.
    pub label: String,
    /// Cases.
    pub count: u64,
    /// The inbox filtered to it.
    pub link: String,
}

/// A case row in the inbox.
#[derive(Debug)]
pub struct RowView {
    /// The case page.
    pub link: String,
    /// The Vorgangsnummer.
    pub case_number: String,
    /// Received, formatted.
    pub received_at: String,
    /// Service name.
    pub service: String,
    /// Status label.
    pub status: String,
    /// The capturing kit.
    pub kit: String,
    /// The capturing clerk, if known.
    pub clerk: String,
    /// The assigned reviewer, or empty.
    pub assignee: String,
    /// The full case id (the selection checkbox's value).
    pub id: String,
    /// The labels of its open flags, or empty.
    pub flags: String,
}

/// `GET /office/cases`.
#[derive(Template)]
#[template(path = "inbox.html")]
pub struct InboxView {
    /// Frame.
    pub layout: Layout,
    /// The authority's name.
    pub authority: String,
    /// Service filter options (first: all).
    pub services: Vec<Opt>,
    /// Status filter options (first: all).
    pub statuses: Vec<Opt>,
    /// Sort options.
    pub sorts: Vec<Opt>,
    /// Kit filter value.
    pub kit: String,
    /// Clerk filter value.
    pub clerk: String,
    /// Assignment filter options.
    pub assigned: Vec<Opt>,
    /// The current filter as hidden fields of the export form.
    pub export_fields: Vec<(String, String)>,
    /// With a service filter: its form versions for a labelled CSV (first: none).
    pub export_versions: Vec<Opt>,
    /// Case-work texts.
    pub w: &'static super::casework_texts::CaseworkTexts,
    /// Date filter values.
    pub from: String,
    /// Date filter values.
    pub to: String,
    /// Counts per status.
    pub counts: Vec<CountView>,
    /// The page's cases.
    pub rows: Vec<RowView>,
    /// The next page, if any.
    pub next_link: Option<String>,
    /// The first page, when not on it.
    pub first_link: Option<String>,
    /// Whether only flagged cases are listed.
    pub flagged: bool,
    /// Flag texts.
    pub ft: &'static super::flags::FlagTexts,
    /// The code typed into "find a case", shown again when nothing was found.
    pub code: String,
    /// Why the typed code found no case.
    pub not_found: Option<String>,
}

/// An attachment listed on the case page.
#[derive(Debug)]
pub struct AttachmentView {
    /// What the file is, from the catalog (`Wohnungsgeberbestätigung (Scan)`).
    pub label: String,
    /// FIT-Connect purpose.
    pub purpose: String,
    /// Media type.
    pub media_type: String,
    /// Plaintext size.
    pub size: u64,
    /// The download's file name.
    pub filename: String,
    /// The name of the file the clerk picked, from the sealed case (sanitized).
    pub file_name: Option<String>,
    /// The download, once the file is transferred.
    pub link: Option<String>,
    /// The inline view page (PDF, PNG, JPEG only), once the file is transferred.
    pub view: Option<String>,
    /// "not yet transferred", or empty.
    pub state: String,
}

/// The assignment on the case page.
#[derive(Debug)]
pub struct AssignmentView {
    /// Who has the case now (or "nobody").
    pub current: String,
    /// The current assignee's login, empty for nobody (sent back for compare-and-set).
    pub expected: String,
    /// The reviewers of the authority (first: nobody).
    pub options: Vec<Opt>,
    /// Where the form posts.
    pub action: String,
}

/// One history entry.
#[derive(Debug)]
pub struct EventView {
    /// When.
    pub at: String,
    /// Status label.
    pub status: String,
    /// Who.
    pub actor: String,
    /// Comment, or empty.
    pub comment: String,
}

/// `GET /office/cases/{record_id}`.
#[derive(Template)]
#[template(path = "case.html")]
pub struct CasePage {
    /// Frame.
    pub layout: Layout,
    /// The record id.
    pub record_id: String,
    /// The Vorgangsnummer the clerk read out (the kit's short code and the seq).
    pub case_number: String,
    /// The Prüfcode on the citizen's receipt.
    pub verification_code: String,
    /// Service name.
    pub service: String,
    /// Current status label.
    pub status: String,
    /// Evidence rows (label, value).
    pub evidence: Vec<(String, String)>,
    /// Whether the kit signature verified (else no data is shown).
    pub signature_ok: bool,
    /// Whether the form version is in the catalog.
    pub form_known: bool,
    /// The form data.
    pub sections: Vec<Section>,
    /// The manifest.
    pub attachments: Vec<AttachmentView>,
    /// The history.
    pub events: Vec<EventView>,
    /// Statuses the case may move to.
    pub next: Vec<Opt>,
    /// Where the transition form posts.
    pub action: String,
    /// The assignment and its form.
    pub assignment: AssignmentView,
    /// Case-work texts.
    pub w: &'static super::casework_texts::CaseworkTexts,
    /// The case's flags, open and resolved.
    pub flags: Vec<super::flags::FlagView>,
    /// The form resolving open flags, if any is open.
    pub flag_form: Option<super::flags::FlagForm>,
    /// Flag texts.
    pub ft: &'static super::flags::FlagTexts,
    /// What the reviewer submitted in the decision form (kept after an error).
    pub decision: DecisionInput,
    /// The print view of this case.
    pub print_link: String,
    /// For a correction, withdrawal or answer: the case it belongs to.
    pub belongs_to: Option<RelatedCase>,
    /// The corrections, withdrawals and answers to Rückfragen that belong to this case.
    pub related: Vec<RelatedCase>,
    /// An answer to a Rückfrage: decided with the case it belongs to, not on its own.
    pub decided_elsewhere: bool,
}

/// A case linked to the one shown: the original of a correction, withdrawal or answer, or
/// one of those for an original.
#[derive(Debug, Clone)]
pub struct RelatedCase {
    /// What it is ("Nachreichung (Antwort auf Rückfrage)", "Berichtigung", …).
    pub kind: String,
    /// Its Vorgangsnummer.
    pub case_number: String,
    /// Its case page.
    pub link: String,
    /// When it arrived.
    pub received: String,
    /// Its status.
    pub status: String,
}

/// The decision form's input, shown again with its errors after a failed submit so
/// that nothing the reviewer typed is lost.
#[derive(Debug, Default, Clone)]
pub struct DecisionInput {
    /// The chosen status value (`in_review`), or empty.
    pub status: String,
    /// The comment as typed.
    pub comment: String,
    /// Why the decision was not saved.
    pub errors: Vec<String>,
}

/// An HTML answer.
pub fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }
    }
}

/// A time for pages, in Berlin: `21.11.2026 10:30:05 UTC+1` ([`super::local_time`]).
pub fn time(t: DateTime<Utc>) -> String {
    super::local_time::show(t)
}
