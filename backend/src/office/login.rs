//! Signing in and out, the start page and the style sheet.
//!
//! A login answers the same way whether the login name exists or not: the same generic
//! message, a password check against a dummy hash for unknown names (so the time taken
//! does not tell either), and failures counted per submitted name.
//!
//! Order of a login: a free slot of the password-check gate (else 503 with
//! `Retry-After`, [`crate::password::CheckGate`]); then the attempt is counted in the
//! database and refused unchecked if this name must wait from this client address or
//! account-wide ([`crate::login_throttle`], 429 with `Retry-After`); only then the
//! Argon2id check. A success takes the attempt back. A successful login starts a new
//! session (a fresh token; any session the browser presented is ended), so a planted
//! session id is worthless.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Extension;
use chrono::Utc;
use zeroize::Zeroizing;

use super::admin::account_texts::AccountTexts;
use super::admin::user_changes;
use super::error::{see_other, OfficeError};
use super::session::{self, cookie, new_token, set_cookie, token_hash};
use super::views::{html, HomePage, Layout, LoginPage};
use super::Ctx;
use crate::login_throttle::{self, Admission};
use crate::state::AppState;
use crate::storage::{NewSession, Role};

/// The longest login name accepted (the admin CLI creates shorter ones).
pub const MAX_LOGIN_CHARS: usize = 100;
/// The longest password accepted (Argon2 would take more, but nobody types more).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// `Retry-After` of the answer when every password-check slot stayed busy.
pub const BUSY_RETRY_AFTER_SECONDS: i64 = 5;

/// Sets `Retry-After` (seconds).
pub(super) fn retry_after(response: &mut Response, seconds: i64) {
    if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
}

fn append_cookie(response: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn login_page(
    ctx: &Ctx,
    status: StatusCode,
    csrf: String,
    login: String,
    error: Option<&str>,
) -> Response {
    let page = LoginPage {
        layout: Layout::new(ctx.lang, None),
        csrf,
        login,
        error: error.map(str::to_owned),
    };
    html(status, &page)
}

/// `GET /office/login`: the form, with the pre-login CSRF cookie.
pub async fn login_form(headers: HeaderMap, Extension(ctx): Extension<Ctx>) -> Response {
    if ctx.session.is_some() {
        return see_other("/office");
    }
    let token = cookie(&headers, session::LOGIN_CSRF_COOKIE)
        .filter(|t| t.len() == 43)
        .map_or_else(new_token, str::to_owned);
    let mut response = login_page(&ctx, StatusCode::OK, token.clone(), String::new(), None);
    append_cookie(
        &mut response,
        &set_cookie(
            session::LOGIN_CSRF_COOKIE,
            &token,
            Some(chrono::Duration::hours(1)),
        ),
    );
    response
}

/// `POST /office/login`.
pub async fn login(
    State(app): State<AppState>,
    headers: HeaderMap,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    match try_login(&app, &headers, &ctx).await {
        Ok(response) => response,
        Err(e) => ctx.error(e),
    }
}

async fn try_login(
    app: &AppState,
    headers: &HeaderMap,
    ctx: &Ctx,
) -> Result<Response, OfficeError> {
    let t = ctx.lang.texts();
    let csrf = ctx
        .field(session::CSRF_FIELD)?
        .unwrap_or_default()
        .to_owned();
    let login = ctx.field("login")?.unwrap_or_default().trim().to_owned();
    let password = Zeroizing::new(ctx.field("password")?.unwrap_or_default().to_owned());
    if login.is_empty()
        || password.is_empty()
        || login.chars().count() > MAX_LOGIN_CHARS
        || password.len() > MAX_PASSWORD_BYTES
    {
        let message = ctx.lang.pick(
            "Bitte geben Sie Kennung (höchstens 100 Zeichen) und Passwort an.",
            "Please enter your login (at most 100 characters) and password.",
        );
        let shown = login.chars().take(MAX_LOGIN_CHARS).collect();
        return Ok(login_page(
            ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            csrf,
            shown,
            Some(message),
        ));
    }
    let Ok(slot) = app.password_checks.slot().await else {
        tracing::warn!("office login turned away: every password-check slot is busy");
        let mut response = login_page(
            ctx,
            StatusCode::SERVICE_UNAVAILABLE,
            csrf,
            login,
            Some(t.login_busy),
        );
        retry_after(&mut response, BUSY_RETRY_AFTER_SECONDS);
        return Ok(response);
    };
    let client = login_throttle::client_key(ctx.client);
    let now = Utc::now();
    if let Admission::Wait(wait) = app.store.admit_login(&login, &client, now).await? {
        drop(slot);
        let mut response = login_page(
            ctx,
            StatusCode::TOO_MANY_REQUESTS,
            csrf,
            login,
            Some(t.login_locked),
        );
        retry_after(&mut response, wait.num_seconds().max(1));
        return Ok(response);
    }
    let user = app.store.user(&login).await?.filter(|u| !u.disabled);
    let phc = user.as_ref().map(|u| u.password_hash.clone());
    let verified = slot.verify(password.clone(), phc).await;
    let Some(user) = user.filter(|_| verified) else {
        tracing::info!("office login failed");
        return Ok(login_page(
            ctx,
            StatusCode::UNAUTHORIZED,
            csrf,
            login,
            Some(t.login_failed),
        ));
    };
    app.store.login_succeeded(&login, &client).await?;
    if let Some(old) = cookie(headers, session::SESSION_COOKIE) {
        app.store.delete_session(&token_hash(old)).await?;
    }
    let token = new_token();
    app.store
        .create_session(&NewSession {
            token_hash: token_hash(&token),
            login: user.login.clone(),
            csrf_token: new_token(),
            created_at: now,
            expires_at: now + session::SESSION_LIFETIME,
        })
        .await?;
    tracing::info!(role = user.role.as_str(), "office login");
    let mut response = see_other(if user.must_change_password {
        "/office/password"
    } else {
        "/office"
    });
    append_cookie(
        &mut response,
        &set_cookie(session::SESSION_COOKIE, &token, None),
    );
    append_cookie(
        &mut response,
        &session::clear_cookie(session::LOGIN_CSRF_COOKIE),
    );
    Ok(response)
}

/// `POST /office/logout`: ends the session in the database and in the browser.
pub async fn logout(
    State(app): State<AppState>,
    headers: HeaderMap,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    if let Some(token) = cookie(&headers, session::SESSION_COOKIE) {
        if let Err(e) = app.store.delete_session(&token_hash(token)).await {
            return ctx.error(e.into());
        }
    }
    let mut response = see_other("/office/login");
    append_cookie(
        &mut response,
        &session::clear_cookie(session::SESSION_COOKIE),
    );
    response
}

/// `GET /office`: who is signed in and where to go.
pub async fn home(State(app): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    let Some(s) = ctx.session.as_ref() else {
        return see_other("/office/login");
    };
    let authority = match app.store.authorities().await {
        Ok(all) => all
            .into_iter()
            .find(|a| a.authority.id == s.user.authority_id)
            .map_or_else(|| s.user.authority_id.to_string(), |a| a.authority.name),
        Err(e) => return ctx.error(e.into()),
    };
    let texts = AccountTexts::of(ctx.lang);
    let mut account_notices = Vec::new();
    if s.user.role == Role::AuthorityAdmin {
        let shown = async {
            if !user_changes::notices(&app, s, ctx.lang).await?.is_empty() {
                account_notices.push(texts.home_notice);
            }
            if !app
                .store
                .pending_user_changes(&s.user.authority_id)
                .await?
                .is_empty()
            {
                account_notices.push(texts.home_pending);
            }
            Ok::<_, OfficeError>(())
        };
        if let Err(e) = shown.await {
            return ctx.error(e);
        }
    }
    let work = if s.user.role == Role::Reviewer {
        let catalog = match app
            .catalog
            .current(app.store.as_ref(), &app.server_verifying_keys())
            .await
        {
            Ok(catalog) => catalog,
            Err(e) => return ctx.error(OfficeError::Internal(e.to_string())),
        };
        match super::start::work(&app, s, catalog.as_deref(), ctx.lang).await {
            Ok(work) => Some(work),
            Err(e) => return ctx.error(e),
        }
    } else {
        None
    };
    let page = HomePage {
        work,
        layout: Layout::new(ctx.lang, Some(s)),
        login: s.user.login.clone(),
        role: ctx.lang.role(s.user.role).to_owned(),
        authority,
        reviewer: s.user.role == Role::Reviewer,
        account_notices,
        to_users: texts.to_users,
    };
    html(StatusCode::OK, &page)
}

/// `GET /office/static/office.css`.
pub async fn style() -> Response {
    super::style_response()
}
