//! Role changes, the four-eyes queue and the notices about other admins' user changes.
//!
//! - `GET`/`POST /office/admin/users/{login}/role`: an authority-admin changes the role
//!   of another user of the authority (never their own: an admin making themselves a
//!   reviewer is exactly what must not go unnoticed). Under the four-eyes rule the
//!   change waits for a second admin.
//! - `POST /office/admin/user-changes/{id}/confirm` and `…/withdraw`: another admin of
//!   the authority confirms a waiting change (the requester cannot); either withdraws it.
//! - [`notices`]: the users page and the start page show every admin of the authority
//!   what others changed in user rights in the last [`NOTICE_DAYS`] days (new reviewers
//!   and admins, role changes, confirmations, the four-eyes switch) — from
//!   `admin_events`, so the CLI's changes show up too.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use chrono::{Duration, Utc};

use super::account_texts::AccountTexts;
use super::texts::action_label;
use super::users::{own_user, role_options};
use super::views::{NoticeView, PendingView, RoleChangePage};
use super::{admin_for, failed, AdminTexts};
use crate::admin::user as admin_user;
use crate::admin::AdminError;
use crate::office::error::{see_other, OfficeError};
use crate::office::i18n::Lang;
use crate::office::views::{html, time, Layout};
use crate::office::Ctx;
use crate::state::AppState;
use crate::storage::{
    AdminAction, AuditQuery, AuditSource, Confirmation, Role, SessionRow, StoreError,
    UserChangeKind, UserRow,
};

/// How far back the notices reach.
pub const NOTICE_DAYS: i64 = 30;

/// The most notices shown.
const NOTICE_LIMIT: u32 = 200;

/// What a change does, in `lang`.
pub(super) fn change_text(lang: Lang, kind: &UserChangeKind, role: Role) -> String {
    let u = AccountTexts::of(lang);
    let verb = match kind {
        UserChangeKind::Add { .. } => u.add_as,
        UserChangeKind::Role => u.role_to,
    };
    format!("{verb}: {}", lang.role(role))
}

/// Whether an admin event changes who may read cases or grant that.
fn about_rights(action: AdminAction, detail: Option<&str>) -> bool {
    match action {
        AdminAction::UserAdded => matches!(
            detail.and_then(Role::parse),
            Some(Role::Reviewer | Role::AuthorityAdmin)
        ),
        AdminAction::UserRoleChanged
        | AdminAction::UserChangeRequested
        | AdminAction::UserChangeConfirmed
        | AdminAction::FourEyesSet => true,
        _ => false,
    }
}

/// A role as the page language names it; an unknown name as stored.
fn role_text(lang: Lang, stored: &str) -> String {
    Role::parse(stored).map_or_else(|| stored.to_owned(), |r| lang.role(r).to_owned())
}

/// A change as stored in the trail (`add reviewer`, `role auditor`) in `lang`.
fn change_detail_text(lang: Lang, stored: &str) -> String {
    let u = AccountTexts::of(lang);
    match stored.split_once(' ') {
        Some(("add", role)) => format!("{}: {}", u.add_as, role_text(lang, role)),
        Some(("role", role)) => format!("{}: {}", u.role_to, role_text(lang, role)),
        _ => stored.to_owned(),
    }
}

/// An admin event's detail, which the trail keeps in stable technical words (roles,
/// `on`/`off`, `add reviewer`), as the page language says it.
fn detail_text(lang: Lang, action: AdminAction, stored: &str) -> String {
    match action {
        AdminAction::UserAdded => role_text(lang, stored),
        AdminAction::UserRoleChanged => match stored.split_once(" → ") {
            Some((old, new)) => format!("{} → {}", role_text(lang, old), role_text(lang, new)),
            None => stored.to_owned(),
        },
        AdminAction::UserChangeRequested | AdminAction::UserChangeWithdrawn => {
            change_detail_text(lang, stored)
        }
        AdminAction::UserChangeConfirmed => match stored.split_once(", requested by ") {
            Some((change, by)) => format!(
                "{}, {} {by}",
                change_detail_text(lang, change),
                lang.pick("beantragt von", "requested by")
            ),
            None => stored.to_owned(),
        },
        AdminAction::FourEyesSet => match stored {
            "on" => lang.pick("eingeschaltet", "on").to_owned(),
            "off" => lang.pick("ausgeschaltet", "off").to_owned(),
            other => other.to_owned(),
        },
        _ => stored.to_owned(),
    }
}

/// Other people's changes of user rights in the session's authority, newest first.
///
/// # Errors
/// [`OfficeError::Internal`] when the store fails.
pub async fn notices(
    app: &AppState,
    session: &SessionRow,
    lang: Lang,
) -> Result<Vec<NoticeView>, OfficeError> {
    let page = app
        .store
        .audit_page(&AuditQuery {
            authority_id: session.user.authority_id.clone(),
            sources: vec![AuditSource::Admin],
            actor: None,
            from: Some(Utc::now() - Duration::days(NOTICE_DAYS)),
            before: None,
            after: None,
            limit: NOTICE_LIMIT,
        })
        .await?;
    Ok(page
        .entries
        .into_iter()
        .filter(|e| e.actor != session.user.login)
        .filter_map(|e| {
            let action = AdminAction::parse(&e.action)?;
            about_rights(action, e.detail.as_deref()).then(|| NoticeView {
                at: time(e.at),
                actor: e.actor,
                action: action_label(lang, action).to_owned(),
                target: e.subject,
                detail: detail_text(lang, action, e.detail.as_deref().unwrap_or_default()),
            })
        })
        .collect())
}

/// The changes waiting in the session's authority, as the users page lists them.
///
/// # Errors
/// [`OfficeError::Internal`] when the store fails.
pub async fn pending_views(
    app: &AppState,
    session: &SessionRow,
    lang: Lang,
) -> Result<Vec<PendingView>, OfficeError> {
    Ok(app
        .store
        .pending_user_changes(&session.user.authority_id)
        .await?
        .into_iter()
        .map(|p| {
            let base = format!("/office/admin/user-changes/{}", p.id);
            PendingView {
                login: p.change.login.clone(),
                change: change_text(lang, &p.change.kind, p.change.role),
                confirm_action: (p.change.requested_by != session.user.login)
                    .then(|| format!("{base}/confirm")),
                withdraw_action: format!("{base}/withdraw"),
                requested_by: p.change.requested_by,
                requested_at: time(p.change.requested_at),
            }
        })
        .collect())
}

/// Whether the session's authority has the four-eyes rule.
pub(super) async fn four_eyes(app: &AppState, session: &SessionRow) -> Result<bool, OfficeError> {
    Ok(app
        .store
        .four_eyes(&session.user.authority_id)
        .await?
        .unwrap_or(false))
}

async fn role_page(
    app: &AppState,
    ctx: &Ctx,
    user: &UserRow,
    selected: &str,
    errors: Vec<String>,
) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let lang = ctx.lang;
    let u = AccountTexts::of(lang);
    let own = user.login == session.user.login;
    let mut errors = errors;
    if own && errors.is_empty() {
        errors.push(u.role_own.to_owned());
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = RoleChangePage {
        layout: Layout::new(lang, Some(session)),
        a: AdminTexts::of(lang),
        u,
        login: user.login.clone(),
        role: lang.role(user.role).to_owned(),
        roles: role_options(lang, selected),
        four_eyes: four_eyes(app, session).await?,
        action: (!own).then(|| format!("/office/admin/users/{}/role", user.login)),
        errors,
    };
    Ok(html(status, &view))
}

/// `GET /office/admin/users/{login}/role`.
pub async fn role_form(
    State(app): State<AppState>,
    Path(login): Path<String>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    let shown = async {
        let user = own_user(&app, &ctx, &login).await?;
        role_page(&app, &ctx, &user, user.role.as_str(), Vec::new()).await
    };
    shown.await.unwrap_or_else(|e| ctx.error(e))
}

/// `POST /office/admin/users/{login}/role`.
pub async fn set_role(
    State(app): State<AppState>,
    Path(login): Path<String>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    try_set_role(&app, &ctx, &login)
        .await
        .unwrap_or_else(|e| ctx.error(e))
}

async fn try_set_role(app: &AppState, ctx: &Ctx, login: &str) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let lang = ctx.lang;
    let user = own_user(app, ctx, login).await?;
    let text = ctx.field("role")?.unwrap_or_default().to_owned();
    let Some(role) = Role::parse(&text) else {
        let message = lang.pick(
            "Bitte wählen Sie eine der angebotenen Rollen.",
            "Please choose one of the offered roles.",
        );
        return role_page(
            app,
            ctx,
            &user,
            user.role.as_str(),
            vec![message.to_owned()],
        )
        .await;
    };
    if user.login == session.user.login {
        return role_page(app, ctx, &user, &text, Vec::new()).await;
    }
    if role == user.role {
        let same = AccountTexts::of(lang).role_same.to_owned();
        return role_page(app, ctx, &user, &text, vec![same]).await;
    }
    let admin = admin_for(app, session)?;
    if admin_user::needs_second_admin(four_eyes(app, session).await?, &UserChangeKind::Role, role) {
        match admin_user::request_change(&admin, &session.user.authority_id, login, role, None)
            .await
        {
            Ok(_) => {}
            Err(AdminError::Store(StoreError::AlreadyExists(_))) => {
                let message = lang.pick(
                    "Für diesen Benutzer wartet bereits eine Änderung auf Bestätigung.",
                    "A change for this user is already waiting for confirmation.",
                );
                return role_page(app, ctx, &user, &text, vec![message.to_owned()]).await;
            }
            Err(e) => return Err(failed(e)),
        }
        tracing::info!("role change requested in the back office (four eyes)");
    } else {
        admin_user::set_role(&admin, login, role)
            .await
            .map_err(failed)?;
        tracing::info!(role = role.as_str(), "role changed in the back office");
    }
    Ok(see_other("/office/admin/users"))
}

/// `POST /office/admin/user-changes/{id}/confirm`.
pub async fn confirm(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    decide(&app, &ctx, &id, true)
        .await
        .unwrap_or_else(|e| ctx.error(e))
}

/// `POST /office/admin/user-changes/{id}/withdraw`.
pub async fn withdraw(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    decide(&app, &ctx, &id, false)
        .await
        .unwrap_or_else(|e| ctx.error(e))
}

async fn decide(
    app: &AppState,
    ctx: &Ctx,
    id: &str,
    confirming: bool,
) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let u = AccountTexts::of(ctx.lang);
    let id: u64 = id.parse().map_err(|_| OfficeError::NotFound)?;
    let admin = admin_for(app, session)?;
    let authority = &session.user.authority_id;
    if !confirming {
        return match admin_user::withdraw_change(&admin, authority, id)
            .await
            .map_err(failed)?
        {
            Some(_) => Ok(see_other("/office/admin/users")),
            None => Err(OfficeError::NotFound),
        };
    }
    match admin_user::confirm_change(&admin, authority, id)
        .await
        .map_err(failed)?
    {
        Confirmation::Applied(_) => {
            tracing::info!("user change confirmed by a second admin");
            Ok(see_other("/office/admin/users"))
        }
        Confirmation::NotFound => Err(OfficeError::NotFound),
        Confirmation::OwnRequest => Err(OfficeError::Unprocessable(vec![u.confirm_own.to_owned()])),
        Confirmation::Stale => Err(OfficeError::Unprocessable(vec![u.stale.to_owned()])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_details_read_in_the_page_language() {
        let cases = [
            (
                AdminAction::UserAdded,
                "reviewer",
                "Sachbearbeitung",
                "Reviewer",
            ),
            (
                AdminAction::UserRoleChanged,
                "auditor → authority-admin",
                "Revision → Behördenadministration",
                "Auditor → Authority administrator",
            ),
            (
                AdminAction::UserChangeRequested,
                "add reviewer",
                "Anlegen als: Sachbearbeitung",
                "Add as: Reviewer",
            ),
            (
                AdminAction::UserChangeConfirmed,
                "role auditor, requested by m.admin",
                "Rolle wird: Revision, beantragt von m.admin",
                "Role becomes: Auditor, requested by m.admin",
            ),
            (AdminAction::FourEyesSet, "on", "eingeschaltet", "on"),
            (AdminAction::UserAdded, "made-up", "made-up", "made-up"),
            (AdminAction::KitRevoked, "any text", "any text", "any text"),
        ];
        for (action, stored, de, en) in cases {
            assert_eq!(detail_text(Lang::De, action, stored), de, "{stored}");
            assert_eq!(detail_text(Lang::En, action, stored), en, "{stored}");
        }
    }
}
