//! The back office: HTML pages for the staff of each authority, served under `/office`
//! next to the kit API. [`OFFICE_ROUTES`] is the one list of its routes: [`router`] is
//! built from it and the tenant-isolation test walks it, so a new page cannot skip the
//! checks. Every route passes [`guard`], which — driven by the route's [`OfficeAccess`]
//! — loads the session, refuses anonymous and wrong-role requests, and checks the CSRF
//! token of every POST before the handler runs.
//!
//! Boundaries: pages are askama templates (`backend/templates/`); no JavaScript. The
//! office never trusts a path parameter for tenancy: a case of another authority is
//! answered exactly like an unknown one (404). Case data and passwords are never logged.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use chrono::Utc;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::state::AppState;
use crate::storage::{Role, SessionRow};

pub mod admin;
mod assign;
mod attachment;
mod attachment_view;
mod case;
pub mod casework_texts;
pub mod error;
mod export;
mod export_columns;
mod export_format;
pub mod flags;
pub mod form_view;
pub mod i18n;
mod inbox;
pub mod local_time;
mod login;
mod opening;
mod own_password;
pub mod session;
mod start;
pub mod stream;
pub mod views;
pub mod workflow;

use error::{see_other, OfficeError};
use i18n::Lang;
use session::{cookie, language, set_cookie, token_hash, tokens_match};

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfficeAccess {
    /// Anyone (the login page, the style sheet).
    Public,
    /// Any signed-in user.
    Session,
    /// A signed-in reviewer; case routes further require the case to belong to the
    /// reviewer's authority.
    Reviewer,
    /// A signed-in user with one of these roles (never a reviewer): the IT
    /// administration pages and the audit viewer, always scoped to the user's own
    /// authority ([`admin`]).
    Admin(&'static [Role]),
}

/// What a route shows or does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `GET /office`: who is signed in, where to go.
    Home,
    /// `GET /office/login`.
    LoginForm,
    /// `POST /office/login`.
    Login,
    /// `POST /office/logout`.
    Logout,
    /// `GET /office/static/office.css`.
    Style,
    /// `GET /office/password`: set the own password.
    PasswordForm,
    /// `POST /office/password`.
    PasswordChange,
    /// `GET /office/cases`: the inbox.
    Inbox,
    /// `GET /office/cases/{record_id}`: one case, decrypted.
    Case,
    /// `POST /office/cases/{record_id}/status`: a workflow transition.
    CaseStatus,
    /// `POST /office/cases/{record_id}/assignee`: assign the case.
    CaseAssignee,
    /// `POST /office/cases/{record_id}/flags`: forward, refuse or release a flagged case.
    CaseFlags,
    /// `GET /office/cases/{record_id}/attachments/{attachment_id}`: one file, decrypted.
    CaseAttachment,
    /// `GET /office/cases/{record_id}/attachments/{attachment_id}/view`: a PDF or image
    /// shown in a sandboxed frame.
    CaseAttachmentView,
    /// `GET /office/cases/export`: the cases of an inbox filter, decrypted.
    ExportFiltered,
    /// `POST /office/cases/export`: selected cases, decrypted.
    ExportSelected,
    /// An IT administration page or the audit viewer ([`admin::AdminPage`]).
    Admin(admin::AdminPage),
}

/// One back-office route.
#[derive(Debug, Clone, Copy)]
pub struct OfficeRoute {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The path template (axum syntax).
    pub path: &'static str,
    /// Who may use it.
    pub access: OfficeAccess,
    /// What it does.
    pub page: Page,
}

const fn route(
    method: &'static str,
    path: &'static str,
    access: OfficeAccess,
    page: Page,
) -> OfficeRoute {
    OfficeRoute {
        method,
        path,
        access,
        page,
    }
}

/// Every back-office route.
pub const OFFICE_ROUTES: &[OfficeRoute] = &[
    route("GET", "/office", OfficeAccess::Session, Page::Home),
    route(
        "GET",
        "/office/login",
        OfficeAccess::Public,
        Page::LoginForm,
    ),
    route("POST", "/office/login", OfficeAccess::Public, Page::Login),
    route(
        "POST",
        "/office/logout",
        OfficeAccess::Session,
        Page::Logout,
    ),
    route(
        "GET",
        "/office/static/office.css",
        OfficeAccess::Public,
        Page::Style,
    ),
    route(
        "GET",
        "/office/password",
        OfficeAccess::Session,
        Page::PasswordForm,
    ),
    route(
        "POST",
        "/office/password",
        OfficeAccess::Session,
        Page::PasswordChange,
    ),
    route("GET", "/office/cases", OfficeAccess::Reviewer, Page::Inbox),
    route(
        "GET",
        "/office/cases/{record_id}",
        OfficeAccess::Reviewer,
        Page::Case,
    ),
    route(
        "POST",
        "/office/cases/{record_id}/status",
        OfficeAccess::Reviewer,
        Page::CaseStatus,
    ),
    route(
        "POST",
        "/office/cases/{record_id}/assignee",
        OfficeAccess::Reviewer,
        Page::CaseAssignee,
    ),
    route(
        "POST",
        "/office/cases/{record_id}/flags",
        OfficeAccess::Reviewer,
        Page::CaseFlags,
    ),
    route(
        "GET",
        "/office/cases/{record_id}/attachments/{attachment_id}",
        OfficeAccess::Reviewer,
        Page::CaseAttachment,
    ),
    route(
        "GET",
        "/office/cases/{record_id}/attachments/{attachment_id}/view",
        OfficeAccess::Reviewer,
        Page::CaseAttachmentView,
    ),
    route(
        "GET",
        "/office/cases/export",
        OfficeAccess::Reviewer,
        Page::ExportFiltered,
    ),
    route(
        "POST",
        "/office/cases/export",
        OfficeAccess::Reviewer,
        Page::ExportSelected,
    ),
    route(
        "GET",
        "/office/admin/kits",
        OfficeAccess::Admin(admin::KITS),
        Page::Admin(admin::AdminPage::Kits),
    ),
    route(
        "POST",
        "/office/admin/kits",
        OfficeAccess::Admin(admin::KITS),
        Page::Admin(admin::AdminPage::KitProvision),
    ),
    route(
        "GET",
        "/office/admin/kits/{kit_id}/revoke",
        OfficeAccess::Admin(admin::KITS),
        Page::Admin(admin::AdminPage::KitRevokeForm),
    ),
    route(
        "POST",
        "/office/admin/kits/{kit_id}/revoke",
        OfficeAccess::Admin(admin::KITS),
        Page::Admin(admin::AdminPage::KitRevoke),
    ),
    route(
        "GET",
        "/office/admin/users",
        OfficeAccess::Admin(admin::USERS),
        Page::Admin(admin::AdminPage::Users),
    ),
    route(
        "POST",
        "/office/admin/users",
        OfficeAccess::Admin(admin::USERS),
        Page::Admin(admin::AdminPage::UserAdd),
    ),
    route(
        "GET",
        "/office/admin/users/{login}/disable",
        OfficeAccess::Admin(admin::USERS),
        Page::Admin(admin::AdminPage::UserDisableForm),
    ),
    route(
        "POST",
        "/office/admin/users/{login}/disable",
        OfficeAccess::Admin(admin::USERS),
        Page::Admin(admin::AdminPage::UserDisable),
    ),
    route(
        "GET",
        "/office/admin/users/{login}/role",
        OfficeAccess::Admin(admin::USERS),
        Page::Admin(admin::AdminPage::UserRoleForm),
    ),
    route(
        "POST",
        "/office/admin/users/{login}/role",
        OfficeAccess::Admin(admin::USERS),
        Page::Admin(admin::AdminPage::UserRole),
    ),
    route(
        "POST",
        "/office/admin/user-changes/{id}/confirm",
        OfficeAccess::Admin(admin::USERS),
        Page::Admin(admin::AdminPage::UserChangeConfirm),
    ),
    route(
        "POST",
        "/office/admin/user-changes/{id}/withdraw",
        OfficeAccess::Admin(admin::USERS),
        Page::Admin(admin::AdminPage::UserChangeWithdraw),
    ),
    route(
        "GET",
        "/office/admin/authority",
        OfficeAccess::Admin(admin::AUTHORITY),
        Page::Admin(admin::AdminPage::Authority),
    ),
    route(
        "GET",
        "/office/admin/authority/rotate-key",
        OfficeAccess::Admin(admin::AUTHORITY),
        Page::Admin(admin::AdminPage::KeyRotateForm),
    ),
    route(
        "POST",
        "/office/admin/authority/rotate-key",
        OfficeAccess::Admin(admin::AUTHORITY),
        Page::Admin(admin::AdminPage::KeyRotate),
    ),
    route(
        "GET",
        "/office/admin/catalog",
        OfficeAccess::Admin(admin::CATALOG),
        Page::Admin(admin::AdminPage::Catalog),
    ),
    route(
        "GET",
        "/office/admin/audit",
        OfficeAccess::Admin(admin::AUDIT),
        Page::Admin(admin::AdminPage::Audit),
    ),
];

/// The largest form body accepted.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// What [`guard`] hands every handler.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The page language.
    pub lang: Lang,
    /// The live session, if any (always present on non-public routes).
    pub session: Option<SessionRow>,
    /// The submitted form fields of a POST (CSRF already checked).
    pub form: Vec<(String, String)>,
    /// The TCP peer (`None` when the router is driven without a server, as in tests).
    pub client: Option<std::net::SocketAddr>,
}

impl Ctx {
    /// The session of a route that requires one.
    ///
    /// # Errors
    /// [`OfficeError::Unauthenticated`] (not reached: [`guard`] checked it).
    pub fn session(&self) -> Result<&SessionRow, OfficeError> {
        self.session.as_ref().ok_or(OfficeError::Unauthenticated)
    }

    /// The one value of form field `name`.
    ///
    /// # Errors
    /// [`OfficeError::BadRequest`] if it is given more than once.
    pub fn field(&self, name: &str) -> Result<Option<&str>, OfficeError> {
        let mut values = self.form.iter().filter(|(k, _)| k == name);
        let first = values.next().map(|(_, v)| v.as_str());
        if values.next().is_some() {
            return Err(OfficeError::BadRequest(vec![format!(
                "{name}: {}",
                self.lang.pick("mehrfach angegeben", "given more than once")
            )]));
        }
        Ok(first)
    }

    /// Renders an error as a page in this request's language.
    pub fn error(&self, e: OfficeError) -> Response {
        e.page(self.lang, self.session.as_ref())
    }
}

fn method_router(page: Page, filter: MethodFilter) -> MethodRouter<AppState> {
    match page {
        Page::Home => on(filter, login::home),
        Page::LoginForm => on(filter, login::login_form),
        Page::Login => on(filter, login::login),
        Page::Logout => on(filter, login::logout),
        Page::Style => on(filter, login::style),
        Page::PasswordForm => on(filter, own_password::form),
        Page::PasswordChange => on(filter, own_password::change),
        Page::Inbox => on(filter, inbox::inbox),
        Page::Case => on(filter, case::view),
        Page::CaseStatus => on(filter, case::set_status),
        Page::CaseAssignee => on(filter, assign::set_assignee),
        Page::CaseFlags => on(filter, flags::act),
        Page::CaseAttachment => on(filter, attachment::download),
        Page::CaseAttachmentView => on(filter, attachment_view::view),
        Page::ExportFiltered => on(filter, export::filtered),
        Page::ExportSelected => on(filter, export::selected),
        Page::Admin(page) => admin::method_router(page, filter),
    }
}

/// The back-office routes (paths already under `/office`), to be merged with the kit
/// API's router ([`crate::server::app_router`]).
pub fn router(app: AppState) -> Router {
    let mut router = Router::new();
    for r in OFFICE_ROUTES {
        let filter = if r.method == "POST" {
            MethodFilter::POST
        } else {
            MethodFilter::GET
        };
        let guarded = method_router(r.page, filter)
            .layer(middleware::from_fn_with_state((app.clone(), *r), guard));
        router = router.route(r.path, guarded);
    }
    router
        .layer(middleware::map_response(security_headers))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(app)
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    // A handler may set a stricter policy (attachments add `sandbox`).
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ));
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    // Only an inline attachment answer, framed by the office's own view page, relaxes
    // this to `SAMEORIGIN`.
    headers
        .entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    // Case data must not stay in shared caches or the browser's history cache.
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Session, role and CSRF checks for one route, in this order: the session (anonymous:
/// a GET is sent to the login page, anything else gets 401), the role (403), then for a
/// POST the body (at most [`MAX_FORM_BYTES`]) and its `csrf` field against the
/// session's token — or, on the login form, against the pre-login cookie (403).
async fn guard(
    State((app, route)): State<(AppState, OfficeRoute)>,
    req: Request,
    next: Next,
) -> Response {
    let (lang, lang_chosen) = language(req.headers(), req.uri().query());
    let mut ctx = Ctx {
        lang,
        session: None,
        form: Vec::new(),
        client: req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0),
    };
    if let Some(token) = cookie(req.headers(), session::SESSION_COOKIE) {
        match app
            .store
            .touch_session(&token_hash(token), Utc::now(), session::SESSION_IDLE)
            .await
        {
            Ok(found) => ctx.session = found,
            Err(e) => return ctx.error(e.into()),
        }
    }
    if route.access != OfficeAccess::Public {
        let Some(session) = &ctx.session else {
            return if req.method() == Method::GET {
                see_other("/office/login")
            } else {
                ctx.error(OfficeError::Unauthenticated)
            };
        };
        // A password set by someone else only opens the password page.
        if session.user.must_change_password
            && !matches!(
                route.page,
                Page::PasswordForm | Page::PasswordChange | Page::Logout
            )
        {
            return if req.method() == Method::GET {
                see_other("/office/password")
            } else {
                ctx.error(OfficeError::Forbidden)
            };
        }
        if route.access == OfficeAccess::Reviewer && session.user.role != Role::Reviewer {
            return ctx.error(OfficeError::Forbidden);
        }
        if let OfficeAccess::Admin(roles) = route.access {
            if !roles.contains(&session.user.role) {
                return ctx.error(OfficeError::Forbidden);
            }
        }
    }
    let (parts, body) = req.into_parts();
    if parts.method == Method::POST {
        let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
            return ctx.error(OfficeError::TooLarge);
        };
        let Ok(form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes) else {
            return ctx.error(OfficeError::BadRequest(vec![lang
                .pick(
                    "Das Formular ist fehlerhaft kodiert.",
                    "The form is malformed.",
                )
                .to_owned()]));
        };
        ctx.form = form;
        let expected = match (&ctx.session, route.access) {
            (_, OfficeAccess::Public) => {
                cookie(&parts.headers, session::LOGIN_CSRF_COOKIE).unwrap_or_default()
            }
            (Some(s), _) => s.csrf_token.as_str(),
            (None, _) => "",
        }
        .to_owned();
        let given = match ctx.field(session::CSRF_FIELD) {
            Ok(given) => given.unwrap_or_default(),
            Err(e) => return ctx.error(e),
        };
        if !tokens_match(&expected, given) {
            tracing::warn!(
                path = route.path,
                "office POST refused: CSRF token missing or wrong"
            );
            return ctx.error(OfficeError::Csrf);
        }
        let mut req = Request::from_parts(parts, Body::from(Bytes::new()));
        req.extensions_mut().insert(ctx);
        return with_lang_cookie(next.run(req).await, lang, lang_chosen);
    }
    let mut req = Request::from_parts(parts, body);
    req.extensions_mut().insert(ctx);
    with_lang_cookie(next.run(req).await, lang, lang_chosen)
}

fn with_lang_cookie(mut response: Response, lang: Lang, chosen: bool) -> Response {
    if chosen {
        let value = set_cookie(
            session::LANG_COOKIE,
            lang.code(),
            Some(chrono::Duration::days(365)),
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// The style sheet (kept with the templates).
pub(crate) const STYLE: &str = include_str!("../../templates/office.css");

/// The style sheet response.
pub(crate) fn style_response() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        STYLE,
    )
        .into_response()
}
