//! `GET`/`POST /office/password`: every user sets their own password. A password set by
//! someone else (an admin's initial password, the CLI) only lets its user in here: until
//! they set their own, [`super::guard`] sends every other page to this one. So no admin
//! ever holds a usable password of another person.
//!
//! The current password is checked like a login — through the password-check gate and
//! the login throttle (a stolen session cannot guess it quickly) — and the new one is
//! hashed on the same slot. Rules, stated on the page: at least
//! [`password::MIN_LENGTH`] characters, at most 1024 bytes, not the login name, not the
//! current password. Setting it ends the user's other sessions and is recorded in
//! `admin_events` (`password-set`, the user as the actor).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use chrono::Utc;
use zeroize::Zeroizing;

use super::error::{see_other, OfficeError};
use super::i18n::Lang;
use super::login::{retry_after, BUSY_RETRY_AFTER_SECONDS, MAX_PASSWORD_BYTES};
use super::session::{self, cookie, token_hash};
use super::views::{html, Layout, PasswordPage, PasswordTexts};
use super::Ctx;
use crate::login_throttle::{self, Admission};
use crate::password;
use crate::state::AppState;
use crate::storage::{AdminAction, AdminEvent};

impl PasswordTexts {
    fn of(lang: Lang) -> Self {
        Self {
            title: lang.pick("Passwort ändern", "Change password"),
            forced: lang.pick(
                "Ihr Passwort wurde von jemand anderem vergeben. Es erlaubt nur, jetzt Ihr \
                 eigenes festzulegen; erst danach können Sie weiterarbeiten.",
                "Your password was set by someone else. It only lets you set your own now; \
                 after that you can continue.",
            ),
            current: lang.pick("Bisheriges Passwort", "Current password"),
            new: lang.pick("Neues Passwort", "New password"),
            repeat: lang.pick("Neues Passwort wiederholen", "Repeat the new password"),
            rules: lang.pick(
                "Mindestens 12 Zeichen (höchstens 1024 Byte), nicht gleich Ihrer Kennung oder \
                 dem bisherigen Passwort. Ein Satz aus mehreren Wörtern lässt sich gut merken.",
                "At least 12 characters (at most 1024 bytes), not your login name and not the \
                 current password. A sentence of several words is easy to remember.",
            ),
            button: lang.pick("Passwort speichern", "Save password"),
        }
    }
}

fn page(ctx: &Ctx, status: StatusCode, errors: Vec<String>) -> Response {
    let session = ctx.session.as_ref();
    let view = PasswordPage {
        layout: Layout::new(ctx.lang, session),
        p: PasswordTexts::of(ctx.lang),
        forced: session.is_some_and(|s| s.user.must_change_password),
        login: session.map(|s| s.user.login.clone()).unwrap_or_default(),
        errors,
    };
    html(status, &view)
}

/// `GET /office/password`.
pub async fn form(Extension(ctx): Extension<Ctx>) -> Response {
    page(&ctx, StatusCode::OK, Vec::new())
}

/// What is wrong with a new password, in `lang` (empty: nothing).
pub fn rule_violations(
    lang: Lang,
    login: &str,
    current: &str,
    new: &str,
    repeat: &str,
) -> Vec<String> {
    let mut errors = Vec::new();
    if current.is_empty() {
        errors.push(lang.pick(
            "Bitte geben Sie Ihr bisheriges Passwort an.",
            "Please enter your current password.",
        ));
    }
    if new.chars().count() < password::MIN_LENGTH {
        errors.push(lang.pick(
            "Das neue Passwort braucht mindestens 12 Zeichen.",
            "The new password needs at least 12 characters.",
        ));
    } else if new.len() > MAX_PASSWORD_BYTES {
        errors.push(lang.pick(
            "Das neue Passwort darf höchstens 1024 Byte lang sein.",
            "The new password may be at most 1024 bytes long.",
        ));
    } else if new.trim().eq_ignore_ascii_case(login) {
        errors.push(lang.pick(
            "Das neue Passwort darf nicht Ihre Kennung sein.",
            "The new password must not be your login name.",
        ));
    } else if new == current {
        errors.push(lang.pick(
            "Das neue Passwort muss sich vom bisherigen unterscheiden.",
            "The new password must differ from the current one.",
        ));
    }
    if new != repeat {
        errors.push(lang.pick(
            "Die Wiederholung stimmt nicht mit dem neuen Passwort überein.",
            "The repetition does not match the new password.",
        ));
    }
    errors.into_iter().map(str::to_owned).collect()
}

/// `POST /office/password`.
pub async fn change(
    State(app): State<AppState>,
    headers: HeaderMap,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    match try_change(&app, &headers, &ctx).await {
        Ok(r) => r,
        Err(e) => ctx.error(e),
    }
}

async fn try_change(
    app: &AppState,
    headers: &HeaderMap,
    ctx: &Ctx,
) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let lang = ctx.lang;
    let login = session.user.login.clone();
    let current = Zeroizing::new(ctx.field("current")?.unwrap_or_default().to_owned());
    let new = Zeroizing::new(ctx.field("new")?.unwrap_or_default().to_owned());
    let repeat = Zeroizing::new(ctx.field("repeat")?.unwrap_or_default().to_owned());
    let wrong_current = lang.pick(
        "Das bisherige Passwort stimmt nicht.",
        "The current password is not correct.",
    );
    let mut errors = rule_violations(lang, &login, &current, &new, &repeat);
    if current.len() > MAX_PASSWORD_BYTES {
        errors.push(wrong_current.to_owned());
    }
    if !errors.is_empty() {
        return Ok(page(ctx, StatusCode::UNPROCESSABLE_ENTITY, errors));
    }
    let Ok(slot) = app.password_checks.slot().await else {
        let mut response = page(
            ctx,
            StatusCode::SERVICE_UNAVAILABLE,
            vec![lang.texts().login_busy.to_owned()],
        );
        retry_after(&mut response, BUSY_RETRY_AFTER_SECONDS);
        return Ok(response);
    };
    let client = login_throttle::client_key(ctx.client);
    if let Admission::Wait(wait) = app.store.admit_login(&login, &client, Utc::now()).await? {
        let mut response = page(
            ctx,
            StatusCode::TOO_MANY_REQUESTS,
            vec![lang.texts().login_locked.to_owned()],
        );
        retry_after(&mut response, wait.num_seconds().max(1));
        return Ok(response);
    }
    let phc = session.user.password_hash.clone();
    let (checked, new_text) = (current.clone(), new.clone());
    let outcome = slot
        .run(move |memory| {
            password::verify_in(&checked, &phc, memory).then(|| password::hash(&new_text))
        })
        .await
        .ok_or_else(|| OfficeError::Internal("password check failed".into()))?;
    let Some(hashed) = outcome else {
        tracing::info!("own password not changed: the current password was wrong");
        let errors = vec![wrong_current.to_owned()];
        return Ok(page(ctx, StatusCode::UNPROCESSABLE_ENTITY, errors));
    };
    let hashed = hashed.map_err(|e| OfficeError::Internal(e.to_string()))?;
    app.store.login_succeeded(&login, &client).await?;
    let keep = cookie(headers, session::SESSION_COOKIE).map(token_hash);
    if !app
        .store
        .set_password(&login, &hashed, false, keep.as_ref())
        .await?
    {
        return Err(OfficeError::NotFound);
    }
    app.store
        .append_admin_event(&AdminEvent {
            at: Utc::now(),
            actor: login.clone(),
            authority_id: Some(session.user.authority_id.clone()),
            action: AdminAction::PasswordSet,
            target: login,
            detail: None,
        })
        .await?;
    tracing::info!("own password set");
    Ok(see_other("/office"))
}
