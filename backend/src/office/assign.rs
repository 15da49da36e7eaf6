//! Assignment: `POST /office/cases/{record_id}/assignee` gives a case to a reviewer of
//! the same authority (or to nobody). Fields: `assignee` (a login, empty for nobody)
//! and `expected` (the assignee the page showed, empty for nobody): the store assigns
//! only if that is still current (compare-and-set, else 409), and writes an
//! `assignment` entry naming the acting reviewer into the append-only history.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Extension;
use chrono::Utc;

use super::error::{see_other, OfficeError};
use super::i18n::Lang;
use super::opening::own_case;
use super::views::{AssignmentView, Opt};
use super::Ctx;
use crate::state::AppState;
use crate::storage::{CaseRow, Role, SessionRow, UserRow};

/// The enabled reviewers of the session's authority, by login.
pub(super) async fn reviewers(
    app: &AppState,
    session: &SessionRow,
) -> Result<Vec<UserRow>, OfficeError> {
    let mut users: Vec<UserRow> = app
        .store
        .users()
        .await?
        .into_iter()
        .filter(|u| {
            u.authority_id == session.user.authority_id && u.role == Role::Reviewer && !u.disabled
        })
        .collect();
    users.sort_by(|a, b| a.login.cmp(&b.login));
    Ok(users)
}

/// A history line for an assignment.
pub(super) fn event_text(lang: Lang, to: Option<&str>) -> String {
    match to {
        Some(login) => format!("{} {login}", lang.pick("Zugewiesen an", "Assigned to")),
        None => lang
            .pick("Zuweisung aufgehoben", "Assignment removed")
            .to_owned(),
    }
}

/// What the case page shows about the assignment, with the form to change it.
pub(super) async fn view(
    app: &AppState,
    session: &SessionRow,
    case: &CaseRow,
    lang: Lang,
) -> Result<AssignmentView, OfficeError> {
    let current = case.assigned_to.clone().unwrap_or_default();
    let mut options = vec![Opt {
        value: String::new(),
        label: lang.pick("niemand", "nobody").to_owned(),
        selected: current.is_empty(),
    }];
    for u in reviewers(app, session).await? {
        let me = u.login == session.user.login;
        options.push(Opt {
            selected: u.login == current,
            label: if me {
                format!("{} ({})", u.login, lang.pick("ich", "me"))
            } else {
                u.login.clone()
            },
            value: u.login,
        });
    }
    Ok(AssignmentView {
        current: case
            .assigned_to
            .clone()
            .unwrap_or_else(|| lang.pick("niemand", "nobody").to_owned()),
        expected: current,
        options,
        action: format!("/office/cases/{}/assignee", case.record_id),
    })
}

/// `POST /office/cases/{record_id}/assignee`.
pub async fn set_assignee(
    State(app): State<AppState>,
    Path(record_id): Path<String>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    match try_set_assignee(&app, &record_id, &ctx).await {
        Ok(response) => response,
        Err(e) => ctx.error(e),
    }
}

async fn try_set_assignee(
    app: &AppState,
    record_id: &str,
    ctx: &Ctx,
) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let lang = ctx.lang;
    let detail = own_case(app, session, record_id).await?;
    let mut errors = Vec::new();
    let assignee = ctx.field("assignee")?.map(str::trim);
    let expected = ctx.field("expected")?.map(str::trim);
    if assignee.is_none() {
        errors.push(
            lang.pick(
                "Bitte wählen Sie, wem der Vorgang zugewiesen wird.",
                "Please choose whom to assign the case to.",
            )
            .to_owned(),
        );
    }
    if expected.is_none() {
        errors.push(
            lang.pick(
                "Die bisherige Zuweisung fehlt; bitte laden Sie den Vorgang neu.",
                "The previous assignment is missing; please reload the case.",
            )
            .to_owned(),
        );
    }
    let assignee = assignee.filter(|a| !a.is_empty());
    if let Some(login) = assignee {
        // Logins of other authorities, disabled users and other roles all get the same
        // answer as unknown ones: the form must not reveal who exists elsewhere.
        let known = reviewers(app, session)
            .await?
            .iter()
            .any(|u| u.login == login);
        if !known {
            errors.push(
                lang.pick(
                    "Diese Person gibt es in Ihrer Sachbearbeitung nicht.",
                    "There is no such reviewer in your authority.",
                )
                .to_owned(),
            );
        }
    }
    if !errors.is_empty() {
        return Err(OfficeError::BadRequest(errors));
    }
    let expected = expected.filter(|e| !e.is_empty());
    let assigned = app
        .store
        .assign_case(
            &detail.case.record_id,
            expected,
            assignee,
            &session.user.login,
            Utc::now(),
        )
        .await?;
    if !assigned {
        return Err(OfficeError::Conflict);
    }
    tracing::info!(record_id = %detail.case.record_id, "case assignment changed");
    Ok(see_other(&format!(
        "/office/cases/{}",
        detail.case.record_id
    )))
}
