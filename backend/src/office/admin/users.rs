//! The users page of an authority-admin: the authority's users; adding one with a
//! generated initial password (shown once, stored as an Argon2id hash by
//! [`crate::admin::user::add`]; it only lets the new user set their own); disabling
//! one — never oneself — after a confirmation. Under the authority's four-eyes rule a
//! new reviewer or authority-admin waits for a second admin ([`super::user_changes`]).
//! The page also lists the changes waiting for confirmation and other admins' recent
//! changes of user rights. Wrong input answers with the form again and a message per
//! problem; nothing is written then.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;

use super::account_texts::AccountTexts;
use super::user_changes;
use super::views::{DisablePage, UserCreatedPage, UserView, UsersPage};
use super::{admin_for, authority_name, failed, AdminTexts};
use crate::admin::user as admin_user;
use crate::admin::AdminError;
use crate::office::error::{see_other, OfficeError};
use crate::office::i18n::Lang;
use crate::office::views::{html, time, Layout, Opt};
use crate::office::Ctx;
use crate::state::AppState;
use crate::storage::{Role, StoreError, UserChangeKind, UserRow};

const ROLES: [Role; 4] = [
    Role::Reviewer,
    Role::AuthorityAdmin,
    Role::ItOperator,
    Role::Auditor,
];

/// The role select's options.
pub(super) fn role_options(lang: Lang, selected: &str) -> Vec<Opt> {
    ROLES
        .iter()
        .map(|r| Opt {
            value: r.as_str().to_owned(),
            label: lang.role(*r).to_owned(),
            selected: r.as_str() == selected,
        })
        .collect()
}

async fn page(
    app: &AppState,
    ctx: &Ctx,
    login: String,
    role: &str,
    errors: Vec<String>,
) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let lang = ctx.lang;
    let users = app
        .store
        .users()
        .await?
        .into_iter()
        .filter(|u| u.authority_id == session.user.authority_id)
        .map(|u| {
            let is_self = u.login == session.user.login;
            UserView {
                disable_link: (!is_self && !u.disabled)
                    .then(|| format!("/office/admin/users/{}/disable", u.login)),
                role_link: (!is_self && !u.disabled)
                    .then(|| format!("/office/admin/users/{}/role", u.login)),
                role: lang.role(u.role).to_owned(),
                disabled: u.disabled,
                created_at: time(u.created_at),
                is_self,
                login: u.login,
            }
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = UsersPage {
        layout: Layout::new(lang, Some(session)),
        a: AdminTexts::of(lang),
        authority: authority_name(app, session).await?,
        users,
        login,
        roles: role_options(lang, role),
        errors,
        acc: AccountTexts::of(lang),
        four_eyes: user_changes::four_eyes(app, session).await?,
        pending: user_changes::pending_views(app, session, lang).await?,
        notices: user_changes::notices(app, session, lang).await?,
    };
    Ok(html(status, &view))
}

/// `GET /office/admin/users`.
pub async fn list(State(app): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    page(
        &app,
        &ctx,
        String::new(),
        Role::Reviewer.as_str(),
        Vec::new(),
    )
    .await
    .unwrap_or_else(|e| ctx.error(e))
}

/// What is wrong with a new user's login and role, in `lang`.
fn check(lang: Lang, login: &str, role: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if login.trim().is_empty() {
        errors.push(
            lang.pick("Bitte geben Sie eine Kennung an.", "Please enter a login.")
                .to_owned(),
        );
    } else if login.chars().any(char::is_whitespace) {
        errors.push(
            lang.pick(
                "Die Kennung darf keine Leerzeichen enthalten.",
                "The login must not contain spaces.",
            )
            .to_owned(),
        );
    } else if admin_user::check_login(login).is_err() {
        errors.push(
            lang.pick(
                "Die Kennung darf nur Kleinbuchstaben a–z, Ziffern, „-“, „_“ und „.“ \
                 enthalten und höchstens 64 Zeichen lang sein.",
                "The login may contain only lower-case a–z, digits, “-”, “_” and “.”, \
                 and at most 64 characters.",
            )
            .to_owned(),
        );
    }
    if Role::parse(role).is_none() {
        errors.push(
            lang.pick(
                "Bitte wählen Sie eine der angebotenen Rollen.",
                "Please choose one of the offered roles.",
            )
            .to_owned(),
        );
    }
    errors
}

/// `POST /office/admin/users`: adds a user of the admin's authority.
pub async fn add(State(app): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    match try_add(&app, &ctx).await {
        Ok(r) => r,
        Err(e) => ctx.error(e),
    }
}

async fn try_add(app: &AppState, ctx: &Ctx) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let lang = ctx.lang;
    let login = ctx.field("login")?.unwrap_or_default().to_owned();
    let role_text = ctx.field("role")?.unwrap_or_default().to_owned();
    let shown: String = login.chars().take(64).collect();
    let errors = check(lang, &login, &role_text);
    let Some(role) = Role::parse(&role_text).filter(|_| errors.is_empty()) else {
        return page(app, ctx, shown, &role_text, errors).await;
    };
    let admin = admin_for(app, session)?;
    let password = crate::password::generate();
    let authority = session.user.authority_id.to_string();
    let adding = UserChangeKind::Add {
        password_hash: String::new(),
    };
    let pending =
        admin_user::needs_second_admin(user_changes::four_eyes(app, session).await?, &adding, role);
    let added = if pending {
        admin_user::request_change(
            &admin,
            &session.user.authority_id,
            &login,
            role,
            Some(&password),
        )
        .await
        .map(drop)
    } else {
        let first = admin_user::FirstLogin::SetOwnPassword;
        admin_user::add(&admin, &authority, &login, role, &password, first).await
    };
    match added {
        Ok(()) => {}
        Err(AdminError::Store(StoreError::AlreadyExists(_))) => {
            let message = lang.pick(
                "Diese Kennung ist bereits vergeben (oder wartet auf Bestätigung).",
                "This login is already taken (or waiting for confirmation).",
            );
            return page(app, ctx, shown, &role_text, vec![message.to_owned()]).await;
        }
        Err(e) => return Err(failed(e)),
    }
    tracing::info!(
        role = role.as_str(),
        pending,
        "user added in the back office"
    );
    let view = UserCreatedPage {
        layout: Layout::new(lang, Some(session)),
        a: AdminTexts::of(lang),
        login,
        role: lang.role(role).to_owned(),
        password: password.to_string(),
        u: AccountTexts::of(lang),
        pending,
    };
    Ok(html(StatusCode::OK, &view))
}

/// The user of the path if they belong to the admin's authority (else 404).
pub(super) async fn own_user(
    app: &AppState,
    ctx: &Ctx,
    login: &str,
) -> Result<UserRow, OfficeError> {
    let session = ctx.session()?;
    app.store
        .user(login)
        .await?
        .filter(|u| u.authority_id == session.user.authority_id)
        .ok_or(OfficeError::NotFound)
}

/// Why `user` may not be disabled by the signed-in admin, if so.
fn refusal(ctx: &Ctx, user: &UserRow) -> Option<String> {
    let lang = ctx.lang;
    let own = ctx.session.as_ref().map(|s| s.user.login.as_str());
    if own == Some(user.login.as_str()) {
        return Some(
            lang.pick(
                "Sie können sich nicht selbst deaktivieren.",
                "You cannot disable yourself.",
            )
            .to_owned(),
        );
    }
    user.disabled.then(|| {
        lang.pick(
            "Dieser Benutzer ist bereits deaktiviert.",
            "This user is already disabled.",
        )
        .to_owned()
    })
}

fn disable_page(ctx: &Ctx, user: &UserRow, errors: Vec<String>) -> Response {
    let lang = ctx.lang;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = DisablePage {
        layout: Layout::new(lang, ctx.session.as_ref()),
        a: AdminTexts::of(lang),
        login: user.login.clone(),
        role: lang.role(user.role).to_owned(),
        action: errors
            .is_empty()
            .then(|| format!("/office/admin/users/{}/disable", user.login)),
        errors,
    };
    html(status, &view)
}

/// `GET /office/admin/users/{login}/disable`.
pub async fn disable_form(
    State(app): State<AppState>,
    Path(login): Path<String>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    match own_user(&app, &ctx, &login).await {
        Ok(user) => {
            let errors = refusal(&ctx, &user).into_iter().collect();
            disable_page(&ctx, &user, errors)
        }
        Err(e) => ctx.error(e),
    }
}

/// `POST /office/admin/users/{login}/disable`.
pub async fn disable(
    State(app): State<AppState>,
    Path(login): Path<String>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    match try_disable(&app, &ctx, &login).await {
        Ok(r) => r,
        Err(e) => ctx.error(e),
    }
}

async fn try_disable(app: &AppState, ctx: &Ctx, login: &str) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let user = own_user(app, ctx, login).await?;
    if let Some(why) = refusal(ctx, &user) {
        return Ok(disable_page(ctx, &user, vec![why]));
    }
    let admin = admin_for(app, session)?;
    admin_user::disable(&admin, &user.login)
        .await
        .map_err(failed)?;
    tracing::info!("user disabled in the back office");
    Ok(see_other("/office/admin/users"))
}
